"""Every writer takes the writers' lock first, before it reads what it writes from or
touches a row: API writes, `dossier import`, the demo loader, `dossier generate` and
migrations.

The lock is the `content_version` row on PostgreSQL (every content write's triggers take
it, so a writer that took a row first and it second could deadlock with one holding them
the other way round) and the database's write lock (`BEGIN IMMEDIATE`) on SQLite. Each
test holds the lock as an API write does, starts a bulk writer in a thread, waits until
it is blocked, writes something it will collide with, and commits: the bulk writer must
then read the committed row and go through, not deadlock or fail on a duplicate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.content.writes import create_item
from app.db import make_engine, make_session_factory, session_scope
from app.generate import DEFAULT_SEED
from app.generate.content import Plan
from app.generate.generator import generate
from app.migrations import HEAD_REVISION, current_revision, upgrade_connection, upgrade_to_head
from app.models import Article, Topic
from app.rest.admin_support import lock_for_write
from app.transfer import import_records
from tests.support import backend_of, empty_tables

TINY = 0.001
# The revision before the newest: the newest (PostgreSQL's accent folding) rewrites every
# search document's vector.
PREVIOUS_REVISION = "e08422a35171"
BOUND_S = 30  # no test here waits longer than this for anything


def _libpq_url(engine: Engine) -> str:
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _waiting_locks(engine: Engine) -> int:
    with psycopg.connect(_libpq_url(engine), autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0


def _stop_backends(engine: Engine) -> None:
    """Last resort of a test gone wrong: end every other session on the test database."""
    with psycopg.connect(_libpq_url(engine), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


class _Statements:
    """The statements an engine sends (SQLite: to see the bulk writer reach its lock)."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement)

    def reached_a_write(self) -> bool:
        return any(s.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE")) for s in self.seen)


def _wait_until_blocked(engine: Engine, statements: _Statements) -> None:
    """Until the bulk writer waits on a lock (PostgreSQL: pg_locks says so; SQLite: it
    sent its first write or BEGIN IMMEDIATE, which waits on the busy timeout)."""
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        if engine.dialect.name == "postgresql":
            if _waiting_locks(engine) > 0:
                return
        elif statements.reached_a_write():
            time.sleep(0.3)  # from sending the statement to waiting in it
            return
        time.sleep(0.05)
    pytest.fail("the bulk writer never reached a lock")


@contextmanager
def _holding_the_writers_lock(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that has taken the lock as an API write does (`lock_for_write`), bounded
    on PostgreSQL by a lock timeout so a deadlock under the old order cannot hang."""
    session = factory()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = '{BOUND_S}s'"))
        lock_for_write(session)
        yield session
    finally:
        session.rollback()
        session.close()


def _in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", work()))
        except BaseException as exc:
            outcome.append(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _finish(thread: threading.Thread, outcome: list[Any], engine: Engine) -> Any:
    thread.join(timeout=BOUND_S)
    if thread.is_alive():
        if engine.dialect.name == "postgresql":
            _stop_backends(engine)
        thread.join(timeout=BOUND_S)
        pytest.fail("the bulk writer did not finish")
    ((status, value),) = outcome
    if status == "error":
        raise value
    return value


@pytest.fixture
def bulk_engine(app: Any, database_url: str) -> Iterator[Engine]:
    """A second engine on the test database, as a CLI command in another process has."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
    empty_tables(app.state.engine, truncate=True)  # thousands of generated rows


def test_generate_waits_for_the_writers_lock_before_reading_ids(
    session_factory: sessionmaker[Session], bulk_engine: Engine
) -> None:
    """Generated ids continue after each table's largest. Read before the lock, they would
    collide with an article an API write adds meanwhile (PostgreSQL: the write waits on the
    generator's uncommitted row while holding the lock the generator's triggers need: a
    deadlock; SQLite: a duplicate id once the generator gets to write)."""
    statements = _Statements(bulk_engine)
    with _holding_the_writers_lock(session_factory) as writer:
        thread, outcome = _in_thread(lambda: generate(bulk_engine, TINY, DEFAULT_SEED))
        _wait_until_blocked(bulk_engine, statements)
        meanwhile = create_item(writer, "articles", {"title": "Written meanwhile"}, "editor")
        writer.commit()
        written_id = meanwhile.id
    report = _finish(thread, outcome, bulk_engine)
    assert report.rows["event"] == Plan.for_factor(TINY).events
    with session_factory() as session:
        assert session.scalar(select(Article.slug).where(col(Article.id) == written_id)) == (
            "written-meanwhile"
        )
        first_generated = session.scalar(
            select(func.min(col(Article.id))).where(col(Article.slug).like("gen-%"))
        )
        assert first_generated == written_id + 1


def test_import_waits_for_the_writers_lock_before_reading_slugs(
    session_factory: sessionmaker[Session], bulk_engine: Engine
) -> None:
    """An import upserts by slug: a topic an API write creates while the import waits is
    updated by it, not inserted a second time (a 409-like failure of the whole file)."""
    statements = _Statements(bulk_engine)
    line = orjson.dumps({"type": "topic", "data": {"slug": "kidnapping", "name": "Kidnapping"}})

    def run_import() -> int:
        with session_scope(make_session_factory(bulk_engine)) as session:
            return import_records(session, [line]).changed

    with _holding_the_writers_lock(session_factory) as writer:
        thread, outcome = _in_thread(run_import)
        _wait_until_blocked(bulk_engine, statements)
        create_item(
            writer, "topics", {"slug": "kidnapping", "name": "kidnapping (draft)"}, "editor"
        )
        writer.commit()
    assert _finish(thread, outcome, bulk_engine) == 1
    with session_factory() as session:
        assert session.scalars(select(Topic.name)).all() == ["Kidnapping"]


def test_a_pending_migration_waits_for_the_writers_lock(
    empty_database_url: str, database_url: str
) -> None:
    """`dossier serve` migrates a live database while other servers write to it: a
    migration that rewrites content takes the writers' lock before its first UPDATE, as
    every writer does, so it waits for an API write in progress and then goes through.
    PostgreSQL only: on SQLite the migration's own `BEGIN IMMEDIATE` is that lock."""
    if backend_of(database_url) != "postgresql":
        pytest.skip("SQLite's migration takes the database's write lock before anything")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            upgrade_connection(connection, PREVIOUS_REVISION)
        factory = make_session_factory(engine)
        with _holding_the_writers_lock(factory) as writer:
            thread, outcome = _in_thread(lambda: upgrade_to_head(empty_database_url))
            deadline = time.monotonic() + BOUND_S
            while _waiting_locks(engine) == 0:
                if time.monotonic() > deadline or outcome:
                    pytest.fail(f"the migration never waited for the writers' lock: {outcome}")
                time.sleep(0.05)
            assert current_revision(engine) == PREVIOUS_REVISION  # still waiting
            # As a server still running the previous release writes: in SQL, since the
            # models have columns the previous revision lacks (the sort keys).
            writer.execute(
                text(
                    "INSERT INTO topic (slug, created_at, updated_at, version, name) "
                    "VALUES ('written-meanwhile', now(), now(), 1, 'Written meanwhile')"
                )
            )
            writer.commit()
        _finish(thread, outcome, engine)
        assert current_revision(engine) == HEAD_REVISION
        with factory() as session:
            # The migration read the row committed while it waited: it filled its key.
            assert session.execute(select(Topic.name, Topic.name_key)).all() == [
                ("Written meanwhile", "written meanwhile")
            ]
    finally:
        engine.dispose()
