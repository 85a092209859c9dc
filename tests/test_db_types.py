"""`UTCDateTime`: every timestamp comes back timezone-aware UTC, whatever the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text

from app.db import UTCDateTime, make_engine

metadata = MetaData()
stamps = Table(
    "utc_datetime_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=True),
)


@pytest.fixture
def probe(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_database_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def read(engine: Engine) -> list[datetime | None]:
    with engine.connect() as connection:
        return list(connection.execute(select(stamps.c.at).order_by(stamps.c.id)).scalars())


def test_written_values_come_back_aware_and_equal(probe: Engine) -> None:
    values = [
        datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 25, 20, 30, tzinfo=timezone(timedelta(hours=2))),  # 18:30 UTC
        datetime(2026, 11, 25, 18, 45),  # naive: taken as UTC
        None,
    ]
    with probe.begin() as connection:
        connection.execute(insert(stamps), [{"id": i, "at": v} for i, v in enumerate(values)])

    found = read(probe)

    assert found[:4] == [
        datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 45, tzinfo=UTC),
    ]
    assert found[4] is None
    assert all(v.utcoffset() == timedelta(0) for v in found[:4] if v is not None)


def test_text_stored_by_hand_on_sqlite(probe: Engine) -> None:
    """SQLite stores text: forms other than SQLAlchemy's own still read correctly."""
    if probe.dialect.name != "sqlite":
        pytest.skip("SQLite stores timestamps as text")
    stored = ["2026-11-25 18:00:00", "2026-11-25 18:00:00.5", "2026-11-25 18:00:00.000001"]
    with probe.begin() as connection:
        for i, value in enumerate(stored):
            connection.execute(
                text("INSERT INTO utc_datetime_probe (id, at) VALUES (:id, :at)"),
                {"id": i, "at": value},
            )

    assert read(probe) == [
        datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 0, 0, 500000, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 0, 0, 1, tzinfo=UTC),
    ]


def test_postgresql_sequential_scans_start_at_the_first_block(probe: Engine) -> None:
    """Search ranks the first MATCH_CAP matches of a very common word; a synchronized scan
    (starting wherever a concurrent one is) made identical requests rank different rows."""
    if probe.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with probe.connect() as connection:
        assert connection.execute(text("SHOW synchronize_seqscans")).scalar() == "off"


def test_postgresql_statements_are_not_jit_compiled(probe: Engine) -> None:
    """Statements over large tables pass jit_above_cost though they read a few rows: compiling
    them cost more than running them (search at `large`: 65 ms of 144 ms)."""
    if probe.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with probe.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar() == "off"


def test_postgresql_statements_run_without_parallel_workers(probe: Engine) -> None:
    """A page is the first rows of a walk that checks each row; parallel workers walked
    ahead of the page, each checking thousands of rows (`articles?q=israel` at `large`:
    190-240 ms, serial 12 ms)."""
    if probe.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with probe.connect() as connection:
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


def test_postgresql_sessions_run_in_utc_and_timestamps_need_no_conversion(probe: Engine) -> None:
    """Each connection sets `timezone=UTC`, so psycopg hands back `datetime.UTC` values that
    pass through unconverted; a session moved to another zone still reads UTC values."""
    if probe.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    at = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    with probe.begin() as connection:
        connection.execute(insert(stamps), [{"id": 1, "at": at}])
        assert connection.execute(text("SHOW timezone")).scalar() == "UTC"
        (found,) = connection.execute(select(stamps.c.at)).scalars()
        assert found == at
        assert found.tzinfo is UTC
        connection.execute(text("SET LOCAL timezone = 'America/New_York'"))
        (moved,) = connection.execute(select(stamps.c.at)).scalars()
        assert moved == at
        assert moved.tzinfo is UTC
