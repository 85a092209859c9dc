"""Which writes purge a cached REST or GraphQL GET response, beyond the items it shows.

A list filtered by another item (`?topic=`, `?author=`, …) names that item's collection
(`topics`, `people`, …) beside its own and its items': a write to that item (renamed,
deleted) or to the listed collection purges it, and a write anywhere else leaves it cached.
A response showing a relation to a publishable type names that type's collection: a linked
draft, shown as nothing, appears once it is published.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.types import ALL_TYPES
from tests.support import count_queries


@pytest.fixture
def api(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(response_cache=True)) as client:
        yield client


def _served_from_cache(api: TestClient, url: str) -> tuple[bool, Any]:
    engine = api.app.state.engine  # type: ignore[attr-defined]
    with count_queries(engine) as queries:
        response = api.get(url)
    return queries.count == 0, response


def _write(api: TestClient, method: str, path: str, body: Any, writer: dict[str, str]) -> Any:
    headers = (
        {**writer, "Content-Type": "application/merge-patch+json"} if method == "PATCH" else writer
    )
    response = api.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text
    return response


def test_a_list_by_topic_stays_cached_through_other_writes_and_goes_with_its_topic(
    api: TestClient, writer: dict[str, str]
) -> None:
    _write(api, "POST", "/api/v1/topics", {"name": "Keyed"}, writer)
    _write(api, "POST", "/api/v1/topics", {"name": "Other"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Tagged",
            "starts_at": "2026-12-01T10:00:00Z",
            "status": "published",
            "topics": ["keyed"],
        },
        writer,
    )
    _write(api, "POST", "/api/v1/articles", {"title": "Unrelated", "status": "published"}, writer)
    url = "/api/v1/events?topic=keyed"
    first = api.get(url)
    assert [e["title"] for e in first.json()["data"]] == ["Tagged"]
    assert {"events", "topics"} <= set(first.headers["surrogate-key"].split())
    assert _served_from_cache(api, url)[0]

    _write(api, "PATCH", "/api/v1/articles/unrelated", {"title": "Unrelated, revised"}, writer)
    hit, again = _served_from_cache(api, url)
    assert hit
    assert again.content == first.content

    # Another event tagged with it: the events collection's key.
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Tagged too",
            "starts_at": "2026-12-02T10:00:00Z",
            "status": "published",
            "topics": ["keyed"],
        },
        writer,
    )
    hit, again = _served_from_cache(api, url)
    assert not hit
    assert {e["title"] for e in again.json()["data"]} == {"Tagged", "Tagged too"}
    assert _served_from_cache(api, url)[0]

    # Any topic's write: the list by topic may now name another (or no) topic.
    _write(api, "PATCH", "/api/v1/topics/other", {"name": "Other, renamed"}, writer)
    assert not _served_from_cache(api, url)[0]
    _write(api, "DELETE", "/api/v1/topics/keyed", None, writer)
    hit, gone = _served_from_cache(api, url)
    assert not hit
    assert gone.content != again.content


def test_lists_by_person_or_organization_name_their_collections(
    api: TestClient, writer: dict[str, str]
) -> None:
    _write(api, "POST", "/api/v1/organizations", {"name": "Institute"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/people",
        {"name": "Ada Keyed", "affiliations": [{"organization": "institute", "role": "Fellow"}]},
        writer,
    )
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Talk",
            "starts_at": "2026-12-01T10:00:00Z",
            "status": "published",
            "participants": [{"person": "ada-keyed", "role": "speaker"}],
        },
        writer,
    )
    for url, named in (
        ("/api/v1/events?person=ada-keyed", "people"),
        ("/api/v1/people?organization=institute", "organizations"),
    ):
        first = api.get(url)
        assert len(first.json()["data"]) == 1, first.text
        assert named in first.headers["surrogate-key"].split()
        assert _served_from_cache(api, url)[0]
    _write(api, "PATCH", "/api/v1/organizations/institute", {"name": "Institute, renamed"}, writer)
    assert _served_from_cache(api, "/api/v1/events?person=ada-keyed")[0]
    assert not _served_from_cache(api, "/api/v1/people?organization=institute")[0]


def test_a_cached_response_shows_a_linked_draft_once_it_is_published(
    api: TestClient, writer: dict[str, str]
) -> None:
    """A quote's source article, an article's resource: a link to a draft renders as
    nothing, and publishing the draft is a write to the other collection. Responses that
    show such a relation name that collection, so the publication purges them."""
    _write(api, "POST", "/api/v1/articles", {"title": "Source", "status": "draft"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/quotes",
        {"text": "Said", "attribution": "X", "article": "source", "status": "published"},
        writer,
    )
    _write(
        api,
        "POST",
        "/api/v1/resources",
        {"name": "Helpline", "resource_type": "hotline", "status": "draft"},
        writer,
    )
    _write(
        api,
        "POST",
        "/api/v1/articles",
        {"title": "Guide", "status": "published", "resources": ["helpline"]},
        writer,
    )
    quotes, guide = "/api/v1/quotes", "/api/v1/articles/guide"
    assert api.get(quotes).json()["data"][0]["article"] is None
    assert api.get(guide).json()["resources"] == []
    assert "articles" in api.get(quotes).headers["surrogate-key"].split()
    assert "resources" in api.get(guide).headers["surrogate-key"].split()
    assert _served_from_cache(api, quotes)[0]
    assert _served_from_cache(api, guide)[0]

    _write(api, "PATCH", "/api/v1/articles/source", {"status": "published"}, writer)
    _write(api, "PATCH", "/api/v1/resources/helpline", {"status": "published"}, writer)
    assert api.get(quotes).json()["data"][0]["article"]["slug"] == "source"
    assert [r["slug"] for r in api.get(guide).json()["resources"]] == ["helpline"]


def test_a_new_quote_reaches_the_cached_article_it_cites(
    api: TestClient, writer: dict[str, str]
) -> None:
    """An article shows the quotes that cite it; a new quote is a write to `quotes` only."""
    _write(api, "POST", "/api/v1/articles", {"title": "Cited", "status": "published"}, writer)
    url = "/api/v1/articles/cited"
    assert api.get(url).json()["quotes"] == []
    assert "quotes" in api.get(url).headers["surrogate-key"].split()
    titles_only = "/api/v1/articles?fields=title"
    api.get(titles_only)
    assert _served_from_cache(api, titles_only)[0]
    _write(
        api,
        "POST",
        "/api/v1/quotes",
        {"text": "Quoted", "attribution": "Y", "article": "cited", "status": "published"},
        writer,
    )
    assert [q["slug"] for q in api.get(url).json()["quotes"]] == ["quoted"]
    assert _served_from_cache(api, titles_only)[0]  # shows no quotes: stays cached


def _graphql(query: str) -> str:
    from urllib.parse import urlencode

    return "/graphql?" + urlencode({"query": query})


def test_graphql_get_responses_are_purged_precisely(
    api: TestClient, writer: dict[str, str]
) -> None:
    """GraphQL over GET names what it read as a REST response does (its items, the
    collections it lists, those its filters name, those its relations watch): a write to
    another collection leaves it cached, one that can change it purges it."""
    _write(api, "POST", "/api/v1/topics", {"name": "Graph"}, writer)
    _write(api, "POST", "/api/v1/people", {"name": "Gia Speaker"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "First talk",
            "starts_at": "2026-12-01T10:00:00Z",
            "status": "published",
            "topics": ["graph"],
            "participants": [{"person": "gia-speaker", "role": "speaker"}],
        },
        writer,
    )
    _write(api, "POST", "/api/v1/articles", {"title": "Draft source", "status": "draft"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/quotes",
        {"text": "Quoted", "attribution": "Z", "article": "draft-source", "status": "published"},
        writer,
    )
    events = _graphql(
        '{ events(filter: {topic: "graph"}) { edges { node { title speakers { name } } } } }'
    )
    quotes = _graphql("{ quotes { edges { node { text article { title } } } } }")
    first = api.get(events)
    assert first.status_code == 200, first.text
    assert {"events", "topics"} <= set(first.headers["surrogate-key"].split())
    assert api.get(quotes).json()["data"]["quotes"]["edges"][0]["node"]["article"] is None
    assert _served_from_cache(api, events)[0]
    assert _served_from_cache(api, quotes)[0]

    _write(api, "POST", "/api/v1/organizations", {"name": "Unrelated org"}, writer)
    assert _served_from_cache(api, events)[0]
    assert _served_from_cache(api, quotes)[0]

    _write(api, "PATCH", "/api/v1/people/gia-speaker", {"name": "Gia Renamed"}, writer)
    hit, renamed = _served_from_cache(api, events)
    assert not hit
    assert "Gia Renamed" in renamed.text
    _write(api, "PATCH", "/api/v1/articles/draft-source", {"status": "published"}, writer)
    hit, published = _served_from_cache(api, quotes)
    assert not hit
    assert published.json()["data"]["quotes"]["edges"][0]["node"]["article"] == {
        "title": "Draft source"
    }
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Second talk",
            "starts_at": "2026-12-02T10:00:00Z",
            "status": "published",
            "topics": ["graph"],
        },
        writer,
    )
    assert "Second talk" in api.get(events).text


def test_streams_feeds_and_calendars_stay_cached_through_writes_they_do_not_show(
    api: TestClient, writer: dict[str, str]
) -> None:
    """They name what they show and the collections they may hold: a write elsewhere (an
    organization none of them shows) leaves them cached; a new article reaches the topic's
    stream and feed; a renamed speaker reaches the calendar that names them."""
    _write(api, "POST", "/api/v1/topics", {"name": "Fed"}, writer)
    _write(api, "POST", "/api/v1/people", {"name": "Sam Speaker"}, writer)
    _write(api, "POST", "/api/v1/organizations", {"name": "Elsewhere"}, writer)
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Fed event",
            "starts_at": "2030-12-01T10:00:00Z",
            "status": "published",
            "topics": ["fed"],
            "participants": [{"person": "sam-speaker", "role": "speaker"}],
        },
        writer,
    )
    urls = [
        "/api/v1/topics/fed/stream",
        "/feeds/topics/fed.json",
        "/feeds/events.atom",
        "/calendar/topics/fed.ics",
        "/api/v1/changes",
    ]
    first = {url: api.get(url) for url in urls}
    assert all(response.status_code == 200 for response in first.values())
    assert all(_served_from_cache(api, url)[0] for url in urls)

    _write(api, "PATCH", "/api/v1/organizations/elsewhere", {"name": "Elsewhere, renamed"}, writer)
    hits = [_served_from_cache(api, url)[0] for url in urls]
    assert hits == [True, True, True, True, False]  # the change log lists every write

    _write(api, "PATCH", "/api/v1/people/sam-speaker", {"name": "Sam Renamed"}, writer)
    calendar = _served_from_cache(api, "/calendar/topics/fed.ics")
    assert not calendar[0]
    assert "Sam Renamed" in calendar[1].text
    assert _served_from_cache(api, "/api/v1/topics/fed/stream")[0]  # flat items: no people
    assert not _served_from_cache(api, "/feeds/events.atom")[0]  # its entry names Sam

    _write(
        api,
        "POST",
        "/api/v1/articles",
        {"title": "Fed article", "status": "published", "topics": ["fed"]},
        writer,
    )
    for url in urls[:2]:
        hit, response = _served_from_cache(api, url)
        assert not hit
        assert "Fed article" in response.text
    assert _served_from_cache(api, "/feeds/events.atom")[0]


def test_graphql_search_goes_with_a_write_to_any_type(
    api: TestClient, writer: dict[str, str]
) -> None:
    """Search ranks candidates found across every type (and SQLite's scores use every
    document), so a typed GraphQL search goes with a write to any type, as REST search does."""
    _write(
        api,
        "POST",
        "/api/v1/articles",
        {"title": "Hostages and ransom", "status": "published"},
        writer,
    )
    url = '/graphql?query={search(query:"hostages",types:[ARTICLE],first:5){totalCount}}'
    assert api.get(url).json()["data"]["search"]["totalCount"] == 1
    assert _served_from_cache(api, url)[0]
    _write(
        api, "POST", "/api/v1/people", {"name": "Hostages Person", "bio": "<p>hostages</p>"}, writer
    )
    assert not _served_from_cache(api, url)[0]
    # REST's typed search names every collection for a CDN too (it named only its types).
    typed = api.get("/api/v1/search", params={"q": "hostages", "type": "article"})
    assert {t.collection for t in ALL_TYPES} <= set(typed.headers["surrogate-key"].split())


def test_the_cache_key_holds_what_the_response_is_made_of(
    api: TestClient, writer: dict[str, str]
) -> None:
    """Lists link to themselves from the request's URL: another client's `Host` (or, behind
    a trusted proxy, scheme) gets its own entry, not a share of someone else's links. A
    repeated GraphQL parameter keeps its order (the last `query` is the one run)."""
    for i in range(3):
        _write(api, "POST", "/api/v1/topics", {"name": f"Linked {i}"}, writer)
    url = "/api/v1/topics?limit=1"
    mine = api.get(url)
    assert mine.json()["links"]["next"].startswith("http://testserver/")
    theirs = api.get(url, headers={"Host": "evil.example"})
    assert theirs.json()["links"]["next"].startswith("http://evil.example/")
    hit, again = _served_from_cache(api, url)
    assert hit
    assert again.json()["links"] == mine.json()["links"]
    assert again.headers["link"] == mine.headers["link"]
    # One entry for both orders of the same parameters, and the same links whoever filled it.
    one_way = api.get("/api/v1/topics?limit=1&fields=name").json()["links"]
    hit, other_way = _served_from_cache(api, "/api/v1/topics?fields=name&limit=1")
    assert hit
    assert other_way.json()["links"] == one_way
    assert one_way["self"] == "http://testserver/api/v1/topics?fields=name&limit=1"
    assert one_way["next"].startswith("http://testserver/api/v1/topics?fields=name&limit=1&cursor=")

    first, second = "{__typename}", "{topics(first:1){totalCount}}"
    assert api.get("/graphql", params={"query": second}).json() == {
        "data": {"topics": {"totalCount": 3}}
    }
    for params in ([("query", first), ("query", second)], [("query", second), ("query", first)]):
        refused = api.get("/graphql", params=params)
        assert refused.status_code == 400
        assert "data" not in refused.json()


def test_lists_that_time_changes_are_cached_no_longer_than_until_it_does(
    api: TestClient, writer: dict[str, str]
) -> None:
    """An `upcoming` list changes when an event ends, with no write: its max-age (for CDNs)
    and its stay in the response cache end then, REST, GraphQL GET and calendars alike."""
    now = datetime.now(UTC)
    ending = (now + timedelta(seconds=2)).isoformat()
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Ending soon",
            "status": "published",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": ending,
        },
        writer,
    )
    _write(
        api,
        "POST",
        "/api/v1/events",
        {
            "title": "Next week",
            "status": "published",
            "starts_at": (now + timedelta(days=7)).isoformat(),
        },
        writer,
    )
    graphql = "/graphql?query={events(filter:{upcoming:true}){edges{node{title}}}}"
    urls = (
        "/api/v1/events?upcoming=true",
        "/api/v1/events?upcoming=false",
        graphql,
        "/calendar/events.ics",
    )
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        max_age = int(response.headers["cache-control"].split("max-age=")[1])
        assert 0 <= max_age <= 2, url
    assert api.get("/api/v1/events").headers["cache-control"] == "public, max-age=60"
    assert "Ending soon" in api.get("/api/v1/events?upcoming=true").text
    time.sleep(max(0.0, (datetime.fromisoformat(ending) - datetime.now(UTC)).total_seconds()) + 0.5)
    assert "Ending soon" not in api.get("/api/v1/events?upcoming=true").text
    assert "Ending soon" in api.get("/api/v1/events?upcoming=false").text
    assert "Ending soon" not in api.get(graphql).text
