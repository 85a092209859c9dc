"""Concurrent writes never lose an update: row locks (PostgreSQL), a write lock (SQLite)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.admin_helpers import Keys


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory)


@contextmanager
def item_locked_elsewhere(
    session_factory: sessionmaker[Session], table: str, slug: str
) -> Iterator[None]:
    """Another transaction holds the item (PostgreSQL: its row; SQLite: the write lock)."""
    with session_factory() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        else:
            session.execute(
                text(f"SELECT id FROM {table} WHERE slug = :slug FOR UPDATE"), {"slug": slug}
            )
        yield
        session.commit()


def _in_threads(*calls: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    return [threads, results]


def _join(started: list[Any]) -> list[Any]:
    threads, results = started
    for thread in threads:
        thread.join(timeout=30)
    return list(results)


def test_concurrent_patches_both_land(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    created = client.post(
        "/api/v1/events",
        json={"title": "Panel", "starts_at": "2024-05-01T17:00:00Z"},
        headers=keys.writer,
    )
    url = f"/api/v1/events/{created.json()['slug']}"
    with item_locked_elsewhere(session_factory, "event", "panel"):
        started = _in_threads(
            lambda: client.patch(url, json={"subtitle": "From editor A"}, headers=keys.writer),
            lambda: client.patch(url, json={"summary": "From editor B"}, headers=keys.writer),
        )
        time.sleep(0.4)  # both requests are now waiting for the lock
    responses = _join(started)
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    final = client.get(url + "?preview=true", headers=keys.previewer).json()
    assert (final["subtitle"], final["summary"]) == ("From editor A", "From editor B")
    with session_factory() as session:  # each write saw the other's: two version bumps
        assert session.scalar(text("SELECT version FROM event WHERE slug = 'panel'")) == 3


def test_concurrent_patches_with_the_same_etag(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    created = client.post(
        "/api/v1/events",
        json={"title": "Panel", "starts_at": "2024-05-01T17:00:00Z"},
        headers=keys.writer,
    )
    url, etag = f"/api/v1/events/{created.json()['slug']}", created.headers["ETag"]
    headers = {**keys.writer, "If-Match": etag}
    with item_locked_elsewhere(session_factory, "event", "panel"):
        started = _in_threads(
            lambda: client.patch(url, json={"subtitle": "A"}, headers=headers),
            lambda: client.patch(url, json={"subtitle": "B"}, headers=headers),
        )
        time.sleep(0.4)
    responses = _join(started)
    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    final = client.get(url + "?preview=true", headers=keys.previewer)
    assert final.json()["subtitle"] == winner.json()["subtitle"]
    assert final.headers["ETag"] == winner.headers["ETag"]


def test_optimistic_increments_never_lose_one(client: TestClient, keys: Keys) -> None:
    """Writers racing with read-modify-write and If-Match: every success counts."""
    client.post("/api/v1/resources", json={"name": "Counter", "position": 0}, headers=keys.writer)
    url = "/api/v1/resources/counter"
    successes = [0]
    lock = threading.Lock()

    def editor() -> None:
        done = 0
        for _ in range(50):
            if done == 4:
                break
            current = client.get(url + "?preview=true", headers=keys.previewer)
            patch = {"position": current.json()["position"] + 1}
            response = client.patch(
                url, json=patch, headers={**keys.writer, "If-Match": current.headers["ETag"]}
            )
            assert response.status_code in (200, 412), response.text
            if response.status_code == 200:
                done += 1
        with lock:
            successes[0] += done

    _join(_in_threads(editor, editor, editor))
    assert successes[0] == 12
    assert client.get(url + "?preview=true", headers=keys.previewer).json()["position"] == 12
