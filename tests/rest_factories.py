"""Factories for the REST read tests: content written through the real write path."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import create_item
from app.db import session_scope, utcnow
from tests import admin_helpers

ACTOR = "rest-tests"
_numbers = itertools.count(1)
PAST = utcnow() - timedelta(days=1)


def _next() -> int:
    return next(_numbers)


@contextmanager
def writing(factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_scope(factory) as session:
        yield session


def attach(session: Session, row: Any) -> Any:
    """The same item as `row` (from an earlier session), attached to `session` for writes."""
    return session.get(type(row), row.id)


def make_topic(session: Session, name: str | None = None, **fields: Any) -> Any:
    return create_item(session, "topics", {"name": name or f"Topic {_next()}", **fields}, ACTOR)


def make_organization(session: Session, name: str | None = None, **fields: Any) -> Any:
    return create_item(
        session, "organizations", {"name": name or f"Organization {_next()}", **fields}, ACTOR
    )


def make_person(
    session: Session, name: str | None = None, organizations: Sequence[str] = (), **fields: Any
) -> Any:
    """A person with one current affiliation per organization slug given."""
    affiliations = [
        {"organization": slug, "role": f"Fellow {i}"} for i, slug in enumerate(organizations)
    ]
    data = {"name": name or f"Person Number{_next()}", "affiliations": affiliations, **fields}
    return create_item(session, "people", data, ACTOR)


def _publishing(status: str, published_at: datetime | None) -> dict[str, Any]:
    if status == "published":
        return {"status": status, "published_at": (published_at or PAST).isoformat()}
    return {"status": status, "published_at": published_at.isoformat() if published_at else None}


def make_event(
    session: Session,
    *,
    title: str | None = None,
    starts_at: datetime | None = None,
    status: str = "published",
    published_at: datetime | None = None,
    topics: Sequence[str] = (),
    participants: Sequence[tuple[str, str]] = (),
    **fields: Any,
) -> Any:
    """An event; `participants` are (person slug, role) pairs."""
    n = _next()
    data = {
        "title": title or f"Event {n}",
        "starts_at": (starts_at or utcnow() + timedelta(days=n)).isoformat(),
        "topics": list(topics),
        "participants": [{"person": p, "role": r} for p, r in participants],
        **_publishing(status, published_at),
        **fields,
    }
    return create_item(session, "events", data, ACTOR)


def _make_publishable(
    session: Session,
    collection: str,
    heading: tuple[str, str],
    status: str,
    published_at: datetime | None,
    topics: Sequence[str],
    fields: dict[str, Any],
) -> Any:
    """An item whose `heading` field (name, value) names it, published by default."""
    data = {
        heading[0]: heading[1],
        "topics": list(topics),
        **_publishing(status, published_at),
        **fields,
    }
    return create_item(session, collection, data, ACTOR)


def make_article(
    session: Session,
    *,
    title: str | None = None,
    status: str = "published",
    published_at: datetime | None = None,
    topics: Sequence[str] = (),
    **fields: Any,
) -> Any:
    heading = ("title", title or f"Article {_next()}")
    return _make_publishable(session, "articles", heading, status, published_at, topics, fields)


def make_publication(
    session: Session,
    *,
    title: str | None = None,
    status: str = "published",
    published_at: datetime | None = None,
    topics: Sequence[str] = (),
    **fields: Any,
) -> Any:
    heading = ("title", title or f"Publication {_next()}")
    return _make_publishable(session, "publications", heading, status, published_at, topics, fields)


def make_quote(
    session: Session,
    *,
    text: str | None = None,
    status: str = "published",
    published_at: datetime | None = None,
    topics: Sequence[str] = (),
    **fields: Any,
) -> Any:
    heading = ("text", text or f"Quote number {_next()}")
    return _make_publishable(session, "quotes", heading, status, published_at, topics, fields)


def make_key(factory: sessionmaker[Session], *scopes: str) -> str:
    """A new API key with these scopes; returns the secret to send as a Bearer token."""
    return admin_helpers.make_key(factory, f"key-{_next()}", *scopes)


def walk(
    client: Any, url: str, params: dict[str, Any] | None = None, between: Any = None
) -> list[dict[str, Any]]:
    """Follow `links.next` to the end, calling `between()` after each page; returns all items."""
    items: list[dict[str, Any]] = []
    response = client.get(url, params=params)
    for _ in range(1000):
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        if body["links"]["next"] is None:
            assert body["meta"]["next_cursor"] is None
            return items
        if between is not None:
            between()
        response = client.get(body["links"]["next"])
    raise AssertionError("pagination never ended")
