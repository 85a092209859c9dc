"""Kept statements (`app.content.kept`) run on the driver and return what SQLAlchemy would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    exc,
    insert,
    select,
)
from sqlalchemy.orm import Session

from app.content.kept import Kept, kept, run
from app.db import UTCDateTime, make_engine
from tests.support import count_queries

metadata = MetaData()
probe = Table(
    "kept_statement_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=True),
)
AT = [datetime(2026, 11, 1 + i % 20, 9, i % 60, 0, i, tzinfo=UTC) for i in range(40)]


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_database_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(probe),
            [
                {"id": i, "kind": "a" if i % 3 else "b", "flag": i % 2 == 0, "at": AT[i]}
                for i in range(40)
            ],
        )
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def statement() -> Kept:
    cache: dict[object, object] = {}
    made = kept(
        cache,
        "probe",
        lambda: (
            select(probe.c.id, probe.c.flag, probe.c.at)
            .where(
                probe.c.id.in_(bindparam("ids", expanding=True)),
                probe.c.kind == "a",  # a value the statement carries
                probe.c.at > bindparam("after", type_=UTCDateTime()),
            )
            .order_by(probe.c.at.desc(), probe.c.id)
        ),
    )
    assert isinstance(made, Kept)
    assert kept(cache, "probe", lambda: pytest.fail("made twice")) is made
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 17, 40])
def test_same_rows_as_sqlalchemy_for_every_list_size(engine: Engine, size: int) -> None:
    stmt = statement()
    values = {"ids": list(range(1, size + 1)), "after": datetime(2026, 11, 1, tzinfo=UTC)}
    with Session(engine) as session:
        direct = run(session, stmt, values)
        expected = session.connection().execute(stmt.stmt, values).all()
    assert [tuple(row) for row in direct] == [tuple(row) for row in expected]
    assert direct, "the probe selects something"
    for _, flag, at in direct:
        assert isinstance(flag, bool)
        assert at.utcoffset() == timedelta(0)


def test_timestamp_parameters_compare_as_sqlalchemy_binds_them(engine: Engine) -> None:
    """An aware timestamp in another zone, bound as SQLAlchemy would (SQLite compares text)."""
    stmt = statement()
    for after in (AT[10], AT[10].astimezone(UTC).replace(tzinfo=None), AT[25]):
        values = {"ids": list(range(40)), "after": after}
        with Session(engine) as session:
            assert [tuple(r) for r in run(session, stmt, values)] == [
                tuple(r) for r in session.connection().execute(stmt.stmt, values).all()
            ]


def test_empty_list_and_padding(engine: Engine) -> None:
    stmt = statement()
    after = datetime(2020, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        assert run(session, stmt, {"ids": [], "after": after}) == []
        # 3 ids run as a list of 4 (the last repeated): still each row once.
        rows = run(session, stmt, {"ids": [1, 2, 4], "after": after})
    assert sorted(row[0] for row in rows) == [1, 2, 4]


def test_postgresql_binds_a_list_as_one_array(engine: Engine) -> None:
    """On PostgreSQL an IN list is one array parameter: one text (one prepared statement)
    for every length, `NOT IN` included; elsewhere the padded lists."""
    stmt = Kept(
        select(probe.c.id)
        .where(
            probe.c.id.in_(bindparam("ids", expanding=True)),
            probe.c.kind.not_in(bindparam("kinds", expanding=True)),
        )
        .order_by(probe.c.id)
    )
    with count_queries(engine) as queries, Session(engine) as session:
        for size in (1, 3, 17):
            values = {"ids": list(range(size)), "kinds": ["b", "c"][: 1 + size % 2]}
            rows = run(session, stmt, values)
            expected = session.connection().execute(stmt.stmt, values).all()
            assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
            assert [r[0] for r in rows] == [i for i in range(size) if i % 3]
    kept_texts = set(queries.statements[0::2])
    if engine.dialect.name == "postgresql":
        assert len(kept_texts) == 1
        (text,) = kept_texts
        assert "id = ANY(" in text
        assert "kind <> ALL(" in text
        assert " IN " not in text
    else:
        assert len(kept_texts) == 3  # lists of 1, 4 and 32


def test_statements_are_counted_by_engine_listeners(engine: Engine) -> None:
    """With a `before_cursor_execute` listener (the tests' query counter) they go through
    SQLAlchemy's driver-SQL path, which fires it; results are the same."""
    stmt = statement()
    values = {"ids": list(range(12)), "after": datetime(2026, 11, 2, tzinfo=UTC)}
    with Session(engine) as session:
        quiet = run(session, stmt, values)
    with count_queries(engine) as queries, Session(engine) as session:
        counted = run(session, stmt, values)
    assert queries.count == 1
    assert "kept_statement_probe" in queries.statements[0]
    assert [tuple(r) for r in counted] == [tuple(r) for r in quiet]


def test_driver_errors_become_sqlalchemy_errors(engine: Engine) -> None:
    """A failing statement raises SQLAlchemy's DBAPIError, as the error handlers expect."""
    missing = Table("kept_statement_missing", MetaData(), Column("id", Integer))
    stmt = kept(
        {},
        "missing",
        lambda: select(missing.c.id).where(missing.c.id.in_(bindparam("ids", expanding=True))),
    )
    assert isinstance(stmt, Kept)
    with Session(engine) as session, pytest.raises(exc.DBAPIError):
        run(session, stmt, {"ids": [1]})


def test_past_the_limit_statements_are_made_and_not_kept(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    monkeypatch.setattr("app.content.kept.MEMO_LIMIT", 1)
    cache: dict[object, object] = {"full": object()}
    made = kept(cache, "new", lambda: select(probe.c.id).where(probe.c.id == bindparam("id")))
    assert not isinstance(made, Kept)
    assert "new" not in cache
    with Session(engine) as session:
        assert [tuple(r) for r in run(session, made, {"id": 3})] == [(3,)]
