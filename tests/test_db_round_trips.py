"""What a read costs in round trips to PostgreSQL, and how pooled connections are checked.

Read on the wire: libpq's own trace of the messages psycopg sends (`PQtrace`), no mocks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

import app.db
from app.content import kept
from app.db import make_engine, make_read_session_factory, make_session_factory, session_scope
from app.main import create_app
from tests.support import make_settings, terminate_connections


@pytest.fixture
def pg_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("round trips to a PostgreSQL server")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class Wire:
    """The frontend messages (what the client sent) of every connection the engine opens."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.path = path
        self._file = path.open("w")
        event.listen(engine, "connect", self._trace)

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.pgconn.trace(self._file.fileno())
        dbapi_connection.pgconn.set_trace_flags(
            psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
        )

    def sent(self) -> list[str]:
        """`Query "<text>"` for a simple query, `Parse ...` and `Bind ...` for extended ones."""
        self._file.flush()
        lines = self.path.read_text().splitlines()
        return [
            " ".join(field.strip() for field in fields[2:])
            for fields in (line.split("\t") for line in lines)
            if fields[0] == "F" and fields[2] in ("Query", "Parse", "Bind")
        ]

    def mark(self) -> int:
        return len(self.sent())


def test_a_postgresql_read_sends_its_statements_and_nothing_else(
    pg_engine: Engine, tmp_path: Path
) -> None:
    """No ping, no BEGIN, no COMMIT around a read: each was a round trip (a GraphQL query
    took seven, four of them its statements)."""
    wire = Wire(pg_engine, tmp_path / "wire.log")
    reads = make_read_session_factory(pg_engine)
    with session_scope(reads) as session:
        session.execute(text("SELECT 1")).all()
    before = wire.mark()
    with session_scope(reads) as session:
        session.execute(text("SELECT 2")).all()
        session.execute(text("SELECT 3")).all()
    assert wire.sent()[before:] == ['Query "SELECT 2"', 'Query "SELECT 3"']

    # Writes keep their transaction, and still no ping.
    before = wire.mark()
    with session_scope(make_session_factory(pg_engine)) as session:
        session.execute(text("SELECT 4")).all()
    begin, *rest = wire.sent()[before:]
    assert begin.startswith('Query "BEGIN')
    assert rest == ['Query "SELECT 4"', 'Query "COMMIT"']


def test_a_connection_idle_for_long_is_pinged_before_reuse(
    pg_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = Wire(pg_engine, tmp_path / "wire.log")
    reads = make_read_session_factory(pg_engine)
    with session_scope(reads) as session:
        session.execute(text("SELECT 1")).all()
    monkeypatch.setattr(app.db, "CHECK_AFTER_IDLE_S", 0.0)
    before = wire.mark()
    with session_scope(reads) as session:
        session.execute(text("SELECT 2")).all()
    assert wire.sent()[before:][0] == 'Query ";"'


def test_connections_cut_by_the_server_are_replaced_before_use(pg_engine: Engine) -> None:
    """A restart or `pg_terminate_backend` leaves the pool holding dead connections: the
    socket shows it, and the pool swaps them for new ones instead of failing a request."""
    reads = make_read_session_factory(pg_engine)
    with session_scope(reads) as session:
        before = session.execute(text("SELECT pg_backend_pid()")).scalar()
    terminate_connections(str(pg_engine.url))
    for factory in (reads, make_session_factory(pg_engine)):
        with session_scope(factory) as session:
            after = session.execute(text("SELECT pg_backend_pid()")).scalar()
        assert after != before


def test_read_sessions_run_kept_statements_on_the_direct_path(database_url: str) -> None:
    """`kept.run` goes through SQLAlchemy's full execution path when a connection carries
    event listeners; an engine made with `execution_options(isolation_level=...)` does, and
    cost reads more than the round trips it saved."""
    engine = make_engine(database_url)
    try:
        with session_scope(make_read_session_factory(engine)) as session:
            assert not kept._has_events(session.connection())
    finally:
        engine.dispose()


def test_reads_answer_503_when_postgresql_is_unreachable() -> None:
    """A read session connects as it is made (to set autocommit): a database that cannot be
    reached is a 503 problem with Retry-After there too, on REST and GraphQL alike."""
    app = create_app(make_settings("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
    client = TestClient(app, raise_server_exceptions=False)
    query = "{ topics(first: 1) { edges { node { name } } } }"
    for response in (
        client.get("/api/v1/events"),
        client.get("/graphql", params={"query": query}),
        client.post("/graphql", json={"query": query}),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]


def test_more_concurrent_reads_than_connections_never_stop_the_event_loop(
    pg_engine: Engine, database_url: str
) -> None:
    """A PostgreSQL read session takes its connection as it is made. Made on the event
    loop, one waiting for the pool stopped the loop, and with it the requests holding the
    connections: eight reads over three connections froze a worker for 25 s."""
    import asyncio

    import httpx

    app = create_app(make_settings(database_url, db_pool_size=1, response_cache=False))

    async def reads() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(*(client.get("/api/v1/topics") for _ in range(8)))
        return [answer.status_code for answer in answers]

    started = time.monotonic()
    try:
        assert asyncio.run(reads()) == [200] * 8
    finally:
        app.state.engine.dispose()
    assert time.monotonic() - started < 4


def test_many_concurrent_reads_over_few_threads_and_connections_all_succeed(
    pg_engine: Engine, database_url: str
) -> None:
    """Each PostgreSQL read took its connection in one worker thread, then waited for
    another to run: with two threads and a few connections, the requests holding
    connections and the threads waiting for one stopped each other until the pool timed
    out (503s from ~17 concurrent reads on the defaults). Now a request takes its
    connection in the thread that uses it."""
    import asyncio

    import anyio.to_thread
    import httpx

    app = create_app(make_settings(database_url, db_pool_size=1, response_cache=False))

    async def reads() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2  # as the lifespan sets
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(
                *(client.get(f"/api/v1/topics?limit={n}") for n in range(1, 31))
            )
        return [answer.status_code for answer in answers]

    started = time.monotonic()
    try:
        assert asyncio.run(reads()) == [200] * 30
    finally:
        app.state.engine.dispose()
    assert time.monotonic() - started < 4
