"""What each feed and calendar contains, read through the query layer only.

Feeds and calendars are public surfaces: they always read as `Viewer()` (the public), so
drafts, scheduled and deleted items can never reach a subscriber or a shared cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.queries import ListParams, get_item, get_topic, list_items, topic_stream
from app.content.types import ARTICLE, EVENT, PERSON, PUBLICATION, TOPIC, ContentType
from app.content.visibility import Viewer
from app.http.errors import NotFound, no_item
from app.models import AuditEntry, Person, Topic

FEED_SIZE = 50
# The person feed merges these, newest first. Ties on published_at break as the topic
# stream's do (its order of STREAM_TYPES, descending like the time): this order reversed,
# publications first, then the higher id.
PERSON_SOURCES: tuple[tuple[ContentType, str], ...] = (
    (ARTICLE, "author"),
    (EVENT, "person"),
    (PUBLICATION, "author"),
)

Items = list[tuple[ContentType, Any]]


def usable_key(value: str) -> bool:
    """PostgreSQL text cannot hold NUL: such a key can match nothing (404, not a 500)."""
    return "\x00" not in value


class Renamed(Exception):
    """The slug a feed's URL names was its subject's before a rename: `slug` is its own now."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def topic_or_404(session: Session, slug: str, viewer: Viewer) -> Topic:
    """The topic, or Renamed when `slug` was a visible topic's before it was renamed, or
    NotFound."""
    topic = get_topic(session, slug, viewer) if usable_key(slug) else None
    if topic is None:
        _raise_renamed(session, TOPIC, slug, viewer)
        raise NotFound(no_item(TOPIC.name, TOPIC.collection, slug))
    return topic


def person_or_404(session: Session, id_or_slug: str, viewer: Viewer) -> Person:
    """The person, or NotFound."""
    person = get_item(session, PERSON, id_or_slug, viewer) if usable_key(id_or_slug) else None
    if not isinstance(person, Person):
        # No redirect from a person's former slug: it spells their name, and a rename may
        # be meant to retire it (a name changed on marriage or transition).
        raise NotFound(no_item(PERSON.name, PERSON.collection, id_or_slug))
    return person


def _raise_renamed(session: Session, ctype: ContentType, slug: str, viewer: Viewer) -> None:
    """Raise Renamed if `slug`, which no visible item holds, was last held by an item of
    `ctype` that is visible now under another: the item the audit log last wrote under it
    (`ix_audit_entry_type_slug`). A subscriber's feed URL keeps working once an editor
    renames its topic, and readers that follow a permanent redirect (most feed
    readers) update the subscription. A slug a deleted item held stays its own (404)."""
    if not usable_key(slug) or ctype.parse_public_id(slug) is not None:
        return
    held = session.scalar(
        select(col(AuditEntry.entity_id))
        .where(col(AuditEntry.entity_type) == ctype.name, col(AuditEntry.slug) == slug)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    )
    if held is None:
        return
    item = get_item(session, ctype, ctype.public_id(held), viewer)
    if item is not None and item.slug != slug:
        raise Renamed(item.slug)


def topic_items(session: Session, topic: Topic, viewer: Viewer, secret: str) -> Items:
    """The topic page's stream: articles, events, publications and quotes, newest first."""
    return topic_stream(session, topic, viewer, FEED_SIZE, None, secret).items


def latest(
    session: Session, ctype: ContentType, viewer: Viewer, secret: str, **filters: Any
) -> Items:
    """The newest `FEED_SIZE` public items of one type, by `published_at`."""
    params = ListParams(limit=FEED_SIZE, sort="-published_at", filters=filters)
    return [(ctype, row) for row in list_items(session, ctype, params, viewer, secret).items]


def person_items(session: Session, person: Person, viewer: Viewer, secret: str) -> Items:
    """A person's articles, events and publications merged newest first."""
    merged: list[tuple[Any, int, int, ContentType, Any]] = []
    for rank, (ctype, name) in enumerate(PERSON_SOURCES):
        for _, row in latest(session, ctype, viewer, secret, **{name: person.slug}):
            merged.append((row.published_at, rank, row.id, ctype, row))
    merged.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    return [(ctype, row) for *_, ctype, row in merged[:FEED_SIZE]]


def calendar_events(
    session: Session, viewer: Viewer, secret: str, topic: Topic | None = None
) -> tuple[list[Any], datetime | None]:
    """Up to `FEED_SIZE` events for a calendar subscription, and the next moment an event
    ends (which changes the calendar by itself: caches keep it no longer).

    Subscribers care about what is coming, so upcoming events come first (soonest first);
    remaining places go to the most recent past events.
    """
    topics = [topic.slug] if topic is not None else []
    upcoming = ListParams(
        limit=FEED_SIZE, sort="starts_at", topics=topics, filters={"upcoming": True}
    )
    page = list_items(session, EVENT, upcoming, viewer, secret)
    rows = list(page.items)
    changes_at = page.changes_at()
    if len(rows) < FEED_SIZE:
        past = ListParams(
            limit=FEED_SIZE - len(rows),
            sort="-starts_at",
            topics=topics,
            filters={"upcoming": False},
        )
        rows.extend(list_items(session, EVENT, past, viewer, secret).items)
    return rows, changes_at
