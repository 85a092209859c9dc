"""The change log announces a removal only for items that had been public."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.content.queries import changes
from app.content.visibility import Viewer
from app.content.writes import create_item, delete_item, update_item
from app.db import session_scope
from app.models import Article

PAST = (datetime.now(UTC) - timedelta(days=30)).isoformat()
SECRET = "test-secret"


def _log(session: Session, viewer: Viewer | None = None) -> list[tuple[str, str]]:
    page = changes(session, None, 100, viewer or Viewer(), SECRET)
    return [(c.action, c.slug) for c in page.items]


def test_never_public_items_never_appear_even_back_dated_or_archived(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        create_item(session, "articles", {"title": "Secret merger", "status": "draft", "published_at": PAST}, "t")
        create_item(session, "articles", {"title": "Born archived", "status": "archived", "published_at": PAST}, "t")
        draft = create_item(session, "articles", {"title": "Deleted draft", "status": "draft"}, "t")
        delete_item(session, "articles", draft, "t")
    with session_scope(session_factory) as session:
        assert _log(session) == []
        # Editors previewing see the removal of the deleted draft.
        assert ("deleted", "deleted-draft") in _log(session, Viewer(preview=True))


def test_items_that_were_public_leave_a_tombstone_when_they_go(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        gone = create_item(session, "articles", {"title": "Gone", "status": "published", "published_at": PAST}, "t")
        shelved = create_item(session, "articles", {"title": "Shelved", "status": "published", "published_at": PAST}, "t")
        create_item(session, "articles", {"title": "Stays", "status": "published", "published_at": PAST}, "t")
    with session_scope(session_factory) as session:
        assert sorted(_log(session)) == [("created", "gone"), ("created", "shelved"), ("created", "stays")]
        delete_item(session, "articles", session.get(Article, gone.id), "t")
        update_item(session, "articles", session.get(Article, shelved.id), {"status": "archived"}, "t")
    with session_scope(session_factory) as session:
        log = dict((slug, action) for action, slug in _log(session))
        assert log == {"gone": "deleted", "shelved": "deleted", "stays": "created"}


def test_an_unpublished_items_tombstone_keeps_the_public_slug_and_time(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        row = create_item(session, "articles", {"title": "Was public", "status": "published", "published_at": PAST}, "t")
    with session_scope(session_factory) as session:
        update_item(session, "articles", session.get(Article, row.id), {"status": "draft"}, "t")
    with session_scope(session_factory) as session:
        first = changes(session, None, 100, Viewer(), SECRET)
        assert [(c.action, c.slug) for c in first.items] == [("deleted", "was-public")]
        # Editors keep working on the hidden draft: nothing new reaches the public log.
        update_item(session, "articles", session.get(Article, row.id), {"slug": "secret-merger-plan", "title": "Secret"}, "t")
    with session_scope(session_factory) as session:
        again = changes(session, None, 100, Viewer(), SECRET)
        assert [(c.action, c.slug, c.at) for c in again.items] == [
            (c.action, c.slug, c.at) for c in first.items
        ]
        assert changes(session, first.next_since, 100, Viewer(), SECRET).items == []


def test_a_poll_sees_every_kind_of_change_after_its_token(
    session_factory: sessionmaker[Session],
) -> None:
    """A poll with `since` reads only rows with a time at or after the token's (the indexes
    answer it); each way an item's change time can move must still be seen, even a deletion
    written behind the API's back that left `updated_at` alone, or a scheduled item whose
    time came with no write at all."""
    now = datetime.now(UTC)
    soon = now + timedelta(seconds=30)
    with session_scope(session_factory) as session:
        create_item(session, "topics", {"name": "Old topic"}, "t")
        create_item(session, "articles", {"title": "Old news", "status": "published", "published_at": PAST}, "t")
        create_item(session, "articles", {"title": "Scheduled", "status": "published", "published_at": soon.isoformat()}, "t")
        kept = create_item(session, "articles", {"title": "Kept", "status": "published", "published_at": PAST}, "t")
    with session_scope(session_factory) as session:
        token = changes(session, None, 100, Viewer(), SECRET).next_since
    with session_scope(session_factory) as session:
        later = now + timedelta(seconds=10)
        session.execute(  # psql-style: only deleted_at
            text("UPDATE topic SET deleted_at = :at WHERE slug = 'old-topic'"), {"at": later}
        )
        row = session.get(Article, kept.id)
        update_item(session, "articles", row, {"title": "Kept, revised"}, "t")

    def since(viewer: Viewer) -> list[tuple[str, str]]:
        with session_scope(session_factory) as session:
            page = changes(session, token, 100, viewer, SECRET)
            return [(c.action, c.slug) for c in page.items]

    before_its_time = since(Viewer(now=now + timedelta(seconds=20)))
    assert sorted(before_its_time) == [("deleted", "old-topic"), ("updated", "kept")]
    after_its_time = since(Viewer(now=soon + timedelta(seconds=1)))
    assert sorted(after_its_time) == [
        ("created", "scheduled"),
        ("deleted", "old-topic"),
        ("updated", "kept"),
    ]
