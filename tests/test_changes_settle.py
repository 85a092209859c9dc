"""A partner walking `/api/v1/changes` never misses a change because of timing: writes
commit in the order of their times, and a poll lists only changes at least
`CHANGES_SETTLE` old (races a review reproduced: a write committing after a poll with
an earlier time, and an item going public between a poll's clock and its statement)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.queries import changes
from app.content.visibility import Viewer
from app.content.writes import create_item, lock_writers
from app.db import session_scope
from tests.admin_helpers import Keys
from tests.support import backend_of

SECRET = "test-secret"


def test_a_change_is_listed_once_it_has_settled(
    app_factory: Any, session_factory: sessionmaker[Session]
) -> None:
    with TestClient(app_factory(changes_settle=2.0)) as api:
        keys = Keys(api.app.state.session_factory)  # type: ignore[attr-defined]
        first = api.get("/api/v1/changes").json()
        assert first["data"] == []
        created = api.post("/api/v1/topics", json={"name": "Settling"}, headers=keys.writer)
        assert created.status_code == 201
        response = api.get("/api/v1/changes", params={"since": first["meta"]["next_since"]})
        poll = response.json()
        assert poll["data"] == []  # too fresh: a write stamped earlier may still commit
        assert poll["meta"]["total"] == 1  # counted, not yet listed
        # Cached until the change settles, 2 s after it was made (not after this poll).
        assert int(response.headers["cache-control"].split("max-age=")[1]) <= 1
        time.sleep(2.1)
        again = api.get("/api/v1/changes", params={"since": poll["meta"]["next_since"]}).json()
        assert [c["id"] for c in again["data"]] == [created.json()["id"]]


def test_a_poll_lists_nothing_that_became_public_after_its_clock(
    session_factory: sessionmaker[Session],
) -> None:
    """The poll's clock reads T-1 ms; an article scheduled at T and an edit at T+1 ms are
    both committed when its statement runs. Listing the edit alone moved the token past
    the article, which the next poll then never showed."""
    moment = datetime.now(UTC) + timedelta(seconds=0.3)
    with session_scope(session_factory) as session:
        create_item(
            session,
            "articles",
            {"title": "Scheduled", "status": "published", "published_at": moment.isoformat()},
            "test",
        )
    clock = moment - timedelta(milliseconds=1)  # the poll's clock, just before
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)
    with session_scope(session_factory) as session:
        create_item(session, "topics", {"name": "Edited after"}, "test")
    with session_scope(session_factory) as session:
        page = changes(session, None, 100, Viewer(now=clock), SECRET)
        assert "edited-after" not in [c.slug for c in page.items]  # newer than its clock
        token = page.next_since
    with session_scope(session_factory) as session:
        later = changes(session, token, 100, Viewer(), SECRET)
        assert [c.slug for c in later.items] == ["scheduled", "edited-after"]


def test_a_writer_reads_the_clock_only_once_the_writer_before_it_committed(
    client: TestClient, session_factory: sessionmaker[Session], database_url: str
) -> None:
    """PostgreSQL: writer A holds the writers' lock; B's API write waits for it and then
    stamps its time, so B's `updated_at` is after A's commit. B used to stamp first and
    wait at its first INSERT: it committed after A with an earlier time, and a poll
    between the two commits moved the token past B."""
    if backend_of(database_url) != "postgresql":
        pytest.skip("SQLite writers take the database's lock before anything (BEGIN IMMEDIATE)")
    keys = Keys(session_factory)
    holder = session_factory()
    lock_writers(holder)
    answer: list[Any] = []
    thread = threading.Thread(
        target=lambda: answer.append(
            client.post("/api/v1/topics", json={"name": "Waited"}, headers=keys.writer)
        )
    )
    thread.start()
    time.sleep(0.5)
    assert not answer  # still waiting for the lock
    released = datetime.now(UTC)
    holder.commit()
    holder.close()
    thread.join(10)
    assert answer[0].status_code == 201
    stamped = datetime.fromisoformat(answer[0].json()["updated_at"])
    assert stamped >= released - timedelta(milliseconds=50)
