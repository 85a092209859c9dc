"""When a feed says it changed: its `updated` (Atom `<updated>`, RSS `<lastBuildDate>`),
which never goes back."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import AppFactory
from tests.test_feeds_visibility import FUTURE, PAST, delete, patch, write


def atom_updated(client: TestClient, path: str) -> datetime:
    parsed = feedparser.parse(client.get(path).content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return datetime.fromisoformat(parsed.feed.updated)


def rss_updated(client: TestClient, path: str) -> datetime:
    parsed = feedparser.parse(client.get(path).content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsedate_to_datetime(parsed.feed.updated)


# ---------------------------------------------------------------------------------------
# A feed's `updated`


def _article(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": title,
        "status": "published",
        "published_at": PAST,
        "topics": ["vis"],
        **fields,
    }


FEED_PATHS = ("/feeds/articles", "/feeds/topics/vis", "/feeds/people/ana-diaz")


def _updated(client: TestClient) -> dict[str, datetime]:
    """Each feed's `updated` in each format that says it."""
    found = {}
    for path in FEED_PATHS:
        found[f"{path}.atom"] = atom_updated(client, f"{path}.atom")
        found[f"{path}.rss"] = rss_updated(client, f"{path}.rss")
    return found


def _later(before: dict[str, datetime], after: dict[str, datetime]) -> list[str]:
    """The feeds whose `updated` did not move on (RSS dates: to the second)."""
    return [
        name
        for name, moment in after.items()
        if not (moment > before[name] if name.endswith(".atom") else moment >= before[name])
    ]


def test_updated_never_goes_back_when_entries_leave(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """The newest entry deleted, unpublished, untagged or its author removed: the feed
    changed then (it lost an entry), it did not go back to the newest entry left."""
    factory = session_factory
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(factory, "people", {"slug": "ana-diaz", "name": "Ana Díaz"})
    for n in range(1, 6):
        write(factory, "articles", _article(f"Article {n}", authors=["ana-diaz"]))
    steps = [
        lambda: delete(factory, "articles", "article-5"),
        lambda: patch(factory, "articles", "article-4", {"status": "archived"}),
        lambda: patch(factory, "articles", "article-3", {"topics": [], "authors": []}),
        lambda: patch(factory, "articles", "article-2", {"published_at": FUTURE}),
    ]
    before = _updated(client)
    for number, step in enumerate(steps):
        step()
        after = _updated(client)
        assert _later(before, after) == [], number
        before = after


def test_updated_moves_when_a_shown_person_or_topic_changes(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """An author renamed or deleted changes what the entries say, not their own dates."""
    factory = session_factory
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(factory, "people", {"slug": "ana-diaz", "name": "Ana Díaz"})
    write(factory, "people", {"slug": "bo-li", "name": "Bo Li"})
    write(factory, "articles", _article("Article", authors=["ana-diaz", "bo-li"]))
    before = _updated(client)
    patch(factory, "people", "bo-li", {"name": "Bo Lin"})
    after = _updated(client)
    assert _later(before, after) == []
    delete(factory, "people", "bo-li")
    assert _later(after, _updated(client)) == []


def test_an_empty_feed_is_not_dated_1970(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    topic = client.get("/api/v1/topics/vis").json()
    topic_updated = datetime.fromisoformat(topic["updated_at"])
    # A feed of a type never public says it has been as it is since the site last changed.
    for path in ("/feeds/articles.atom", "/feeds/publications.atom", "/feeds/topics/vis.atom"):
        assert atom_updated(client, path) == topic_updated, path
    assert rss_updated(client, "/feeds/events.rss") == topic_updated.replace(microsecond=0)
    # Emptied again: the moment it was emptied.
    write(session_factory, "articles", _article("Only"))
    delete(session_factory, "articles", "only")
    emptied = atom_updated(client, "/feeds/articles.atom")
    assert emptied > topic_updated
    assert feedparser.parse(client.get("/feeds/articles.rss").content).entries == []


def test_writes_that_move_a_feeds_date_purge_it(app_factory: AppFactory) -> None:
    """A feed's date follows writes to more than what it shows (a person deleted anywhere;
    anything at all, for a feed of a type never public): the cached feed must go with them."""
    cached_app, uncached_app = app_factory(), app_factory(response_cache=False)
    factory = cached_app.state.session_factory
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(factory, "people", {"slug": "ana-diaz", "name": "Ana Díaz"})
    write(
        factory,
        "events",
        {"title": "Talk", "status": "published", "published_at": PAST, "starts_at": FUTURE},
    )
    paths = ["/feeds/events.atom", "/feeds/publications.atom", "/calendar/events.ics"]
    steps = [
        lambda: write(factory, "organizations", {"slug": "org", "name": "Org"}),
        lambda: delete(factory, "people", "ana-diaz"),  # shown nowhere
        lambda: delete(factory, "topics", "vis"),
    ]
    with TestClient(cached_app) as cached, TestClient(uncached_app) as uncached:
        for number, step in enumerate([lambda: None, *steps]):
            for path in paths:
                cached.get(path)  # stored
            step()
            for path in paths:
                mine, fresh = cached.get(path), uncached.get(path)
                assert mine.content == fresh.content, (number, path)


def test_updated_is_the_same_while_nothing_changes(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(session_factory, "articles", _article("Article"))
    first = client.get("/feeds/topics/vis.atom")
    with TestClient(client.app) as again:  # (a second client: no shared cache state matters)
        second = again.get("/feeds/topics/vis.atom")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
