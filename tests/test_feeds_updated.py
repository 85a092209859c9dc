"""When a feed or calendar says it changed: `Last-Modified`, `If-Modified-Since`, and the
feed's own `updated` (Atom `<updated>`, RSS `<lastBuildDate>`), which never goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import AppFactory
from tests.test_feeds_visibility import (
    FUTURE,
    PAST,
    calendar_paths,
    delete,
    feed_paths,
    patch,
    public_fields,
    write,
)

FEEDS = feed_paths("kidnapping", "beatriz-magaloni")
CALENDARS = calendar_paths("kidnapping")


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def last_modified(response: Any) -> datetime:
    value = response.headers["last-modified"]
    assert value.endswith(" GMT"), value  # an IMF-fixdate
    moment = parsedate_to_datetime(value)
    assert moment.tzinfo is not None
    return moment


def atom_updated(client: TestClient, path: str) -> datetime:
    parsed = feedparser.parse(client.get(path).content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return datetime.fromisoformat(parsed.feed.updated)


def rss_updated(client: TestClient, path: str) -> datetime:
    parsed = feedparser.parse(client.get(path).content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsedate_to_datetime(parsed.feed.updated)


# ---------------------------------------------------------------------------------------
# Last-Modified and If-Modified-Since


@pytest.mark.parametrize("path", FEEDS + CALENDARS)
def test_feeds_and_calendars_say_when_they_changed(demo_client: TestClient, path: str) -> None:
    response = demo_client.get(path)
    assert response.status_code == 200
    modified = last_modified(response)
    assert modified <= datetime.now(UTC)
    etag = response.headers["etag"]
    # A reader that only keeps Last-Modified (many do) gets a 304 while nothing changed,
    # with the same validators as the 200.
    again = demo_client.get(path, headers={"If-Modified-Since": response.headers["last-modified"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["last-modified"] == response.headers["last-modified"]
    assert again.headers["etag"] == etag
    later = demo_client.get(path, headers={"If-Modified-Since": http_date(modified + timedelta(1))})
    assert later.status_code == 304
    earlier = http_date(modified - timedelta(seconds=1))
    changed = demo_client.get(path, headers={"If-Modified-Since": earlier})
    assert changed.status_code == 200
    assert changed.content == response.content


@pytest.mark.parametrize("path", ["/feeds/topics/kidnapping.atom", "/feeds/articles.atom"])
def test_last_modified_is_the_feeds_updated(demo_client: TestClient, path: str) -> None:
    response = demo_client.get(path)
    updated = datetime.fromisoformat(feedparser.parse(response.content).feed.updated)
    assert last_modified(response) == updated.replace(microsecond=0)  # to the second below


def _conditions(response: Any) -> dict[str, list[tuple[str, str]]]:
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    before = http_date(parsedate_to_datetime(modified) - timedelta(seconds=1))
    return {
        "none": [],
        "same date": [("If-Modified-Since", modified)],
        "a second before": [("If-Modified-Since", before)],
        "a day after": [
            ("If-Modified-Since", http_date(parsedate_to_datetime(modified) + timedelta(1)))
        ],
        "rfc850 date": [
            ("If-Modified-Since", parsedate_to_datetime(modified).strftime("%A, %d-%b-%y %T GMT"))
        ],
        # RFC 9110 §13.1.3: If-None-Match, when present, decides; If-Modified-Since is ignored.
        "etag matches, date before": [("If-None-Match", etag), ("If-Modified-Since", before)],
        "etag differs, same date": [("If-None-Match", '"other"'), ("If-Modified-Since", modified)],
        "not a date": [("If-Modified-Since", "yesterday")],
        "a date with an offset": [("If-Modified-Since", modified.replace("GMT", "+0000"))],
        "two dates": [("If-Modified-Since", modified), ("If-Modified-Since", modified)],
    }


EXPECTED = {
    "none": 200,
    "same date": 304,
    "a second before": 200,
    "a day after": 304,
    "rfc850 date": 304,
    "etag matches, date before": 304,
    "etag differs, same date": 200,
    "not a date": 200,
    "a date with an offset": 200,
    "two dates": 200,
}


@pytest.mark.parametrize("path", ["/feeds/topics/vis.rss", "/calendar/events.ics"])
def test_conditional_requests_are_answered_alike_with_and_without_the_cache(
    app_factory: AppFactory, path: str
) -> None:
    """The response cache replays 304s itself: it must read the same conditions the same
    way as the app, and keep `Last-Modified` with what it stores."""
    cached_app, uncached_app = app_factory(), app_factory(response_cache=False)
    factory = cached_app.state.session_factory
    write(factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(factory, "events", public_fields("Talk", starts_at=FUTURE))
    with TestClient(cached_app) as cached, TestClient(uncached_app) as uncached:
        first = cached.get(path)  # stored
        assert first.headers["last-modified"] == uncached.get(path).headers["last-modified"]
        assert cached.get(path).headers.get("age") is not None  # a replay
        for name, headers in _conditions(first).items():
            answers = [client.get(path, headers=headers) for client in (cached, uncached)]
            assert [a.status_code for a in answers] == [EXPECTED[name]] * 2, name
            for answer in answers:
                assert answer.headers["etag"] == first.headers["etag"], name
                assert answer.headers["last-modified"] == first.headers["last-modified"], name
            assert answers[0].headers.get("age") is not None, name  # the cache answered


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sun Nov  6 08:49:37 1994", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        (" Sun, 06 Nov 1994 08:49:37 GMT ", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sun, 06 Nov 1994 08:49:37 +0000", None),  # HTTP-dates are GMT
        ("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", None),
        ("Mon, 30 Feb 2026 00:00:00 GMT", None),
        ("Mon, 01 Jan 99999999999999999999 00:00:00 GMT", None),
        ("Sun, \u06606 Nov 1994 08:49:37 GMT", None),  # ASCII digits only
        ("", None),
    ],
)
def test_http_dates_are_read_as_rfc_9110_writes_them(value: str, expected: datetime | None) -> None:
    from app.http.caching import parse_http_date

    assert parse_http_date(value) == expected
    # An rfc850-date's two-digit year: the latest such year up to 50 years ahead.
    rfc850 = "Friday, 01-Jan-76 00:00:00 GMT"
    assert parse_http_date(rfc850, datetime(2020, 1, 1, tzinfo=UTC)) == datetime(
        1976, 1, 1, tzinfo=UTC
    )
    assert parse_http_date(rfc850, datetime(2030, 1, 1, tzinfo=UTC)) == datetime(
        2076, 1, 1, tzinfo=UTC
    )


def test_the_openapi_document_offers_if_modified_since(demo_client: TestClient) -> None:
    paths = demo_client.get("/openapi.json").json()["paths"]
    for path in ("/feeds/articles.{fmt}", "/calendar/events.{fmt}"):
        operation = paths[path]["get"]
        names = [p["name"] for p in operation["parameters"]]
        assert "If-Modified-Since" in names
        assert "Last-Modified" in operation["responses"]["200"]["headers"]
        assert "Last-Modified" in operation["responses"]["304"]["headers"]
    # Other GETs date nothing, and do not offer it.
    articles = paths["/api/v1/articles"]["get"]
    assert "If-Modified-Since" not in [p["name"] for p in articles["parameters"]]


# ---------------------------------------------------------------------------------------
# A feed's `updated`


FEED_PATHS = ("/feeds/articles", "/feeds/topics/vis", "/feeds/people/ana-diaz")


def _updated(client: TestClient) -> dict[str, datetime]:
    """Each feed's `updated` in each format that says it, and its `Last-Modified`."""
    found = {}
    for path in FEED_PATHS:
        found[f"{path}.atom"] = atom_updated(client, f"{path}.atom")
        found[f"{path}.rss"] = rss_updated(client, f"{path}.rss")
        found[f"{path}.json Last-Modified"] = last_modified(client.get(f"{path}.json"))
    return found


def _later(before: dict[str, datetime], after: dict[str, datetime]) -> list[str]:
    """The feeds whose `updated` did not move on (RSS and HTTP dates: to the second)."""
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
        write(factory, "articles", public_fields(f"Article {n}", authors=["ana-diaz"]))
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
    write(factory, "articles", public_fields("Article", authors=["ana-diaz", "bo-li"]))
    before = _updated(client)
    patch(factory, "people", "bo-li", {"name": "Bo Lin"})
    after = _updated(client)
    assert _later(before, after) == []
    delete(factory, "people", "bo-li")
    assert _later(after, _updated(client)) == []


def test_an_empty_feed_is_not_dated_1970(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    # Nothing public at all: nothing to date it by, and no Last-Modified claims otherwise.
    assert "last-modified" not in client.get("/feeds/articles.atom").headers
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    topic = client.get("/api/v1/topics/vis").json()
    topic_updated = datetime.fromisoformat(topic["updated_at"])
    # A feed of a type never public says it has been as it is since the site last changed.
    for path in ("/feeds/articles.atom", "/feeds/publications.atom", "/feeds/topics/vis.atom"):
        assert atom_updated(client, path) == topic_updated, path
    assert rss_updated(client, "/feeds/events.rss") == topic_updated.replace(microsecond=0)
    assert last_modified(client.get("/feeds/events.json")) == topic_updated.replace(microsecond=0)
    # Emptied again: the moment it was emptied.
    write(session_factory, "articles", public_fields("Only"))
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
                assert mine.headers.get("last-modified") == fresh.headers.get("last-modified")


def test_updated_is_the_same_while_nothing_changes(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(session_factory, "articles", public_fields("Article"))
    first = client.get("/feeds/topics/vis.atom")
    with TestClient(client.app) as again:  # (a second client: no shared cache state matters)
        second = again.get("/feeds/topics/vis.atom")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["last-modified"] == second.headers["last-modified"]


def test_last_event_end_is_when_time_last_changed_which_events_are_upcoming(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    from app.content.queries import last_event_end
    from app.content.visibility import Viewer

    base = datetime(2030, 5, 1, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    events = [
        ("long", base - 10 * hour, base + 5 * hour),  # the longest: 15 hours
        ("short", base, base + hour),
        ("open", base + 2 * hour, None),  # no end: it ends as it starts
        ("later", base + 8 * hour, base + 9 * hour),
    ]
    for slug, starts, ends in events:
        write(
            session_factory,
            "events",
            {
                "slug": slug,
                "title": slug,
                "status": "published",
                "published_at": PAST,
                "starts_at": starts.isoformat(),
                **({"ends_at": ends.isoformat()} if ends else {}),
            },
        )
    write(
        session_factory,
        "events",
        {"title": "Draft", "status": "draft", "starts_at": (base + 3 * hour).isoformat()},
    )
    expected = [
        (base - 11 * hour, None),
        (base + 30 * timedelta(minutes=1), None),
        (base + 90 * timedelta(minutes=1), base + hour),
        (base + 4 * hour, base + 2 * hour),  # not the draft's start (hidden)
        (base + 6 * hour, base + 5 * hour),  # the long one, which started first
        (base + 10 * hour, base + 9 * hour),
    ]
    with session_factory() as session:
        for now, end in expected:
            assert last_event_end(session, Viewer(now=now)) == end, now


def test_an_item_going_public_by_time_alone_moves_last_modified(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A scheduled item goes public when its time comes, with no write: its `updated_at`
    is older than that. A calendar holding a scheduled event, or a feed whose quote now
    links to its scheduled article, changed then: its `Last-Modified` (and `updated`) must
    say so, or a reader that kept the earlier `Last-Modified` gets a 304 for bytes it has
    never seen (If-Modified-Since alone is what many calendar and feed clients send)."""
    from sqlalchemy import text

    now = datetime.now(UTC)
    went_public = (now - timedelta(minutes=10)).replace(microsecond=0)  # scheduled until then
    write(session_factory, "topics", {"slug": "vis", "name": "Visibility"})
    write(session_factory, "topics", {"slug": "quo", "name": "Quotes"})
    write(session_factory, "people", {"slug": "ana-diaz", "name": "Ana Díaz"})
    scheduled = {"status": "published", "published_at": went_public.isoformat()}
    write(
        session_factory,
        "events",
        {"title": "Talk", "starts_at": FUTURE, "topics": ["vis"], **scheduled},
    )
    write(session_factory, "articles", {"slug": "story", "title": "Story", **scheduled})
    write(
        session_factory,
        "quotes",
        {
            "text": "Words.",
            "status": "published",
            "published_at": PAST,
            "speaker": "ana-diaz",
            "article": "story",  # the feed of `quo` shows the quote, with its article's link
            "topics": ["quo"],
        },
    )
    # Every write made two hours ago, when the event and the article were still scheduled.
    with session_factory() as session, session.begin():
        for table in ("topic", "person", "event", "article", "quote"):
            session.execute(
                text(f"UPDATE {table} SET updated_at = :at, created_at = :at"),
                {"at": now - timedelta(hours=2)},
            )
    before = http_date(went_public - timedelta(seconds=1))  # kept from before it
    for path in ["/feeds/topics/quo.rss", "/calendar/events.ics", "/calendar/topics/vis.ics"]:
        response = client.get(path)
        assert last_modified(response) >= went_public, path
        assert client.get(path, headers={"If-Modified-Since": before}).status_code == 200, path
    assert atom_updated(client, "/feeds/topics/quo.atom") >= went_public
