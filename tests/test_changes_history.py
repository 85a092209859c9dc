"""The change log announces a removal only for items that had been public."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries as queries_module
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
        create_item(
            session,
            "articles",
            {"title": "Secret merger", "status": "draft", "published_at": PAST},
            "t",
        )
        create_item(
            session,
            "articles",
            {"title": "Born archived", "status": "archived", "published_at": PAST},
            "t",
        )
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
        gone = create_item(
            session, "articles", {"title": "Gone", "status": "published", "published_at": PAST}, "t"
        )
        shelved = create_item(
            session,
            "articles",
            {"title": "Shelved", "status": "published", "published_at": PAST},
            "t",
        )
        create_item(
            session,
            "articles",
            {"title": "Stays", "status": "published", "published_at": PAST},
            "t",
        )
    with session_scope(session_factory) as session:
        assert sorted(_log(session)) == [
            ("created", "gone"),
            ("created", "shelved"),
            ("created", "stays"),
        ]
        delete_item(session, "articles", session.get(Article, gone.id), "t")
        update_item(
            session, "articles", session.get(Article, shelved.id), {"status": "archived"}, "t"
        )
    with session_scope(session_factory) as session:
        log = dict((slug, action) for action, slug in _log(session))
        assert log == {"gone": "deleted", "shelved": "deleted", "stays": "created"}


def test_an_unpublished_items_tombstone_keeps_the_public_slug_and_time(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        row = create_item(
            session,
            "articles",
            {"title": "Was public", "status": "published", "published_at": PAST},
            "t",
        )
    with session_scope(session_factory) as session:
        update_item(session, "articles", session.get(Article, row.id), {"status": "draft"}, "t")
    with session_scope(session_factory) as session:
        first = changes(session, None, 100, Viewer(), SECRET)
        assert [(c.action, c.slug) for c in first.items] == [("deleted", "was-public")]
        # Editors keep working on the hidden draft: nothing new reaches the public log.
        update_item(
            session,
            "articles",
            session.get(Article, row.id),
            {"slug": "secret-merger-plan", "title": "Secret"},
            "t",
        )
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
        create_item(
            session,
            "articles",
            {"title": "Old news", "status": "published", "published_at": PAST},
            "t",
        )
        create_item(
            session,
            "articles",
            {"title": "Scheduled", "status": "published", "published_at": soon.isoformat()},
            "t",
        )
        kept = create_item(
            session, "articles", {"title": "Kept", "status": "published", "published_at": PAST}, "t"
        )
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


def test_the_first_pages_read_up_to_a_horizon_equal_the_whole_log_sorted(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `since` the log is read up to a horizon (the k-th earliest `updated_at`)
    through the indexes, not sorted whole. Change times that are not `updated_at` must
    still land in place: a publication later than the last edit, a deletion or an
    unpublication written with an earlier time than the row's `updated_at`, drafts (never
    logged) with the earliest times of all."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(session_factory) as session:
        for i in range(12):
            create_item(session, "topics", {"name": f"Horizon topic {i}"}, "t")
            create_item(
                session,
                "articles",
                {"title": f"Horizon article {i}", "status": "published", "published_at": PAST},
                "t",
            )
            create_item(
                session, "articles", {"title": f"Horizon draft {i}", "status": "draft"}, "t"
            )
    with session_scope(session_factory) as session:
        stamps = {
            "topic": "UPDATE topic SET updated_at = :base + (id * interval '7 minutes')",
            "article": "UPDATE article SET updated_at = :base + (id * interval '5 minutes')",
        }
        if session.connection().dialect.name == "sqlite":
            stamps = {
                "topic": "UPDATE topic SET updated_at = datetime(:base, '+' || (id * 7) || ' minutes')",
                "article": "UPDATE article SET updated_at = datetime(:base, '+' || (id * 5) || ' minutes')",
            }
        base_value = (
            base if session.connection().dialect.name != "sqlite" else "2026-01-01 00:00:00"
        )
        for statement in stamps.values():
            session.execute(text(statement), {"base": base_value})
        # Drafts: the earliest times of all, never in the log.
        session.execute(
            text("UPDATE article SET updated_at = :t WHERE status = 'draft'"),
            {"t": base - timedelta(days=9)},
        )
        # Published well after the last edit: its change time is the publication's.
        session.execute(
            text("UPDATE article SET published_at = :t WHERE slug = 'horizon-article-0'"),
            {"t": datetime.now(UTC) - timedelta(minutes=1)},
        )
        # Change times amid the others' edits, later than their rows' own: a publication,
        # a deletion and an unpublication that a page bounded on both sides (a token and a
        # horizon, with enough rows after them) must find by that time.
        session.execute(
            text("UPDATE article SET published_at = :t WHERE slug = 'horizon-article-1'"),
            {"t": base + timedelta(minutes=40)},
        )
        session.execute(
            text("UPDATE topic SET deleted_at = :t WHERE slug = 'horizon-topic-1'"),
            {"t": base + timedelta(minutes=45)},
        )
        session.execute(
            text(
                "UPDATE article SET status = 'draft', was_public = :yes, left_public_at = :t"
                " WHERE slug = 'horizon-article-2'"
            ),
            {"t": base + timedelta(minutes=50), "yes": True},
        )
        # Deleted behind the API's back, dated before its last edit.
        session.execute(
            text("UPDATE topic SET deleted_at = :t WHERE slug = 'horizon-topic-11'"),
            {"t": base - timedelta(days=1)},
        )
        # Unpublished, the public's last sight of it before its later (hidden) edits.
        session.execute(
            text(
                "UPDATE article SET status = 'draft', was_public = :yes, left_public_at = :t"
                " WHERE slug = 'horizon-article-11'"
            ),
            {"t": base - timedelta(hours=5), "yes": True},
        )

    def walk(limit: int, viewer: Viewer) -> list[tuple[str, str, datetime]]:
        seen: list[tuple[str, str, datetime]] = []
        token = None
        with session_scope(session_factory) as session:
            while True:
                page = changes(session, token, limit, viewer, SECRET)
                seen += [(c.action, c.slug, c.at) for c in page.items]
                if not page.has_more:
                    return seen
                token = page.next_since

    horizons: list[int] = []
    real_horizon = queries_module._horizon

    def spy(session: Session, viewer: Viewer, k: int, since: datetime | None = None) -> Any:
        horizons.append(k)
        return real_horizon(session, viewer, k, since)

    monkeypatch.setattr(queries_module, "_horizon", spy)
    for viewer in (Viewer(), Viewer(preview=True)):
        monkeypatch.setattr(queries_module, "_HORIZON_TRIES", 0)
        expected = {limit: walk(limit, viewer) for limit in (1, 2, 5, 100)}
        assert horizons == []
        monkeypatch.setattr(queries_module, "_HORIZON_TRIES", 3)
        monkeypatch.setattr(queries_module, "_HORIZON_START", 1)
        for limit in (1, 2, 5, 100):
            assert walk(limit, viewer) == expected[limit], (viewer, limit)
        assert horizons
        horizons.clear()
    public = [slug for _, slug, _ in walk(100, Viewer())]
    assert public[:2] == ["horizon-topic-11", "horizon-article-11"]
    assert public[-1] == "horizon-article-0"
    moved = {"horizon-topic-1", "horizon-article-1", "horizon-article-2"}
    amid = [change for change in walk(100, Viewer()) if change[1] in moved]
    assert amid == [
        ("created", "horizon-article-1", base + timedelta(minutes=40)),
        ("deleted", "horizon-topic-1", base + timedelta(minutes=45)),
        ("deleted", "horizon-article-2", base + timedelta(minutes=50)),
    ]
    assert not any("draft" in slug for slug in public)


def test_an_editors_preview_lists_a_scheduled_item_when_it_is_written(
    session_factory: sessionmaker[Session],
) -> None:
    """The public log lists a scheduled item when it goes live; the preview log listed it
    then too, though the preview shows it (and its edits) from the start."""
    later = datetime.now(UTC) + timedelta(days=3)
    with session_scope(session_factory) as session:
        create_item(
            session,
            "articles",
            {"title": "Embargoed", "status": "published", "published_at": later},
            "t",
        )
    with session_scope(session_factory) as session:
        assert _log(session) == []
        assert _log(session, Viewer(preview=True)) == [("created", "embargoed")]
