"""The change log announces a removal only for items that had been public."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
