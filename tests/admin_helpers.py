"""Factories for the write-API tests: API keys, auth headers and a small dataset."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import upsert_item
from app.db import session_scope
from app.http.auth import create_api_key

WRITE = "content:write"
PREVIEW = "content:preview"
ADMIN = "admin"


def make_key(session_factory: sessionmaker[Session], name: str, *scopes: str) -> str:
    with session_scope(session_factory) as session:
        return create_api_key(session, name, list(scopes))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Keys:
    """One key per role, created on the test's database (with `seed`, in one transaction)."""

    def __init__(self, session_factory: sessionmaker[Session], seed: bool = False) -> None:
        with session_scope(session_factory) as session:
            self.writer = bearer(create_api_key(session, "newsroom", [WRITE]))
            self.previewer = bearer(create_api_key(session, "preview-site", [PREVIEW]))
            self.admin = bearer(create_api_key(session, "root", [ADMIN]))
            if seed:
                seed_basics(session)


BASICS: dict[str, list[dict[str, Any]]] = {
    "topics": [{"slug": "kidnapping", "name": "Kidnapping"}, {"slug": "israel", "name": "Israel"}],
    "organizations": [
        {"slug": "stanford-university", "name": "Stanford University"},
        {
            "slug": "hoover-institution",
            "name": "Hoover Institution",
            "parent": "stanford-university",
        },
    ],
    "people": [
        {
            "slug": "abbas-milani",
            "name": "Abbas Milani",
            "topics": ["kidnapping"],
            "affiliations": [{"organization": "hoover-institution", "role": "Research Fellow"}],
        },
        {"slug": "larry-diamond", "name": "Larry Diamond"},
    ],
}


def seed_basics(session: Session) -> None:
    """Two topics, two organizations, two people: what most writes refer to."""
    for collection, records in BASICS.items():
        for record in records:
            upsert_item(session, collection, dict(record), "test")


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "The Hamas Attack on Israel",
        "event_type": "seminar",
        "starts_at": "2023-10-12T12:00:00-07:00",
        "ends_at": "2023-10-12T13:30:00-07:00",
        "timezone": "America/Los_Angeles",
        "attendance_mode": "online",
        "participants": [
            {"person": "abbas-milani", "role": "speaker"},
            {"person": "larry-diamond", "role": "moderator"},
        ],
        "sponsors": ["stanford-university"],
        "topics": ["kidnapping", "israel"],
        "status": "published",
        "published_at": "2023-10-10T17:00:00Z",
    }
    body.update(overrides)
    return body


PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of `response`, checked to be a complete one of `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body
