"""Engine, sessions and the column types every table shares."""

from __future__ import annotations

import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, event, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel, create_engine

from app.config import Settings

# Deterministic constraint names, so Alembic can drop and rename what it created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

# How the write path's DELETEs and UPDATEs of a few rows tell the session what they
# changed: by the rows' keys (RETURNING), not by testing every object the session holds
# against the WHERE clause (the default, "evaluate"). An import holds every item it has
# written: testing them all for each statement made the import slower with every line
# (10k items: 40% of its time).
SYNCHRONIZE = "fetch"


def utcnow() -> datetime:
    return datetime.now(UTC)


def database_message(exc: BaseException) -> str:
    """The first line of the driver's own message for `exc`, without SQLAlchemy's wrapping
    (the statement, its parameters, a link to its error docs)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def as_utc(value: Any) -> datetime:
    """A time the database computed (MIN, CASE, UNION), as an aware UTC datetime: SQLite
    returns such values as text, without a zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones, so values are stored there as naive UTC; PostgreSQL
    uses `timestamptz`. Naive input is taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """`process_result_value` after the driver's own conversion, as one function: a
        list with its includes reads over a thousand timestamps, and TypeDecorator's
        generic wrapper, then `replace(tzinfo=...)`, were a tenth of such a request.

        SQLite hands back the stored text (`2026-11-25 18:00:00.000000`, naive UTC): it
        becomes an aware datetime in one `fromisoformat` call; text in any other form takes
        the general path."""
        parse = self.impl_instance.result_processor(dialect, coltype)
        finish = self.process_result_value

        def process(value: Any) -> datetime | None:
            if parse is not None and value is not None:
                value = parse(value)
            return finish(value, dialect)

        if dialect.name != "sqlite":
            if parse is not None:
                return process

            # psycopg hands back aware datetimes in the session's zone, which the engine
            # sets to UTC (`make_engine`): already what this type returns.
            def from_driver(value: Any) -> datetime | None:
                if value is None or value.tzinfo is UTC:
                    return value  # type: ignore[no-any-return]
                return finish(value, dialect)

            return from_driver
        from_text = datetime.fromisoformat

        def from_sqlite(value: Any) -> datetime | None:
            if value is None:
                return None
            if value.__class__ is str and len(value) > 18 and value[10] == " ":
                try:
                    return from_text(value + "+00:00")
                except ValueError:
                    pass
            return process(value)

        return from_sqlite


def _use_wal(cursor: Any, timeout: float) -> None:
    """Put the database in WAL mode (kept in the file: once a connection has, the others'
    PRAGMA changes nothing). The switch needs the database to itself, and SQLite refuses it
    at once, not after its busy timeout, while another connection writes in the old mode:
    on a new database, replicas (or `dossier migrate` beside `dossier serve`) starting
    together failed with "database is locked" as they connected, while the first one
    created the schema. The switch is retried until the busy timeout has passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str, settings: Settings | None = None, **kwargs: Any) -> Engine:
    """Create an engine with the per-dialect settings Dossier relies on."""
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            _use_wal(cursor, connect_args["timeout"])
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    timeout = settings.db_statement_timeout_ms if settings else 5000
    pool_size = settings.db_pool_size if settings else 5
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_timeout=5,
        # synchronize_seqscans off: a sequential scan starts at the table's first block,
        # not wherever a concurrent one is. Search takes the first MATCH_CAP matches of a
        # very common word from such a scan; with synchronized scans the same request
        # ranked (and counted) different documents from one run to the next.
        # jit off: PostgreSQL compiles a statement whose estimated cost passes
        # jit_above_cost, which statements over a million rows do, though they read a few
        # thousand: search at `large` spent 65 ms of its 144 ms compiling 81 functions.
        # max_parallel_workers_per_gather 0: a page is the first rows of a walk that
        # checks each row (a word, a topic), and parallel workers walk ahead of what the
        # page takes, each checking thousands of rows: `articles?q=israel` at `large` read
        # 23,000 articles for 21 (190-240 ms; serial 12 ms), kidnapping's stream
        # `q=israel` 113 -> 17 ms. A walk that finds nothing, or a count not yet cached,
        # can take longer alone (`changes` total 300 -> 420 ms): such work is shared by
        # the requests running at once anyway.
        # timezone UTC: psycopg returns timestamps in the session's zone; in UTC they come
        # as `datetime.UTC` and need no conversion (a list with includes reads ~1,300),
        # whatever zone the server is configured with.
        connect_args={
            "options": (
                f"-c statement_timeout={timeout} -c synchronize_seqscans=off -c jit=off"
                " -c timezone=UTC -c max_parallel_workers_per_gather=0"
            ),
            "connect_timeout": 3,
        },
        **kwargs,
    )
    ping = engine.dialect.do_ping

    def check_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_RETURNED_AT, 0.0)
        if idle < CHECK_AFTER_IDLE_S and not _readable(dbapi_connection):
            return
        try:
            ping(dbapi_connection)
        except Exception as error:
            # The pool throws this connection away and checks out a new one (3 tries).
            raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error

    event.listen(engine, "connect", _mark_returned)
    event.listen(engine, "checkin", _mark_returned)
    event.listen(engine, "checkout", check_on_checkout)
    return engine


# A pooled PostgreSQL connection is pinged (a round trip) before reuse only when it has lain
# idle this long, or when its socket has something to read while nothing was asked, which
# is how a connection cut by the server (a restart, `pg_terminate_backend`) shows itself:
# the server's last words and the end of the stream. pgbouncer does the same for its server
# connections (`server_check_delay`, 30 s); go-sql-driver/mysql reads the socket the same
# way (`connCheck`). SQLAlchemy's `pool_pre_ping` pinged on every checkout: one round trip
# of the seven a GraphQL query took (ping, BEGIN, four statements, COMMIT).
CHECK_AFTER_IDLE_S = 10.0
_RETURNED_AT = "dossier_returned_at"


def _mark_returned(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED_AT] = time.monotonic()


def _readable(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has data or an end of stream waiting (no wait)."""
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # closed, or broken beyond a socket
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for public reads. On PostgreSQL they run in autocommit: under READ
    COMMITTED, the default, each statement of a transaction sees its own snapshot anyway, so
    the transaction bought nothing but its BEGIN and COMMIT, two round trips. (A statement
    that needs a transaction, like `SET LOCAL`, opens one: `open_transaction`.)"""
    if engine.dialect.name != "postgresql":
        return make_session_factory(engine)
    return sessionmaker(
        bind=engine, class_=_AutocommitSession, expire_on_commit=False, autoflush=False
    )


class _AutocommitSession(Session):
    """A session whose connection is in autocommit, set as the session takes it (at its
    first statement, in the thread that runs it). Not `engine.execution_options(
    isolation_level=...)`, the documented way: that engine carries an event listener, and a
    connection with listeners takes SQLAlchemy's full execution path, which `kept.run`
    skips otherwise (it cost more than the two round trips saved). Nor taking it when the
    session is made (`session.connection(execution_options=...)`): requests that held a
    connection while they waited for a worker thread, and threads that waited for a
    connection, stopped each other until the pool's timeout (503s past ~16 concurrent
    reads)."""

    def _connection_for_bind(
        self, engine: Any, execution_options: Any = None, **kw: Any
    ) -> Connection:
        transaction = self._transaction
        if transaction is None or engine not in transaction._connections:
            execution_options = {**(execution_options or {}), "isolation_level": "AUTOCOMMIT"}
        return super()._connection_for_bind(engine, execution_options, **kw)


def open_transaction(session: Session) -> None:
    """Begin a transaction on the session's connection if autocommit left it without one;
    the session's commit or rollback ends it (psycopg sends COMMIT or ROLLBACK whenever the
    server is in a transaction, autocommit or not)."""
    from psycopg.pq import TransactionStatus

    dbapi_connection: Any = session.connection().connection.dbapi_connection
    if (
        getattr(dbapi_connection, "autocommit", False)
        and dbapi_connection.info.transaction_status == TransactionStatus.IDLE
    ):
        session.execute(text("BEGIN"))


def take_writers_lock(connection: Connection) -> None:
    """Take the lock every writer of content takes first, before it reads what it writes
    from or touches any row: API writes, `dossier import`, the demo loader, `dossier
    generate`, migrations.

    PostgreSQL: the one `content_version` row, which the triggers of every content write
    update. A writer that locked rows first (an UPDATE, a COPY, an INSERT's foreign-key
    check or unique index entry) and that row second deadlocked with an API write holding
    them the other way round. SQLite: the database's write lock (`BEGIN IMMEDIATE`); a
    writer that read first and wrote later (ids or slugs it had read) could find another
    writer committed in between. Once per transaction: the caller keeps track."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT 1 FROM content_version WHERE id = 1 FOR UPDATE")
        return
    driver = connection.connection.driver_connection
    if not getattr(driver, "in_transaction", False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
