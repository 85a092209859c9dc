"""Helpers for tests: throwaway databases on both backends, and SQL statement counting."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from sqlmodel import col

import app.models  # noqa: F401  (every table on the metadata)
from app.config import Settings
from app.content.types import ALL_TYPES
from app.content.visibility import public_since
from app.db import metadata
from app.models import SearchDocument, Tagging

BACKENDS = ("sqlite", "postgresql")
PG_ADMIN_URL = os.environ.get(
    "DOSSIER_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class QueryCount:
    """SQL statements seen by an engine inside `count_queries`."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __int__(self) -> int:
        return self.count


@contextmanager
def count_queries(engine: Engine) -> Iterator[QueryCount]:
    """Count the SQL statements `engine` executes in the block (for N+1 tests).

    with count_queries(client.app.state.engine) as queries:
        client.get(...)
    assert queries.count <= 5, queries.statements
    """
    counter = QueryCount()

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explained(
    engine: Engine,
    run: Callable[[], Any],
    wanted: Callable[[str], bool] = lambda _sql: True,
    avoid: tuple[str, ...] = (),
) -> list[tuple[str, str]]:
    """(SQL, EXPLAIN) of each statement `run()` sends to `engine` that is `wanted`.
    `avoid`: PostgreSQL plan kinds to turn off (`sort`, `seqscan`, `bitmapscan`): on a
    test's few rows it would rightly sort and scan whole tables, and the question is whether
    it can use an index at all (whether a condition or an order matches one)."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if wanted(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if not sqlite:
            for kind in avoid:
                connection.exec_driver_sql(f"SET enable_{kind} = off")
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        plans = [
            (sql, "\n".join(str(r[-1]) for r in connection.exec_driver_sql(explain + sql, params)))
            for sql, params in seen
        ]
        connection.rollback()
    return plans


def request_plans(
    api: Any, url: str, marker: str, headers: dict[str, str] | None = None
) -> list[str]:
    """EXPLAIN of each statement of the request to `url` whose SQL holds `marker`, with
    PostgreSQL's sorts and whole-table scans turned off (`explained`)."""

    def run() -> None:
        response = api.get(url, headers=headers or {})
        assert response.status_code == 200, response.text

    found = explained(api.app.state.engine, run, lambda sql: marker in sql, ("sort", "seqscan"))
    assert found, f"no statement of {url} holds {marker!r}"
    return [plan for _, plan in found]


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test app: the given database, everything else as configured, except
    the content-version poll (a thread reading the database each second would add its
    statements to the tests that count them); its own tests turn it on."""
    overrides.setdefault("cache_version_poll", 0)
    # Tests read the change log right after writing; its own tests set the delay.
    overrides.setdefault("changes_settle", 0)
    return Settings(database_url=database_url, **overrides)


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@cache
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (checked once per process)."""
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    reason = (
        f"PostgreSQL is not reachable at {make_url(PG_ADMIN_URL).render_as_string()} "
        f"({problem}); PostgreSQL tests skipped. Start it, or set DOSSIER_TEST_PG_ADMIN_URL."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true requires PostgreSQL: " + reason, pytrace=False)
    pytest.skip(reason)


class TestDatabases:
    """Throwaway databases for one session (or xdist worker); all dropped at the end.

    - `shared(backend, key, prepare)` builds a database once and hands out the same URL
      afterwards, so pytest re-creating a session fixture when it switches parameters
      costs nothing.
    - `acquire(backend)` / `release(url)` lend out empty databases. A released
      PostgreSQL database is wiped (its schema dropped and re-created, a few ms) and
      lent again, because CREATE and DROP DATABASE take a second or more on a busy
      server.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"dossier_test_{worker}_{uuid.uuid4().hex[:8]}"
        self._serial = 0
        self._created: list[str] = []
        self._shared: dict[tuple[str, str], str] = {}
        self._spare: list[str] = []  # wiped PostgreSQL databases, ready to lend

    def create(self, backend: str) -> str:
        """A brand-new, empty database."""
        self._serial += 1
        name = f"{self.prefix}_{self._serial}"
        if backend == "sqlite":
            url = f"sqlite:///{self.tmp_dir / name}.db"
        else:
            require_postgres()
            with _admin() as admin:
                admin.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        self._created.append(url)
        return url

    def shared(self, backend: str, key: str, prepare: Callable[[str], None]) -> str:
        if (backend, key) not in self._shared:
            url = self.create(backend)
            prepare(url)
            self._shared[backend, key] = url
        return self._shared[backend, key]

    def acquire(self, backend: str) -> str:
        """An empty database (no tables, not even alembic_version)."""
        if backend == "postgresql" and self._spare:
            return self._spare.pop()
        return self.create(backend)

    def release(self, url: str) -> None:
        """Give back a database from `acquire`; whatever the test did to it is undone."""
        if backend_of(url) == "sqlite":
            self.drop(url)
            return
        terminate_connections(url)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        self._spare.append(url)

    def drop(self, url: str) -> None:
        if url in self._created:
            self._created.remove(url)
        if backend_of(url) == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(make_url(url).database + suffix).unlink(missing_ok=True)  # type: ignore[operator]
            return
        terminate_connections(url)
        with _admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    def drop_all(self) -> None:
        self._spare.clear()
        for url in list(reversed(self._created)):
            self.drop(url)


def terminate_connections(url: str) -> None:
    """Kill every session on a PostgreSQL test database, as a server restart would, and
    wait until they have ended (up to 5 s each)."""
    with _admin() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": make_url(url).database},
        )


@contextmanager
def _admin() -> Iterator[Connection]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def empty_tables(engine: Engine, *, truncate: bool = False) -> None:
    """Delete every row of every content table (the schema, alembic_version and the
    content version stay) and restart the id sequences, so each test starts from the same
    empty database.

    On PostgreSQL the default is one round trip of DELETEs plus sequence resets: about
    3 ms for the few rows a test writes, where `TRUNCATE ... RESTART IDENTITY CASCADE`
    takes about 100 ms whatever the size. Pass `truncate=True` after a test that wrote
    thousands of rows.
    """
    # The content and type versions stay: they only ever go up (every DELETE below bumps
    # them).
    kept = ("content_version", "type_version")
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in kept]
    with engine.begin() as connection:
        if connection.dialect.name != "postgresql":
            # SQLite reuses max(rowid) + 1, so ids restart at 1 once the rows are gone.
            for table in tables:
                connection.execute(table.delete())
            return
        names = [f'"{table.name}"' for table in tables]
        if truncate:
            connection.exec_driver_sql(
                f"TRUNCATE TABLE {', '.join(names)} RESTART IDENTITY CASCADE"
            )
            return
        with_ids = [
            table.name
            for table in tables
            if "id" in table.c and table.c["id"].primary_key and table.c["id"].autoincrement
        ]
        resets = ", ".join(
            f"setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false)" for name in with_ids
        )
        deletes = "; ".join(f"DELETE FROM {name}" for name in names)
        connection.exec_driver_sql(f"{deletes}; SELECT {resets}")


def load_demo_into(url: str) -> None:
    """Migrate the database at `url` and load the demo dataset into it."""
    from app.db import make_engine, make_session_factory, session_scope
    from app.demo.loader import load_demo
    from app.migrations import upgrade_to_head

    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            load_demo(session)
    finally:
        engine.dispose()


def _visibility_rows(session: Session, ctype: Any) -> dict[int, Any]:
    """The type's rows by id, with the columns their visibility reads (`public_since`)
    only: migration tests ask on a schema downgraded to before columns the models have
    since gained."""
    names = ("id", "deleted_at", *(("status", "published_at") if ctype.publishable else ()))
    rows = session.execute(select(*(getattr(ctype.model, name) for name in names)))
    return {row.id: row for row in rows}


def tagging_mismatches(session: Session) -> list[tuple[str, int, Any, Any]]:
    """Every tagging whose `public_at` is not its item's `public_since` (what the write
    layer keeps there), as (type, id, stored, expected)."""
    wrong = []
    for ctype in ALL_TYPES:
        items = _visibility_rows(session, ctype)
        taggings = session.scalars(select(Tagging).where(col(Tagging.entity_type) == ctype.name))
        for tagging in taggings:
            item = items[tagging.entity_id]
            expected = public_since(ctype.model, partial(getattr, item))
            if tagging.public_at != expected:
                wrong.append((ctype.name, tagging.entity_id, tagging.public_at, expected))
    return wrong


def search_document_mismatches(session: Session) -> list[tuple[str, int, Any, Any]]:
    """Every search document whose (public_at, deleted) is not what the write layer gives
    its item now (`app.content.search.visibility_of`), as (type, id, stored, expected);
    a document without an item expects None, an item without a document is stored None.
    On SQLite, FTS5's index must also agree with the documents it indexes."""
    wrong = []
    for ctype in ALL_TYPES:
        items = _visibility_rows(session, ctype)
        documents = {
            d.entity_id: (d.public_at, d.deleted)
            for d in session.scalars(
                select(SearchDocument).where(col(SearchDocument.entity_type) == ctype.name)
            )
        }
        for entity_id in sorted(set(items) | set(documents)):
            item = items.get(entity_id)
            expected = (
                None
                if item is None
                else (
                    public_since(ctype.model, partial(getattr, item)),
                    item.deleted_at is not None,
                )
            )
            if documents.get(entity_id) != expected:
                wrong.append((ctype.name, entity_id, documents.get(entity_id), expected))
    if session.get_bind().dialect.name == "sqlite":
        # FTS5 checks that its index holds exactly the documents' words (rank 1: compared
        # with its content table, `search_document`); it fails as "malformed" otherwise.
        check = "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"
        try:
            with session.begin_nested():
                session.execute(text(check))
        except DatabaseError as error:
            wrong.append(("search_fts", 0, str(error.orig), "the documents' words"))
    return wrong


_VERSIONS = text(
    "SELECT 'content', version FROM content_version WHERE id = 1 "
    "UNION ALL SELECT name, version FROM type_version"
)


def version_bumps(connection: Connection, statement: str) -> dict[str, int]:
    """How many times `statement`, run in `connection`'s transaction, bumped each version it
    bumped: `content` for `content_version`, a type's name for its `type_version` row. Each
    bump adds one and is an update of the row, which PostgreSQL keeps until the commit: a
    row bumped once per row of a bulk statement, not once, made it cost the square of its
    rows (SQLite's triggers bump the types once a row, and `content` never)."""
    before = dict(connection.execute(_VERSIONS).tuples().all())
    connection.execute(text(statement))
    after = dict(connection.execute(_VERSIONS).tuples().all())
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def versions_deferred(connection: Connection) -> str | None:
    """PostgreSQL: the transaction's `dossier.versions_deferred` ('' once a SET LOCAL of an
    earlier transaction on the connection has ended, None if never set)."""
    setting = text("SELECT current_setting('dossier.versions_deferred', true)")
    return connection.execute(setting).scalar_one()
