"""The public REST reads against the demo dataset: envelope, every parameter, every error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.filters import FILTERS
from app.content.types import ALL_TYPES
from app.http.caching import collect_ids, etag_for
from app.rest.schemas import ITEM_MODELS, LIST_MODELS, ChangeList, SearchList, StreamList
from tests.admin_helpers import problem as checked_problem
from tests.rest_factories import walk

PROBLEM = "application/problem+json"
COLLECTIONS = [t.collection for t in ALL_TYPES]


def ok(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params or None)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    return response.json()


def problem(client: TestClient, url: str, status: int = 400, **params: Any) -> dict[str, Any]:
    return checked_problem(client.get(url, params=params or None), status)


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


# --- lists ----------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_collection_lists_in_the_envelope(demo_client: TestClient, collection: str) -> None:
    response = demo_client.get(f"/api/v1/{collection}", params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "meta", "links"}
    assert set(body["meta"]) == {"next_cursor", "total"}
    assert body["links"]["self"] == f"http://testserver/api/v1/{collection}?limit=2"
    LIST_MODELS[collection].model_validate(body)
    everything = walk(demo_client, f"/api/v1/{collection}", {"limit": 2})
    assert len(everything) == body["meta"]["total"] > 0
    assert len({i["id"] for i in everything}) == len(everything)
    if body["meta"]["total"] > 2:
        next_url = body["links"]["next"]
        assert next_url.startswith(f"http://testserver/api/v1/{collection}?limit=2&cursor=")
        assert response.headers["link"] == f'<{next_url}>; rel="next"'
        assert body["meta"]["next_cursor"] in next_url
    keys = response.headers["surrogate-key"].split()
    assert collection in keys
    assert set(ids(body)) <= set(keys)


def test_self_and_next_links_spell_the_query_alike(demo_client: TestClient) -> None:
    """However the request encoded a space, `self` and `next` encode it the same way."""
    body = demo_client.get("/api/v1/articles?limit=1&q=kidnapping%20in").json()
    query = "limit=1&q=kidnapping+in"
    assert body["links"]["self"] == f"http://testserver/api/v1/articles?{query}"
    assert body["links"]["next"].startswith(f"http://testserver/api/v1/articles?{query}&cursor=")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?include=participants.person.affiliations,sponsors,topics&limit=5",
        "/api/v1/articles?include=authors,quotes.speaker,related&limit=5",
        "/api/v1/events?fields=title,topics&limit=5",
        "/api/v1/people/amichai-magen?include=affiliations",
        "/api/v1/events?fields=title&limit=5",
    ],
)
def test_surrogate_keys_name_exactly_the_ids_in_the_body(demo_client: TestClient, url: str) -> None:
    # The renderer reports what it rendered; it must agree with a walk over the body.
    response = demo_client.get(url)
    assert response.status_code == 200, response.text[:300]
    keys = set(response.headers["surrogate-key"].split())
    found = collect_ids(response.json())
    assert len(found) > 1
    assert {k for k in keys if "_" in k} == found


def test_last_page_has_no_next_link(demo_client: TestClient) -> None:
    response = demo_client.get("/api/v1/events", params={"limit": 100})
    body = response.json()
    assert body["links"]["next"] is None
    assert body["meta"]["next_cursor"] is None
    assert "link" not in response.headers


def test_next_link_keeps_every_other_parameter(demo_client: TestClient) -> None:
    body = ok(
        demo_client,
        "/api/v1/events",
        limit=1,
        topic=["israel", "mexico"],
        include="participants",
        fields="title,participants",
    )
    url = body["links"]["next"]
    assert "topic=israel&topic=mexico" in url
    assert "include=participants" in url
    second = demo_client.get(url).json()
    assert set(second["data"][0]) == {"id", "title", "participants"}
    assert second["data"][0]["id"] not in ids(body)


@pytest.mark.parametrize(
    ("collection", "field", "descending"),
    [
        ("articles", "published_at", True),
        ("events", "starts_at", True),
        ("publications", "year", True),
        ("resources", "position", False),
        ("quotes", "published_at", True),
    ],
)
def test_default_sorts(
    demo_client: TestClient, collection: str, field: str, descending: bool
) -> None:
    data = ok(demo_client, f"/api/v1/{collection}", limit=100)["data"]
    values = [item[field] if item[field] is not None else 0 for item in data]
    assert values == sorted(values, reverse=descending)


def test_default_sort_of_people_is_sort_name(demo_client: TestClient) -> None:
    default = ids(ok(demo_client, "/api/v1/people", limit=100))
    assert default == ids(ok(demo_client, "/api/v1/people", limit=100, sort="sort_name"))
    assert default == ids(ok(demo_client, "/api/v1/people", limit=100, sort="-sort_name"))[::-1]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_sort_of_every_collection(demo_client: TestClient, collection: str) -> None:
    ctype = next(t for t in ALL_TYPES if t.collection == collection)
    for name in ctype.sorts:
        ascending = ids(ok(demo_client, f"/api/v1/{collection}", limit=100, sort=name))
        descending = ids(ok(demo_client, f"/api/v1/{collection}", limit=100, sort="-" + name))
        assert sorted(ascending) == sorted(descending)
    body = problem(demo_client, f"/api/v1/{collection}", sort="colour")
    assert [e["loc"] for e in body["errors"]] == [["query", "sort"]]
    assert body["detail"].startswith("Invalid 'sort': ")
    assert "colour" in body["detail"]
    problem(demo_client, f"/api/v1/{collection}", sort="--name")


def test_sort_by_date_is_ordered(demo_client: TestClient) -> None:
    data = ok(demo_client, "/api/v1/events", sort="starts_at")["data"]
    starts = [e["starts_at"] for e in data]
    assert starts == sorted(starts)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "99999999999999999999", " "])
def test_bad_limits_are_400(demo_client: TestClient, limit: str) -> None:
    body = problem(demo_client, "/api/v1/events", limit=limit)
    assert body["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("name", ["upcoming", "preview"])
def test_booleans_are_read_as_preview_reads_them(demo_client: TestClient, name: str) -> None:
    """`upcoming` as `preview`: true, false, 1 or 0 (`yes` was true here and a 400 there).
    (`preview=true` without a key is a 401: read, and refused.)"""
    for value in ("true", "false", "1", "0", "TRUE"):
        response = demo_client.get("/api/v1/events", params={name: value})
        assert response.status_code in (200, 401), (name, value, response.text)
    for value in ("yes", "no", "on", "2"):
        response = demo_client.get("/api/v1/events", params={name: value})
        assert response.status_code == 400, (name, value, response.text)
        assert "must be true or false" in response.json()["detail"]


def test_limit_bounds_and_default(demo_client: TestClient) -> None:
    assert len(ok(demo_client, "/api/v1/organizations")["data"]) == 20
    assert len(ok(demo_client, "/api/v1/organizations", limit=1)["data"]) == 1
    assert len(ok(demo_client, "/api/v1/organizations", limit=100)["data"]) == 43


def test_topic_is_repeatable_and_matches_any(demo_client: TestClient) -> None:
    israel = set(ids(ok(demo_client, "/api/v1/events", topic="israel")))
    mexico = set(ids(ok(demo_client, "/api/v1/events", topic="mexico")))
    both = ok(demo_client, "/api/v1/events", topic=["israel", "mexico"])
    assert israel
    assert mexico
    assert not israel & mexico
    assert set(ids(both)) == israel | mexico
    assert both["meta"]["total"] == len(israel | mexico)
    assert ok(demo_client, "/api/v1/events", topic="no-such-topic")["data"] == []
    for item in ok(demo_client, "/api/v1/articles", topic="mexico", limit=100)["data"]:
        assert "mexico" in [t["slug"] for t in item["topics"]]


def test_q_searches_the_collection(demo_client: TestClient) -> None:
    body = ok(demo_client, "/api/v1/publications", q="extortion")
    assert body["meta"]["total"] == 2
    assert ok(demo_client, "/api/v1/people", q="Sandberg")["data"][0]["slug"] == "sheryl-sandberg"
    assert ok(demo_client, "/api/v1/events", q="xylophonic")["data"] == []
    # Every text field: a label of the CST's contacts says "24/7 urgent support hotline".
    assert ok(demo_client, "/api/v1/resources", q="urgent")["meta"]["total"] == 1
    problem(demo_client, "/api/v1/events", q="!!!")


def test_updated_since(demo_client: TestClient) -> None:
    total = ok(demo_client, "/api/v1/people")["meta"]["total"]
    assert ok(demo_client, "/api/v1/people", updated_since="2000-01-01")["meta"]["total"] == total
    assert (
        ok(demo_client, "/api/v1/people", updated_since="2999-01-01T00:00:00Z")["meta"]["total"]
        == 0
    )
    for bad in ("yesterday", "2024-13-01", "0001-01-01T00:00:00+14:00", "99999-01-01"):
        assert problem(demo_client, "/api/v1/people", updated_since=bad)["errors"][0]["loc"] == [
            "query",
            "updated_since",
        ]


# --- per-collection filters -----------------------------------------------------------


def test_event_filters(demo_client: TestClient) -> None:
    url = "/api/v1/events"
    assert {e["event_type"] for e in ok(demo_client, url, event_type="seminar")["data"]} == {
        "seminar"
    }
    assert {
        e["attendance_mode"] for e in ok(demo_client, url, attendance_mode="online")["data"]
    } == {"online"}
    with_magen = ok(demo_client, url, person="amichai-magen")["data"]
    assert len(with_magen) == 2
    as_host = ok(demo_client, url, person="amichai-magen", role="host")["data"]
    assert [e["slug"] for e in as_host] == ["screams-before-silence-screening-and-conversation"]
    for event in ok(demo_client, url, role="moderator")["data"]:
        assert "moderator" in [p["role"] for p in event["participants"]]
    window = ok(demo_client, url, **{"from": "2023-01-01", "to": "2024-01-01T00:00:00+00:00"})[
        "data"
    ]
    assert [e["slug"] for e in window] == [
        "hamas-attack-on-israel-implications-for-israel-and-the-middle-east"
    ]
    assert ok(demo_client, url, upcoming="true")["data"] == []
    assert ok(demo_client, url, upcoming="false")["meta"]["total"] == 3
    for name, bad in [
        ("event_type", "party"),
        ("attendance_mode", "telepathy"),
        ("role", "star"),
        ("upcoming", "maybe"),
        ("from", "soon"),
        ("to", "2024-02-30"),
    ]:
        body = problem(demo_client, f"{url}?{name}={bad}")
        assert body["errors"][0]["loc"] == ["query", name]
        assert f"'{name}'" in body["detail"]


def test_article_publication_people_quote_resource_filters(demo_client: TestClient) -> None:
    articles = "/api/v1/articles"
    assert {
        a["article_type"] for a in ok(demo_client, articles, article_type="commentary")["data"]
    } == {"commentary"}
    by_author = ok(demo_client, articles, author="dana-phelps")["data"]
    assert [a["slug"] for a in by_author] == [
        "julie-cordua-thorn-technology-child-sexual-exploitation"
    ]
    after = ok(demo_client, articles, published_after="2023-10-20")["data"]
    assert {a["slug"] for a in after} == {
        "sheryl-sandberg-screams-before-silence-stanford",
        "1973-yom-kippur-war-and-lessons-for-the-israel-hamas-conflict",
    }
    assert ok(demo_client, articles, published_before="2011-10-15")["meta"]["total"] == 1
    pubs = "/api/v1/publications"
    assert ok(demo_client, pubs, publication_type="journal_article")["meta"]["total"] == 1
    assert ok(demo_client, pubs, author="beatriz-magaloni")["meta"]["total"] == 1
    assert ok(demo_client, pubs, year="2020")["meta"]["total"] == 1
    assert ok(demo_client, pubs, year="1999")["meta"]["total"] == 0
    problem(demo_client, pubs, year="twenty")
    people = ok(
        demo_client, "/api/v1/people", organization="stanford-program-on-human-rights", limit=100
    )
    assert {p["slug"] for p in people["data"]} == {"dana-phelps", "helen-stacy"}
    # Only current affiliations count: Magen left CDDRL in 2009 but Milani is there now.
    cddrl = {
        p["slug"]
        for p in ok(demo_client, "/api/v1/people", organization="cddrl", limit=100)["data"]
    }
    assert "abbas-milani" in cddrl
    assert "amichai-magen" not in cddrl
    assert ok(demo_client, "/api/v1/quotes", speaker="sheryl-sandberg")["meta"]["total"] == 3
    assert ok(demo_client, "/api/v1/quotes", speaker="larry-diamond")["meta"]["total"] == 0
    assert (
        ok(
            demo_client, "/api/v1/quotes", article="sheryl-sandberg-screams-before-silence-stanford"
        )["meta"]["total"]
        == 3
    )
    hotlines = ok(demo_client, "/api/v1/resources", resource_type="hotline")["data"]
    assert [r["slug"] for r in hotlines] == ["211-santa-clara-county", "shalom-bayit"]
    problem(demo_client, "/api/v1/resources", resource_type="psychic")


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_filters_of_other_collections_are_unknown_parameters(
    demo_client: TestClient, collection: str
) -> None:
    foreign = {name for c, specs in FILTERS.items() if c != collection for name in specs}
    for name in sorted(foreign - set(FILTERS[collection])):
        body = problem(demo_client, f"/api/v1/{collection}?{name}=x")
        assert repr(name) in body["detail"]


def test_unknown_and_repeated_parameters_are_400(demo_client: TestClient) -> None:
    body = problem(demo_client, "/api/v1/events", evnet_type="seminar", colour="red")
    assert "'evnet_type'" in body["detail"]
    assert "'colour'" in body["detail"]
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("query", "evnet_type"),
        ("query", "colour"),
    }
    problem(demo_client, "/api/v1/events?limit=1&limit=2")
    problem(
        demo_client, "/api/v1/events/screams-before-silence-screening-and-conversation", limit=1
    )
    problem(demo_client, "/api/v1/events?q=%00")
    assert demo_client.get("/api/v1/events?topic=israel&topic=mexico").status_code == 200


# --- include and fields ---------------------------------------------------------------


def test_relations_are_compact_unless_included(demo_client: TestClient) -> None:
    slug = "hamas-attack-on-israel-implications-for-israel-and-the-middle-east"
    event = ok(demo_client, f"/api/v1/events/{slug}")
    participant = event["participants"][0]
    assert set(participant) == {"role", "title", "position", "person"}
    # The speaker card's own lines, not the profile's title.
    assert participant["title"].startswith("Inaugural visiting fellow in Israel Studies at FSI\n")
    assert set(participant["person"]) == {"id", "slug", "name"}
    assert set(event["topics"][0]) == {"id", "slug", "name"}
    full = ok(
        demo_client, f"/api/v1/events/{slug}", include="participants.person.affiliations,topics"
    )
    person = full["participants"][0]["person"]
    assert person["bio"]
    assert person["affiliations"]
    assert "feeds" in person
    organization = person["affiliations"][0]["organization"]
    assert {"short_name", "url", "parent", "topics"} <= set(organization)
    assert full["topics"][0]["feeds"]["rss"].endswith("/feeds/topics/kidnapping.rss")
    ITEM_MODELS["events"].model_validate(full)
    # `participants` alone embeds people, whose own relations stay compact.
    shallow = ok(demo_client, f"/api/v1/events/{slug}", include="participants")
    assert set(shallow["participants"][0]["person"]["affiliations"][0]["organization"]) == {
        "id",
        "slug",
        "name",
    }


def test_include_errors(demo_client: TestClient) -> None:
    for bad in (
        "speakers",
        "participants.person.colour",
        "participants.person.affiliations.parent.parent",
        "topics.topics",
        "title",
    ):
        body = problem(demo_client, "/api/v1/events", include=bad)
        assert body["errors"][0]["loc"] == ["query", "include"], bad
    problem(demo_client, "/api/v1/people/larry-diamond", include="participants")
    assert ok(demo_client, "/api/v1/events", include="")["data"]
    assert ok(demo_client, "/api/v1/organizations", include="parent.parent.parent")["data"]


def test_fields(demo_client: TestClient) -> None:
    data = ok(demo_client, "/api/v1/events", fields="title,starts_at")["data"]
    assert all(set(e) == {"id", "title", "starts_at"} for e in data)
    data = ok(demo_client, "/api/v1/events", fields="title", include="participants")["data"]
    assert set(data[0]) == {"id", "title", "participants"}
    person = ok(demo_client, "/api/v1/people/larry-diamond", fields="name")
    assert person == {"id": person["id"], "name": "Larry Diamond"}
    person = ok(demo_client, "/api/v1/people/larry-diamond", fields="feeds")
    assert set(person) == {"id", "feeds"}
    body = problem(demo_client, "/api/v1/events", fields="title,colour")
    assert "colour" in body["detail"]
    assert body["errors"][0]["loc"] == ["query", "fields"]
    problem(demo_client, "/api/v1/topics/kidnapping", fields="participants")
    assert ok(demo_client, "/api/v1/events", fields=",")["data"][0]["participants"]


# --- single items ---------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_detail_by_id_and_slug(demo_client: TestClient, collection: str) -> None:
    first = ok(demo_client, f"/api/v1/{collection}", limit=1)["data"][0]
    by_slug = demo_client.get(f"/api/v1/{collection}/{first['slug']}")
    by_id = demo_client.get(f"/api/v1/{collection}/{first['id']}")
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json() == first
    assert by_slug.headers["etag"] == by_id.headers["etag"]
    assert first["id"] in by_slug.headers["surrogate-key"].split()
    ITEM_MODELS[collection].model_validate(by_slug.json())
    body = problem(demo_client, f"/api/v1/{collection}/no-such-thing", 404)
    assert collection in body["detail"]
    assert "no-such-thing" in body["detail"]
    other = "evt_1" if collection != "events" else "art_1"
    problem(demo_client, f"/api/v1/{collection}/{other}", 404)
    problem(demo_client, f"/api/v1/{collection}/{first['id']}99999", 404)


def test_topics_and_people_carry_feed_links(demo_client: TestClient) -> None:
    topic = ok(demo_client, "/api/v1/topics/kidnapping")
    assert set(topic["feeds"]) == {"rss", "atom", "json", "ics"}
    assert topic["feeds"]["ics"].endswith("/calendar/topics/kidnapping.ics")
    person = ok(demo_client, "/api/v1/people/larry-diamond")
    assert person["feeds"]["atom"].endswith("/feeds/people/larry-diamond.atom")
    assert all("feeds" in p for p in ok(demo_client, "/api/v1/people")["data"])
    quote = ok(demo_client, "/api/v1/quotes/rape-is-not-resistance", include="speaker")
    assert quote["speaker"]["feeds"]["json"].endswith("/feeds/people/sheryl-sandberg.json")
    assert "feeds" not in ok(demo_client, "/api/v1/events")["data"][0]


def test_affiliations_are_read_through_people(demo_client: TestClient) -> None:
    person = ok(demo_client, "/api/v1/people/abbas-milani")
    roles = [(a["organization"]["slug"], a["end_year"]) for a in person["affiliations"]]
    assert ("hoover-institution", None) in roles
    assert ("tehran-university", 1987) in roles
    listed = ok(demo_client, "/api/v1/people", include="affiliations", limit=100)["data"]
    assert any(
        a["organization"].get("url", "missing") != "missing"
        for p in listed
        for a in p["affiliations"]
    )


# --- routes, methods, caching ---------------------------------------------------------


def test_unknown_routes_and_methods(demo_client: TestClient) -> None:
    for url in (
        "/api/v1/nothing",
        "/api/v2/events",
        "/api/v1/events/x/y",
        "/api/v1/topics/kidnapping/stream/x",
    ):
        problem(demo_client, url, 404)
    for method, url in (
        ("POST", "/api/v1/search"),
        ("DELETE", "/api/v1/changes"),
        ("PUT", "/api/v1/topics/kidnapping/stream"),
    ):
        response = demo_client.request(method, url)
        assert response.status_code == 405, (method, url)
        assert response.headers["content-type"] == PROBLEM
    # `Allow` names every method of the path (RFC 9110 §15.5.6), not one route's.
    for method, url, allow in (
        ("PUT", "/api/v1/events/evt_1", "GET, HEAD, PATCH, DELETE"),
        ("DELETE", "/api/v1/events", "GET, HEAD, POST"),
        ("POST", "/api/v1/search", "GET, HEAD"),
        ("DELETE", "/graphql", "GET, HEAD, POST"),
        ("POST", "/feeds/articles.rss", "GET, HEAD"),
    ):
        response = demo_client.request(method, url)
        assert response.status_code == 405, (method, url)
        assert response.headers["allow"] == allow, (method, url)


def test_etag_and_304_on_every_read_endpoint(demo_client: TestClient) -> None:
    for url in (
        "/api/v1/events",
        "/api/v1/topics/kidnapping",
        "/api/v1/topics/kidnapping/stream",
        "/api/v1/search?q=kidnapping",
        "/api/v1/changes",
    ):
        first = demo_client.get(url)
        assert first.headers["cache-control"] == "public, max-age=60"
        assert first.headers["surrogate-key"]
        again = demo_client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, url
        assert again.content == b"", url


def test_etags_are_the_bodys_xxh3_128_digest(demo_client: TestClient) -> None:
    """Every worker, and every restart, gives one body the same strong tag: the body's
    XXH3-128 (the vector pins the algorithm: a new one makes every client's copy stale)."""
    assert etag_for(b"dossier") == '"285aeb42a3997477c7c795788df17b91"'
    assert etag_for(b"dossier.") != etag_for(b"dossier")
    url = "/api/v1/events?include=participants.person"
    response = demo_client.get(url, headers={"Accept-Encoding": "identity"})
    assert response.headers["etag"] == etag_for(response.content)
    zipped = demo_client.get(url, headers={"Accept-Encoding": "gzip"})  # httpx decodes it
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == "W/" + etag_for(zipped.content)


def test_head_answers_like_get_without_a_body(demo_client: TestClient) -> None:
    for url in (
        "/api/v1/events?limit=1",
        "/api/v1/people/larry-diamond",
        "/api/v1/search?q=israel",
        "/api/v1/changes",
        "/api/v1/topics/kidnapping/stream",
    ):
        got = demo_client.get(url)
        head = demo_client.head(url)
        assert head.status_code == 200, url
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        conditional = demo_client.head(url, headers={"If-None-Match": got.headers["etag"]})
        assert conditional.status_code == 304
    assert demo_client.head("/api/v1/events?colour=red").status_code == 400
    assert demo_client.head("/api/v1/events/nothing").status_code == 404


def test_every_get_answers_head(demo_client: TestClient) -> None:
    """RFC 9110 §9.1: HEAD wherever GET is, feeds and probes included (feed readers and
    link checkers ask with HEAD), with the GET's headers and no body."""
    for url in (
        "/feeds/articles.rss",
        "/feeds/topics/kidnapping.json",
        "/calendar/events.ics",
        "/api/v1/publications/pub_1/citation?format=ris",
        "/graphql?query=%7Btopics%7BtotalCount%7D%7D",
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/redoc",
        "/openapi.json",
    ):
        got = demo_client.get(url)
        assert got.status_code == 200, url
        head = demo_client.head(url)
        assert head.status_code == 200, url
        assert head.content == b"", url
        assert head.headers["content-type"] == got.headers["content-type"], url
        if "etag" in got.headers:
            assert head.headers["etag"] == got.headers["etag"], url
            assert (
                demo_client.head(url, headers={"If-None-Match": got.headers["etag"]}).status_code
                == 304
            )
    assert demo_client.head("/feeds/topics/nothing.rss").status_code == 404


def test_responses_validate_against_the_documented_models(demo_client: TestClient) -> None:
    for collection in COLLECTIONS:
        LIST_MODELS[collection].model_validate(ok(demo_client, f"/api/v1/{collection}", limit=100))
    StreamList.model_validate(ok(demo_client, "/api/v1/topics/kidnapping/stream", limit=100))
    SearchList.model_validate(ok(demo_client, "/api/v1/search", q="Israel", limit=100))
    ChangeList.model_validate(ok(demo_client, "/api/v1/changes", limit=100))


def test_every_search_hit_has_a_title_or_a_name(demo_client: TestClient) -> None:
    """API.md: each hit is `{type, id, slug, title|name, score, snippet}`; a quote's title
    is its text (which it keeps too)."""
    hits = ok(demo_client, "/api/v1/search", q="peace", type="quote")["data"]
    assert hits
    for hit in hits:
        assert hit["title"] == hit["text"]
        assert hit["title"].startswith("We have to believe in peace")
    for hit in ok(demo_client, "/api/v1/search", q="kidnapping", limit=100)["data"]:
        assert hit.get("title") or hit.get("name"), hit
