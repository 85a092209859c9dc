"""HTTP around feeds and calendars, as partners polling them and CDNs in front see it:
conditional requests over several field lines, what `Vary` names, query strings.

Each test runs with the response cache and without it (the app's own answer), on SQLite
and PostgreSQL, over the demo dataset (read only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import feedparser
import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from starlette.datastructures import Headers

from app.config import Settings
from app.http.response_cache import request_key
from app.main import create_app
from tests.support import (
    TestDatabases,
    backend_of,
    count_queries,
    load_demo_into,
    make_settings,
)

FEEDS = [
    "/feeds/articles.rss",
    "/feeds/topics/kidnapping.atom",
    "/feeds/people/beatriz-magaloni.json",
    "/calendar/events.ics",
    "/calendar/topics/kidnapping.ics",
]
OTHER = '"0123456789abcdef0123456789abcdef"'


@pytest.fixture(scope="module", params=[True, False], ids=["cached", "uncached"])
def feeds(
    request: pytest.FixtureRequest, database_url: str, test_databases: TestDatabases
) -> Iterator[TestClient]:
    """A client over the demo dataset, with the response cache on or off."""
    url = test_databases.shared(backend_of(database_url), "demo", load_demo_into)
    app = create_app(make_settings(url, response_cache=request.param))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


@pytest.mark.parametrize("path", FEEDS)
def test_if_none_match_over_several_field_lines_is_one_list(feeds: TestClient, path: str) -> None:
    """RFC 9110 §5.3: `If-None-Match: "a"` and `If-None-Match: "b"` on two lines are the
    list `"a", "b"`; the first line alone answered 200 to a client holding "b"."""
    etag = feeds.get(path).headers["etag"]
    for _ in range(2):  # (the second from the cache, when there is one)
        lines = feeds.get(path, headers=[("If-None-Match", OTHER), ("If-None-Match", etag)])
        assert lines.status_code == 304, path
        assert lines.headers["etag"] == etag
    neither = feeds.get(path, headers=[("If-None-Match", OTHER), ("If-None-Match", '"x"')])
    assert neither.status_code == 200
    # If-None-Match decides alone, on whichever line: a matching date changes nothing.
    dated = feeds.get(
        path,
        headers=[
            ("If-None-Match", OTHER),
            ("If-None-Match", '"x"'),
            ("If-Modified-Since", neither.headers["last-modified"]),
        ],
    )
    assert dated.status_code == 200


def _vary(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")} - {""}


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_vary_only_by_what_their_bytes_depend_on(feeds: TestClient, path: str) -> None:
    """No `Accept` (a CDN kept a copy per `Accept` value readers send, of the same bytes),
    no `Authorization`; `Accept-Encoding` where gzip applies, on the 304 as on its 200."""
    plain = feeds.get(path, headers={"Accept": "application/rss+xml, */*;q=0.1"})
    assert plain.status_code == 200
    for accept in ("text/html", "application/json", "*/*"):
        other = feeds.get(path, headers={"Accept": accept})
        assert other.content == plain.content, accept
    zipped = feeds.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"  # (every feed here is over 1 KB)
    for response in (plain, zipped):
        assert not {"accept", "authorization"} & _vary(response), response.headers["vary"]
        assert "accept-encoding" in _vary(response)
        unchanged = feeds.get(
            path,
            headers={
                "If-None-Match": response.headers["etag"],
                "Accept-Encoding": response.headers.get("content-encoding", "identity"),
            },
        )
        assert unchanged.status_code == 304
        assert _vary(unchanged) == _vary(response)
    # An error for such a URL is problem+json whatever `Accept` says, and never stored.
    missing = path.replace("kidnapping", "no-such-topic").replace("events.", "nothing.")
    missing = missing.replace("articles.", "nothing.").replace("beatriz-magaloni", "nobody")
    for accept in ("text/html", "application/rss+xml", "text/calendar"):
        error = feeds.get(missing, headers={"Accept": accept})
        assert error.status_code == 404, missing
        assert error.headers["content-type"] == "application/problem+json"
        assert error.headers["cache-control"] == "no-store"


def test_openapi_says_what_feeds_vary_by(feeds: TestClient) -> None:
    paths = feeds.get("/openapi.json").json()["paths"]
    for path in ("/feeds/articles.{fmt}", "/calendar/events.{fmt}"):
        responses = paths[path]["get"]["responses"]
        for status in ("200", "304"):
            said = responses[status]["headers"]["Vary"]["description"]
            assert said.startswith("`Accept-Encoding`"), (path, status)
    listed = paths["/api/v1/events"]["get"]["responses"]
    assert listed["304"]["headers"]["Vary"]["description"].startswith("`Authorization`")


@pytest.mark.parametrize("path", FEEDS)
def test_a_query_string_is_ignored_and_shares_the_cache_entry(feeds: TestClient, path: str) -> None:
    """Feeds take no parameters: a reader's `?utm_source=…` is the same feed (not a 400),
    and one response-cache entry serves every query string (each made one of its own: a
    client could miss the cache at will and fill it)."""
    cached = feeds.app.state.settings.response_cache  # type: ignore[attr-defined]
    first = feeds.get(path)
    engine = feeds.app.state.engine  # type: ignore[attr-defined]
    for query in ("?utm_source=a", "?utm_source=b&limit=100", "?preview=true", "?"):
        with count_queries(engine) as queries:
            response = feeds.get(path + query)
        assert response.status_code == 200, query
        assert response.content == first.content
        assert response.headers["etag"] == first.headers["etag"]
        assert (queries.count == 0) == cached, query
        conditional = feeds.get(path + query, headers={"If-None-Match": first.headers["etag"]})
        assert conditional.status_code == 304
    # A NUL in the query string is refused, cache or no cache.
    assert feeds.get(path + "?utm_source=%00").status_code == 400


def test_the_cache_key_of_a_feed_leaves_its_query_out_and_a_list_keeps_it() -> None:
    def key(path: str, query: str) -> str | None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": [],
        }
        return request_key(scope, Headers(scope=scope))

    for path in ("/feeds/articles.rss", "/calendar/events.ics"):
        assert key(path, "utm_source=x") == key(path, "") == key(path, "preview=true")
        assert key(path, "a=%00") is None
    assert key("/api/v1/events", "limit=5") != key("/api/v1/events", "")
    assert key("/api/v1/events", "preview=true") is None


@pytest.mark.parametrize(("max_age", "interval"), [(60, "PT1H"), (3600, "PT1H"), (86400, "P1D")])
def test_a_calendar_asks_for_no_poll_sooner_than_its_copies_stay_fresh(
    app_factory: Any, max_age: int, interval: str
) -> None:
    """REFRESH-INTERVAL and X-PUBLISHED-TTL: hourly, or `CACHE_MAX_AGE` when longer (a poll
    within `max-age` gets a cached copy; they said hourly whatever `max-age` was)."""
    with TestClient(app_factory(cache_max_age=max_age)) as client:
        response = client.get("/calendar/events.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    assert calendar["REFRESH-INTERVAL"].to_ical().decode() == interval
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(calendar["X-PUBLISHED-TTL"]) == interval
    assert response.headers["cache-control"] == f"public, max-age={max_age}"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_feeds_say_their_language(feeds: TestClient, fmt: str) -> None:
    """`FEED_LANGUAGE` (default `en`): RSS <language>, Atom xml:lang, JSON Feed `language`,
    as feedparser reads them; nothing said it before."""
    response = feeds.get(f"/feeds/topics/kidnapping.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert response.json()["language"] == "en"
    else:
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.language == "en"


def test_the_feed_language_is_a_setting(app_factory: Any) -> None:
    with TestClient(app_factory(feed_language="fr-CA")) as client:
        rss = feedparser.parse(client.get("/feeds/articles.rss").content)
        atom = client.get("/feeds/articles.atom").content
        assert client.get("/feeds/articles.json").json()["language"] == "fr-CA"
    assert rss.feed.language == "fr-CA"
    assert b'xml:lang="fr-CA"' in atom
    assert feedparser.parse(atom).feed.language == "fr-CA"
    for wrong in ("", "French", "fr_CA"):
        with pytest.raises(ValueError, match="language tag"):
            Settings(feed_language=wrong)


REST = [
    "/api/v1/events?topic=kidnapping&include=participants.person",
    "/api/v1/people/beatriz-magaloni",
    "/api/v1/topics/kidnapping/stream",
    "/api/v1/publications/pub_1/citation?format=bibtex",
]


@pytest.mark.parametrize("path", REST)
def test_rest_answers_vary_by_authorization_not_accept(feeds: TestClient, path: str) -> None:
    """No REST body depends on `Accept` (a CDN kept a copy per value clients send); a key
    can make the same URL private (`?preview=true`), so `Authorization` stays."""
    plain = feeds.get(path)
    assert plain.status_code == 200, path
    for accept in ("text/html", "application/xml", "*/*"):
        other = feeds.get(path, headers={"Accept": accept})
        assert (other.status_code, other.content) == (200, plain.content), (path, accept)
        assert other.headers["etag"] == plain.headers["etag"]
    assert "authorization" in _vary(plain)
    assert "accept" not in _vary(plain), plain.headers["vary"]
    again = feeds.get(path, headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    assert "accept" not in _vary(again)
