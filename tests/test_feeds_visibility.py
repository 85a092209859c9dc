"""Drafts, scheduled and deleted items never reach a feed or a calendar; GUIDs survive edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.content.events import notify_write
from app.content.queries import get_item
from app.content.types import BY_COLLECTION
from app.content.visibility import Viewer
from app.content.writes import create_item, delete_item, update_item
from app.http.auth import create_api_key
from app.rest.admin_support import find_for_update

NOW = datetime.now(UTC)
PAST = (NOW - timedelta(days=3)).isoformat()
FUTURE = (NOW + timedelta(days=30)).isoformat()
EDITOR = Viewer(preview=True)


# Like the admin routes: commit, then tell the response caches (`notify_write`).


def write(factory: sessionmaker[Session], collection: str, data: dict[str, Any]) -> None:
    with factory() as session, session.begin():
        row = create_item(session, collection, data, "test")
    notify_write(BY_COLLECTION[collection], row)


def delete(factory: sessionmaker[Session], collection: str, slug: str) -> None:
    with factory() as session, session.begin():
        row = find_for_update(session, BY_COLLECTION[collection], slug)
        delete_item(session, collection, row, "test")
    notify_write(BY_COLLECTION[collection], row)


def patch(
    factory: sessionmaker[Session], collection: str, slug: str, changes: dict[str, Any]
) -> None:
    with factory() as session, session.begin():
        row = find_for_update(session, BY_COLLECTION[collection], slug)
        update_item(session, collection, row, changes, "test")
    notify_write(BY_COLLECTION[collection], row)


def _event(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "starts_at": (NOW + timedelta(days=10)).isoformat(),
        "timezone": "Europe/Berlin",
        "topics": ["vis"],
        "participants": [{"person": "ana-diaz", "role": "speaker"}],
        **extra,
    }


def arrange(factory: sessionmaker[Session]) -> None:
    """One public item of each kind, and a draft, a scheduled and a deleted twin of each."""
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(factory, "people", {"slug": "ana-diaz", "name": "Ana Díaz"})
    hidden = {
        "Draft": {"status": "draft"},
        "Scheduled": {"status": "published", "published_at": FUTURE},
        "Deleted": {"status": "published", "published_at": PAST},
    }
    for state, fields in {
        "Public": {"status": "published", "published_at": PAST},
        **hidden,
    }.items():
        write(
            factory,
            "articles",
            {
                "title": f"{state} article",
                "topics": ["vis"],
                "authors": ["ana-diaz"],
                "body": "<p>Text</p>",
                **fields,
            },
        )
        write(factory, "events", _event(f"{state} event", **fields))
        write(
            factory,
            "publications",
            {"title": f"{state} publication", "topics": ["vis"], "authors": ["ana-diaz"], **fields},
        )
        write(
            factory,
            "quotes",
            {"text": f"{state} quote", "speaker": "ana-diaz", "topics": ["vis"], **fields},
        )
    for collection, title in (
        ("articles", "deleted-article"),
        ("events", "deleted-event"),
        ("publications", "deleted-publication"),
        ("quotes", "deleted-quote"),
    ):
        delete(factory, collection, title)


def public_fields(title: str, **fields: Any) -> dict[str, Any]:
    """A public item tagged `vis`, as written (for the feeds' tests)."""
    return {
        "title": title,
        "status": "published",
        "published_at": PAST,
        "topics": ["vis"],
        **fields,
    }


def feed_paths(topic: str, person: str) -> list[str]:
    """Every feed, in each format, with `topic`'s and `person`'s."""
    paths = ("articles", "events", "publications", f"people/{person}")
    return [f"/feeds/{path}.{fmt}" for path in (f"topics/{topic}", *paths) for fmt in FORMATS]


def calendar_paths(topic: str) -> list[str]:
    return [f"/calendar/topics/{topic}.ics", "/calendar/events.ics"]


FORMATS = ("rss", "atom", "json")
FEED_PATHS = feed_paths("vis", "ana-diaz")
CALENDAR_PATHS = calendar_paths("vis")


def test_hidden_items_never_appear(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    arrange(session_factory)
    with session_factory() as session:  # the hidden rows exist: an editor sees two of them
        for collection in ("articles", "events", "publications"):
            ctype = BY_COLLECTION[collection]
            singular = ctype.name
            assert get_item(session, ctype, f"draft-{singular}", EDITOR) is not None
            assert get_item(session, ctype, f"scheduled-{singular}", EDITOR) is not None
            assert get_item(session, ctype, f"deleted-{singular}", EDITOR) is None
    for path in FEED_PATHS + CALENDAR_PATHS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        text = response.content.decode()
        for state in ("Draft", "Scheduled", "Deleted"):
            assert state not in text, (path, state)  # titles
            assert f"{state.lower()}-" not in text, (path, state)  # slugs in links
        assert "Public" in text, path
    topic = feedparser.parse(client.get("/feeds/topics/vis.atom").content)
    assert sorted(e.title for e in topic.entries) == [
        "Public article",
        "Public event",
        "Public publication",
        "“Public quote” — Ana Díaz",
    ]
    person = feedparser.parse(client.get("/feeds/people/ana-diaz.rss").content)
    assert sorted(e.title for e in person.entries) == [
        "Public article",
        "Public event",
        "Public publication",
    ]
    calendar = Calendar.from_ical(client.get("/calendar/events.ics").content)
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["Public event"]


def test_preview_never_applies_to_feeds(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    arrange(session_factory)
    text = client.get("/feeds/articles.rss?preview=true").text
    assert "Public article" in text
    assert "Draft article" not in text
    assert "Scheduled article" not in text


def test_deleted_topic_and_person_are_404(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    arrange(session_factory)
    delete(session_factory, "topics", "vis")
    delete(session_factory, "people", "ana-diaz")
    for path in (
        "/feeds/topics/vis.rss",
        "/calendar/topics/vis.ics",
        "/feeds/people/ana-diaz.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_empty_feeds_are_valid(client: TestClient) -> None:
    for path in ("/feeds/articles.rss", "/feeds/events.atom"):
        parsed = feedparser.parse(client.get(path).content)
        assert parsed.bozo == 0
        assert parsed.entries == []
    assert client.get("/feeds/publications.json").json()["items"] == []
    assert Calendar.from_ical(client.get("/calendar/events.ics").content).walk("VEVENT") == []


def test_guid_stable_when_content_changes(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(
        session_factory,
        "articles",
        {"title": "First title", "status": "published", "published_at": PAST, "topics": ["vis"]},
    )
    before = client.get("/feeds/topics/vis.atom")
    entry = feedparser.parse(before.content).entries[0]
    patch(
        session_factory,
        "articles",
        "first-title",
        {"title": "Second title", "slug": "second-title", "body": "<p>New</p>"},
    )
    after = client.get("/feeds/topics/vis.atom", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # the content changed, so the old ETag no longer matches
    changed = feedparser.parse(after.content).entries[0]
    assert changed.title == "Second title"
    assert changed.link.endswith("/news/second-title")
    assert changed.id == entry.id  # the GUID did not move
    assert changed.updated_parsed >= entry.updated_parsed


def test_links_follow_configured_site(app_factory: Any) -> None:
    app = app_factory(
        public_site_url="https://institute.example.edu/research",
        api_base_url="https://api.example.edu",
        url_templates={"article": "/stories/{slug}", "topic": "/t/{slug}"},
    )
    with TestClient(app) as client:
        write(app.state.session_factory, "topics", {"slug": "vis", "name": "Visibility"})
        write(app.state.session_factory, "articles", public_fields("Hello"))
        write(app.state.session_factory, "events", public_fields("Talk", starts_at=FUTURE))
        rss = feedparser.parse(client.get("/feeds/topics/vis.rss").content)
    assert rss.feed.link == "https://institute.example.edu/research/t/vis"
    assert {link["rel"]: link["href"] for link in rss.feed.links}[
        "self"
    ] == "https://api.example.edu/feeds/topics/vis.rss"
    links = {e.title: e.link for e in rss.entries}
    assert links["Hello"] == "https://institute.example.edu/research/stories/hello"
    # The types the setting leaves out keep their default templates (every event's link
    # was the feed's own, with no template of its own: the site's root in an events feed).
    assert links["Talk"] == "https://institute.example.edu/research/events/talk"
    assert all(e.id.startswith("tag:institute.example.edu,") for e in rss.entries)


def test_a_type_given_no_template_has_no_link(app_factory: Any) -> None:
    """A site without pages for some type says so with null: the default path, which
    the site does not have, is not made up for it."""
    app = app_factory(url_templates={"event": None})
    with TestClient(app) as client:
        write(app.state.session_factory, "topics", {"slug": "vis", "name": "Visibility"})
        write(app.state.session_factory, "events", public_fields("Talk", starts_at=FUTURE))
        write(app.state.session_factory, "articles", public_fields("Hello"))
        items = {i["title"]: i for i in client.get("/feeds/events.json").json()["items"]}
        assert "url" not in items["Talk"] or items["Talk"]["url"] is None
        articles = client.get("/feeds/articles.json").json()["items"]
        assert articles[0]["url"].endswith("/news/hello")


def test_a_url_template_for_no_content_type_is_refused() -> None:
    from pydantic import ValidationError

    from app.config import Settings

    with pytest.raises(ValidationError, match="names no content type: 'articles'"):
        Settings(url_templates={"articles": "/a/{slug}"})


def test_preview_key_changes_nothing_in_feeds(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    arrange(session_factory)
    with session_factory() as session, session.begin():
        secret = create_api_key(session, "previewer", ["content:preview"])
    bearer = {"Authorization": f"Bearer {secret}"}
    for path in ("/feeds/articles.rss?preview=true", "/calendar/events.ics?preview=true"):
        response = client.get(path, headers=bearer)
        assert response.status_code == 200
        assert "Public" in response.text
        assert "Draft" not in response.text
        assert "Scheduled" not in response.text
        # Authenticated requests are never stored by shared caches.
        assert response.headers["cache-control"] == "private, no-store"


def test_control_characters_never_break_a_feed(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Writes refuse control characters, but rows written before that rule, or by SQL,
    may hold them: feeds and calendars drop them, and a title left empty falls back to
    the entry's id rather than failing the whole feed."""
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(session_factory, "people", {"slug": "ctl", "name": "Ctl Person"})
    published = {"status": "published", "published_at": PAST, "topics": ["vis"]}
    write(
        session_factory,
        "articles",
        {
            **published,
            "slug": "bell",
            "title": "Bell title",
            "authors": ["ctl"],
            "body": "<p>x</p>",
        },
    )
    write(session_factory, "articles", {**published, "slug": "blank", "title": "Blank"})
    write(
        session_factory,
        "events",
        _event("Tab event", **published, slug="tab", venue={"name": "Hall"}, participants=[]),
    )
    with session_factory() as session, session.begin():
        for statement, value in (
            ("UPDATE topic SET name = :v WHERE slug = 'vis'", "Visi\x0bbility"),
            ("UPDATE person SET name = :v WHERE slug = 'ctl'", "Ctl\x01 Person"),
            ("UPDATE article SET title = :v WHERE slug = 'bell'", "Bell\x07 title"),
            ("UPDATE article SET body = :v WHERE slug = 'bell'", "<p>x\x0c</p>"),
            ("UPDATE article SET title = :v WHERE slug = 'blank'", "\x01\x0b"),
            ("UPDATE event SET title = :v WHERE slug = 'tab'", "Tab\x0b event"),
            ("UPDATE event SET venue_name = :v WHERE slug = 'tab'", "Hall\x1f"),
        ):
            session.execute(text(statement), {"v": value})
    for path in ("/feeds/topics/vis.rss", "/feeds/topics/vis.atom", "/feeds/people/ctl.rss"):
        parsed = feedparser.parse(client.get(path).content)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        titles = {e.title for e in parsed.entries}
        assert titles - {"Bell title", "Tab event"} <= {e.id for e in parsed.entries}
    assert client.get("/feeds/topics/vis.json").status_code == 200
    calendar = Calendar.from_ical(client.get("/calendar/topics/vis.ics").content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Tab event"
    assert str(event["LOCATION"]) == "Hall"
