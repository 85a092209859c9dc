"""Cache coherence across workers: two server processes, one database, one Redis.

Each worker caches public GET responses in its own memory; a committed write purges its
own cache and is broadcast on a Redis pub/sub channel to every other worker. These tests
run two real server processes (separate interpreters, like `dossier serve --workers 2`)
on the test database and a channel of their own, and check:

- a write through one worker is visible through the other's cached reads within
  `BOUND` (1 s; in practice a few milliseconds: the purge is published right after the
  commit and applied by the listener thread on arrival);
- a worker that cannot reach Redis serves no cached response at all (it might have missed
  a purge), and once Redis is back it clears everything and caches again.

A change made directly in the database, behind the API's back, is invisible through a
warm cache: that is how the tests tell a cached answer from a fresh one.

Needs Redis at 127.0.0.1:6379 (skipped without it, failed under CI=true).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.content.writes import upsert_item
from app.db import session_scope
from app.http.auth import create_api_key
from tests.conftest import AppFactory

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BOUND = 1.0  # seconds: the documented bound on cross-worker staleness after a write
LOST_REDIS_BOUND = 3.0  # seconds for a worker to notice a closed Redis connection


def _redis_problem() -> str | None:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                return "Redis did not answer PING"
    except OSError as exc:
        return f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} ({exc})"
    return None


@pytest.fixture(autouse=True)
def _require_redis() -> None:
    problem = _redis_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires Redis: {problem}", pytrace=False)
    pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """A TCP relay to Redis that the test can cut (closing every connection) and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        # Set: relay nothing, close nothing (a Redis stopped with SIGSTOP, a silent network).
        self.frozen = threading.Event()
        self.start()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and close every relayed connection (like a Redis restart)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop()

    def drop(self) -> None:
        """Close every relayed connection but keep listening: a blip, reconnecting works."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._server is not server:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.01)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class Worker:
    """One `uvicorn app.main:create_app` process on a free port."""

    def __init__(
        self, database_url: str, redis_url: str, channel: str, log: Path, version_poll: float = 0
    ) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_CHANNEL": channel,
            "LOG_LEVEL": "WARNING",
            # Off unless asked: the tests below tell cached answers from fresh ones by
            # changes made behind the API's back, which the poll would purge.
            "CACHE_VERSION_POLL": str(version_poll),
        }
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"),
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.channel = channel
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, log.read_text()
            try:
                if self.http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "worker did not start:\n" + log.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def cluster(
    app_factory: AppFactory, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """`cluster(redis_url=...)` starts a worker over the (emptied) test database; all on
    one fresh channel. Yields the factory; `cluster.app` is an in-process app for arranging
    rows and keys."""
    app = app_factory(response_cache=False)
    with session_scope(app.state.session_factory) as session:
        upsert_item(session, "topics", {"slug": PROBE, "name": "probe"}, "test")
    channel = f"dossier-test:{uuid.uuid4().hex}"
    workers: list[Worker] = []

    def start(
        redis_url: str = f"redis://{REDIS_HOST}:{REDIS_PORT}/0", version_poll: float = 0
    ) -> Worker:
        log = tmp_path / f"worker{len(workers)}.log"
        worker = Worker(database_url, redis_url, channel, log, version_poll)
        workers.append(worker)
        return worker

    start.app = app  # type: ignore[attr-defined]
    yield start
    for worker in workers:
        worker.stop()


def _admin(app: FastAPI) -> dict[str, str]:
    with session_scope(app.state.session_factory) as session:
        key = create_api_key(session, f"coherence-{uuid.uuid4().hex[:8]}", ["admin"])
    return {"Authorization": f"Bearer {key}"}


def _behind_the_apis_back(app: FastAPI, slug: str, name: str) -> None:
    """Change a topic's name in the database directly: no purge, no broadcast."""
    with session_scope(app.state.session_factory) as session:
        session.execute(
            text("UPDATE topic SET name = :name WHERE slug = :slug"), {"name": name, "slug": slug}
        )


def _name(worker: Worker, slug: str) -> str:
    response = worker.http.get(f"/api/v1/topics/{slug}")
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def _shows(worker: Worker, slug: str, name: str, listed: bool = False) -> Callable[[], bool]:
    """A predicate: the worker shows topic `slug` named `name` (in its list if `listed`)."""
    if listed:
        return lambda: _listed(worker, slug) == name
    return lambda: _name(worker, slug) == name


def _wait_until(predicate: Callable[[], bool], bound: float, what: str) -> float:
    """Poll `predicate` until true; return the seconds it took (fails past `bound`)."""
    start = time.monotonic()
    while not predicate():
        elapsed = time.monotonic() - start
        assert elapsed < bound, f"{what}: not within {bound} s"
        time.sleep(0.005)
    return time.monotonic() - start


PROBE = "cache-probe"


def _listed(worker: Worker, slug: str) -> str | None:
    """The name `slug` has in the worker's topic list."""
    response = worker.http.get("/api/v1/topics", params={"limit": 100})
    assert response.status_code == 200, response.text
    return next((t["name"] for t in response.json()["data"] if t["slug"] == slug), None)


def _caching(worker: Worker, app: FastAPI) -> bool:
    """True when `worker` answers from its cache: a direct database change to the probe
    topic stays unseen. (The probe topic alone is ever changed by probing.)"""
    before = _name(worker, PROBE)
    _behind_the_apis_back(app, PROBE, uuid.uuid4().hex)
    return _name(worker, PROBE) == before


def test_a_write_through_one_worker_is_visible_through_the_other_within_the_bound(
    cluster: Callable[..., Worker],
) -> None:
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    a, b = cluster(), cluster()
    headers = _admin(app)
    created = a.http.post(
        "/api/v1/topics", json={"slug": "coherent", "name": "v0"}, headers=headers
    )
    assert created.status_code == 201, created.text

    # B caches (the listener subscribes shortly after start-up).
    _wait_until(lambda: _caching(b, app), 10, "worker B never cached")
    assert _listed(b, "coherent") == "v0"  # a list, cached too
    lags = []
    for n in range(1, 6):
        assert _name(b, "coherent") == f"v{n - 1}"  # warm B's item and list entries
        b.http.get("/api/v1/topics")
        patched = a.http.patch("/api/v1/topics/coherent", json={"name": f"v{n}"}, headers=headers)
        assert patched.status_code == 200, patched.text
        lags.append(_wait_until(_shows(b, "coherent", f"v{n}"), BOUND, "item"))
        _wait_until(_shows(b, "coherent", f"v{n}", listed=True), BOUND, "list")
    # Deletions and creations reach B's cached lists, GraphQL and feeds the same way.
    query = {"query": "{ topics(first: 10) { edges { node { slug } } } }"}
    assert b.http.get("/graphql", params=query).status_code == 200
    other = a.http.post(
        "/api/v1/topics", json={"slug": "second", "name": "Second"}, headers=headers
    )
    assert other.status_code == 201
    _wait_until(lambda: "second" in b.http.get("/graphql", params=query).text, BOUND, "graphql")
    assert a.http.delete("/api/v1/topics/second", headers=headers).status_code == 204
    _wait_until(lambda: b.http.get("/api/v1/topics/second").status_code == 404, BOUND, "delete")
    assert max(lags) < BOUND


def test_writes_behind_the_api_reach_every_workers_cache_within_the_version_poll(
    cluster: Callable[..., Worker],
) -> None:
    """`dossier import`, `dossier generate` or SQL purge nothing and publish nothing, but the
    triggers bump the topic type's version: each worker reads the versions every
    CACHE_VERSION_POLL seconds and purges the collections that moved, scheduled horizon
    included (a scheduled item written behind the API's back shows on time)."""
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    a, b = cluster(version_poll=0.2), cluster(version_poll=0.2)
    _wait_until(lambda: _name(a, PROBE) == _name(a, PROBE), 10, "worker A")
    for n in range(1, 4):
        for worker in (a, b):
            assert _name(worker, PROBE) == _name(worker, PROBE)  # cached
            worker.http.get("/api/v1/topics")
        _behind_the_apis_back(app, PROBE, f"polled {n}")
        for worker in (a, b):
            _wait_until(_shows(worker, PROBE, f"polled {n}"), 5, f"item, round {n}")
            _wait_until(_shows(worker, PROBE, f"polled {n}", listed=True), 5, f"list, round {n}")
    # A scheduled item written behind the API's back appears when its time comes.
    b.http.get("/api/v1/articles")  # B knows of nothing scheduled, and caches the list
    with session_scope(app.state.session_factory) as session:
        upsert_item(
            session,
            "articles",
            {
                "slug": "due-soon",
                "title": "Due soon",
                "status": "published",
                "published_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
            },
            "test",
        )
    assert "due-soon" not in b.http.get("/api/v1/articles").text
    _wait_until(lambda: "due-soon" in b.http.get("/api/v1/articles").text, 8, "scheduled article")


def test_an_item_scheduled_through_one_worker_appears_on_time_through_the_other(
    cluster: Callable[..., Worker],
) -> None:
    """A purge from another worker also resets this worker's scheduled horizon: B had
    found nothing scheduled, and would otherwise cache for the whole CACHE_MAX_AGE."""
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    a, b = cluster(), cluster()
    _wait_until(lambda: _caching(b, app), 10, "worker B never cached")
    assert b.http.get("/api/v1/articles").status_code == 200  # horizon: nothing scheduled
    due = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = a.http.post(
        "/api/v1/articles",
        json={
            "slug": "due-later",
            "title": "Due later",
            "status": "published",
            "published_at": due,
        },
        headers=_admin(app),
    )
    assert created.status_code == 201, created.text
    for _ in range(3):  # B refills its entry after the purge arrives
        assert "due-later" not in b.http.get("/api/v1/articles").text
        time.sleep(0.1)
    _wait_until(lambda: "due-later" in b.http.get("/api/v1/articles").text, 8, "scheduled article")


def test_a_worker_without_redis_serves_nothing_from_cache(cluster: Callable[..., Worker]) -> None:
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead_redis = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    with session_scope(app.state.session_factory) as session:
        upsert_item(session, "topics", {"slug": "lonely", "name": "v0"}, "test")
    lonely = cluster(redis_url=dead_redis)
    for n in range(1, 6):
        assert _name(lonely, "lonely") == f"v{n - 1}"
        assert _name(lonely, "lonely") == f"v{n - 1}"  # a second read: would be a hit
        _behind_the_apis_back(app, "lonely", f"v{n}")
        assert _name(lonely, "lonely") == f"v{n}"  # so it was not cached


def test_losing_redis_disables_the_cache_and_regaining_it_restores_coherence(
    cluster: Callable[..., Worker],
) -> None:
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    proxy = TcpProxy((REDIS_HOST, REDIS_PORT))
    a = cluster()
    b = cluster(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    headers = _admin(app)
    assert (
        a.http.post(
            "/api/v1/topics", json={"slug": "flaky", "name": "v0"}, headers=headers
        ).status_code
        == 201
    )
    _wait_until(lambda: _caching(b, app), 10, "worker B never cached")
    assert _name(b, "flaky") == "v0"  # cached now

    proxy.cut()  # B loses Redis; A keeps it
    _wait_until(lambda: not _caching(b, app), LOST_REDIS_BOUND, "B kept caching")
    # A write B cannot hear about: B shows it anyway, and keeps serving fresh reads.
    assert (
        a.http.patch("/api/v1/topics/flaky", json={"name": "v1"}, headers=headers).status_code
        == 200
    )
    assert _name(b, "flaky") == "v1"
    for n in range(2, 5):
        _behind_the_apis_back(app, "flaky", f"v{n}")
        assert _name(b, "flaky") == f"v{n}"
    _behind_the_apis_back(app, "flaky", "v1")

    proxy.start()  # Redis is back: B resubscribes (with backoff), then caches again...
    _wait_until(lambda: _caching(b, app), 15, "B never resumed caching")
    assert (
        a.http.patch("/api/v1/topics/flaky", json={"name": "v5"}, headers=headers).status_code
        == 200
    )
    _wait_until(lambda: _name(b, "flaky") == "v5", BOUND, "...and hears purges again")
    proxy.cut()


def test_a_dropped_redis_connection_clears_the_cache_even_if_reconnecting_works(
    cluster: Callable[..., Worker],
) -> None:
    """Redis (or anything between) drops B's connection and B reconnects at once: purges
    published in between are lost, so B must clear its cache rather than resubscribe
    quietly and keep it."""
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    proxy = TcpProxy((REDIS_HOST, REDIS_PORT))
    b = cluster(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    with session_scope(app.state.session_factory) as session:
        upsert_item(session, "topics", {"slug": "blip", "name": "v0"}, "test")
    for n in range(1, 4):
        _wait_until(lambda: _caching(b, app), 15, "B never cached")
        assert _name(b, "blip") == f"v{n - 1}"  # warm
        _behind_the_apis_back(app, "blip", f"v{n}")  # stands for a purge B will miss
        assert _name(b, "blip") == f"v{n - 1}"  # cached
        proxy.drop()
        _wait_until(_shows(b, "blip", f"v{n}"), LOST_REDIS_BOUND, "B stayed stale")
    proxy.cut()


def test_purges_a_worker_could_not_publish_are_delivered_once_redis_is_back(
    cluster: Callable[..., Worker],
) -> None:
    """Only B's link to Redis is down when B takes a write: A, which cached the item, cannot
    hear of it until B can publish again — then it must, not `CACHE_MAX_AGE` later. And
    the write itself is not held up by the unreachable Redis."""
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    proxy = TcpProxy((REDIS_HOST, REDIS_PORT))
    a = cluster()
    b = cluster(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    headers = _admin(app)
    assert (
        b.http.post(
            "/api/v1/topics", json={"slug": "late", "name": "v0"}, headers=headers
        ).status_code
        == 201
    )
    _wait_until(lambda: _caching(a, app), 10, "worker A never cached")
    assert _name(a, "late") == "v0"  # cached by A

    proxy.cut()
    started = time.monotonic()
    patched = b.http.patch("/api/v1/topics/late", json={"name": "v1"}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert time.monotonic() - started < BOUND, "an unreachable Redis held up the write"
    assert _name(b, "late") == "v1"
    assert _name(a, "late") == "v0"  # A cannot know yet: that is the outage's price

    proxy.start()  # B resubscribes within its reconnect backoff and publishes what it owes
    _wait_until(lambda: _name(a, "late") == "v1", 10, "A never heard of B's write")
    proxy.cut()


def test_a_message_that_is_no_purge_clears_the_cache_and_the_listener_lives_on(
    cluster: Callable[..., Worker],
) -> None:
    """`PUBLISH <channel> all` (an operator flushing by hand) killed every listener: the
    worker went on caching, deaf to the others' purges."""
    import redis

    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    a, b = cluster(), cluster()
    headers = _admin(app)
    assert (
        a.http.post(
            "/api/v1/topics", json={"slug": "odd", "name": "v0"}, headers=headers
        ).status_code
        == 201
    )
    _wait_until(lambda: _caching(b, app), 10, "worker B never cached")
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    for garbage in (b"all", b"5", b'{"keys": 1}', b"[1, 2]"):
        shown = _name(b, "odd")  # cached from here on
        hidden = uuid.uuid4().hex
        _behind_the_apis_back(app, "odd", hidden)
        assert _name(b, "odd") == shown
        client.publish(b.channel, garbage)
        _wait_until(_shows(b, "odd", hidden), BOUND, f"{garbage!r} cleared nothing")
        _wait_until(lambda: _caching(b, app), 10, "B stopped caching")
    assert client.pubsub_numsub(b.channel)[0][1] == 2  # both listeners are still there
    assert (
        a.http.patch("/api/v1/topics/odd", json={"name": "v1"}, headers=headers).status_code == 200
    )
    _wait_until(_shows(b, "odd", "v1"), BOUND, "B no longer hears purges")
    client.close()


def test_a_hung_redis_is_noticed_and_writes_are_not_held_up_by_it(
    cluster: Callable[..., Worker],
) -> None:
    """Redis stops answering but keeps its connections (SIGSTOP, a silent network): the
    listener PINGs, gives the channel up, and the worker stops caching; a write through it
    does not wait on Redis more than once."""
    app: FastAPI = cluster.app  # type: ignore[attr-defined]
    proxy = TcpProxy((REDIS_HOST, REDIS_PORT))
    b = cluster(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    headers = _admin(app)
    assert (
        b.http.post(
            "/api/v1/topics", json={"slug": "hung", "name": "v0"}, headers=headers
        ).status_code
        == 201
    )
    _wait_until(lambda: _caching(b, app), 10, "worker B never cached")
    proxy.frozen.set()
    # Within about the bound on staleness (it took up to 5 s: a PING after 2 s of silence,
    # 2 s for its answer, and a second's wait for messages).
    _wait_until(lambda: not _caching(b, app), 2.5, "B kept caching behind a hung Redis")
    for n in range(1, 4):
        started = time.monotonic()
        patched = b.http.patch("/api/v1/topics/hung", json={"name": f"v{n}"}, headers=headers)
        assert patched.status_code == 200, patched.text
        assert time.monotonic() - started < BOUND, "a hung Redis held up the write"
    proxy.frozen.clear()
    _wait_until(lambda: _caching(b, app), 15, "B never resumed caching")
    assert _name(b, "hung") == "v3"
    proxy.cut()


def test_the_channel_lost_warning_says_why(caplog: pytest.LogCaptureFixture) -> None:
    """A Redis that answers but refuses (here a database index out of range) was logged as
    'channel lost; retrying' every few seconds, without the reason."""
    from app.http.response_cache import RedisInvalidation, ResponseCache

    caplog.set_level("WARNING", logger="app.http.response_cache")
    invalidation = RedisInvalidation("redis://127.0.0.1:6379/9999", ResponseCache())
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "channel lost" not in caplog.text:
            time.sleep(0.05)
    finally:
        invalidation.stop()
    assert "cache invalidation channel lost (" in caplog.text
    assert "DB index is out of range" in caplog.text
