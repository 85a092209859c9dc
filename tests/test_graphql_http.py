"""GraphQL over HTTP: GET caching, POST, media types, preview, GraphiQL page and assets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import create_item
from app.db import session_scope
from app.graphql.http import EXAMPLE_QUERY
from app.http.auth import create_api_key
from tests.graphql_support import gql, nodes, post

EVENTS = (
    '{ events(filter: {topic: "kidnapping"}) { edges { node { id title speakers { name } } } } }'
)


def test_get_is_cacheable_with_etag_and_surrogate_keys(demo_client: TestClient) -> None:
    response = demo_client.get("/graphql", params={"query": EVENTS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "public, max-age=60"
    keys = response.headers["surrogate-key"].split()
    assert "events" in keys
    assert "people" in keys
    assert any(re.fullmatch(r"evt_\d+", k) for k in keys)
    assert any(re.fullmatch(r"per_\d+", k) for k in keys)
    assert response.json()["data"]["events"]["edges"]
    again = demo_client.get(
        "/graphql", params={"query": EVENTS}, headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_each_media_type_of_a_get_has_its_own_etag(demo_client: TestClient) -> None:
    """The same body as `application/json` and as `application/graphql-response+json` is
    two representations: a strong validator of one must not answer 304 for the other (RFC
    9110 §8.8.3). The GraphiQL page, which the same URL answers by `Accept`, varies on it."""
    modern = {"Accept": "application/graphql-response+json"}
    legacy = demo_client.get("/graphql", params={"query": EVENTS})
    response = demo_client.get("/graphql", params={"query": EVENTS}, headers=modern)
    assert response.content == legacy.content
    assert response.headers["etag"] != legacy.headers["etag"]
    for headers, etag, status in [
        (modern, legacy.headers["etag"], 200),
        ({}, response.headers["etag"], 200),
        (modern, response.headers["etag"], 304),
    ]:
        again = demo_client.get(
            "/graphql", params={"query": EVENTS}, headers={**headers, "If-None-Match": etag}
        )
        assert again.status_code == status
    page = demo_client.get("/graphql", headers={"Accept": "text/html"})
    assert "Accept" in [v.strip() for v in page.headers["vary"].split(",")]


def test_get_with_variables_and_operation_name(demo_client: TestClient) -> None:
    query = "query A($s: String!) { event(slug: $s) { slug } } query B { topics { totalCount } }"
    response = demo_client.get(
        "/graphql",
        params={
            "query": query,
            "variables": '{"s": "screams-before-silence-screening-and-conversation"}',
            "operationName": "A",
        },
    )
    assert response.json() == {
        "data": {"event": {"slug": "screams-before-silence-screening-and-conversation"}}
    }
    bad = demo_client.get(
        "/graphql", params={"query": query, "variables": "[1]", "operationName": "A"}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_get_refuses_a_parameter_given_twice(demo_client: TestClient) -> None:
    """Two documents (or two sets of variables) in one URL: which would run is a guess."""
    for params in (
        [("query", "{ topics { totalCount } }"), ("query", "{ events { totalCount } }")],
        [
            ("query", "query A { topics { totalCount } } query B { events { totalCount } }"),
            ("operationName", "A"),
            ("operationName", "B"),
        ],
        [("query", "{ topics { totalCount } }"), ("variables", "{}"), ("variables", "{}")],
    ):
        response = demo_client.get("/graphql", params=params)
        assert response.status_code == 400, params
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "more than once" in error["message"]


def test_post_is_never_cached(demo_client: TestClient) -> None:
    response = post(demo_client, EVENTS)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


def test_get_responses_with_errors_are_not_stored(demo_client: TestClient) -> None:
    response = demo_client.get(
        "/graphql", params={"query": '{ events(after: "x") { totalCount } }'}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_graphql_response_media_type_is_negotiated(demo_client: TestClient) -> None:
    accept = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
    ok = demo_client.post("/graphql", json={"query": "{ topics { totalCount } }"}, headers=accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = demo_client.post("/graphql", json={"query": "{ nope }"}, headers=accept)
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    for refusal in ("q=0", "q=0.0", "q=0.000", " q = 0"):
        refused = {"Accept": f"application/graphql-response+json;{refusal}, application/json"}
        response = demo_client.post(
            "/graphql", json={"query": "{ topics { totalCount } }"}, headers=refused
        )
        assert response.headers["content-type"].startswith("application/json"), refusal


def test_get_refuses_mutations_with_405(demo_client: TestClient) -> None:
    response = demo_client.get("/graphql", params={"query": "mutation { deleteEverything }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "errors" in response.json()


def test_graphiql_page_uses_only_local_assets(demo_client: TestClient) -> None:
    page = demo_client.get(
        "/graphql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith(("/static/graphiql/", "/static/docs/favicon")) for s in sources)
    assert "http://" not in page.text
    assert "https://" not in page.text
    for source in sources:
        asset = demo_client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000


def _seed_preview_content(session_factory: sessionmaker[Session]) -> dict[str, str]:
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        create_item(session, "topics", {"name": "Kidnapping"}, "test")
        for title, status, published_at in [
            ("Public Seminar", "published", now - timedelta(days=1)),
            ("Draft Seminar", "draft", None),
            ("Scheduled Seminar", "published", now + timedelta(days=3)),
        ]:
            create_item(
                session,
                "events",
                {
                    "title": title,
                    "starts_at": (now + timedelta(days=10)).isoformat(),
                    "status": status,
                    "published_at": published_at.isoformat() if published_at else None,
                    "topics": ["kidnapping"],
                },
                "test",
            )
        return {
            "preview": create_api_key(session, "previewer", ["content:preview"]),
            "writer": create_api_key(session, "writer", ["content:write"]),
        }


TITLES = '{ events(filter: {topic: "kidnapping"}, sort: TITLE) { totalCount edges { node { title status } } } }'


def test_graphiql_first_visit_shows_an_example_query_that_runs(demo_client: TestClient) -> None:
    page = demo_client.get("/graphql", headers={"Accept": "text/html"}).text
    start = page.find("defaultQuery: ")
    assert start >= 0, "no example query in the page"
    shown, _ = json.JSONDecoder().raw_decode(page, start + len("defaultQuery: "))
    assert shown == EXAMPLE_QUERY
    # Readable without scrolling in the editor beside the result pane on a laptop screen.
    assert max(len(line) for line in EXAMPLE_QUERY.splitlines()) <= 50
    data = gql(demo_client, EXAMPLE_QUERY)
    titles = [edge["node"]["title"] for edge in data["events"]["edges"]]
    assert any(title.startswith("The Hamas Attack on Israel") for title in titles), titles
    speakers = [s for edge in data["events"]["edges"] for s in edge["node"]["speakers"]]
    assert any(s["affiliations"] for s in speakers)


def test_preview_shows_drafts_only_with_key_and_header(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    keys = _seed_preview_content(session_factory)
    public = client.get("/graphql", params={"query": TITLES})
    assert [n["title"] for n in nodes(public.json()["data"]["events"])] == ["Public Seminar"]

    bearer = {"Authorization": f"Bearer {keys['preview']}"}
    key_only = client.get("/graphql", params={"query": TITLES}, headers=bearer)
    assert [n["title"] for n in nodes(key_only.json()["data"]["events"])] == ["Public Seminar"]
    assert key_only.headers["cache-control"] == "private, no-store"

    preview = client.get(
        "/graphql", params={"query": TITLES}, headers={**bearer, "X-Preview": "true"}
    )
    assert preview.status_code == 200
    assert preview.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in preview.headers
    titles = [n["title"] for n in nodes(preview.json()["data"]["events"])]
    assert titles == ["Draft Seminar", "Public Seminar", "Scheduled Seminar"]
    posted = client.post(
        "/graphql", json={"query": TITLES}, headers={**bearer, "X-Preview": "true"}
    )
    assert posted.json()["data"]["events"]["totalCount"] == 3
    assert posted.headers["cache-control"] == "private, no-store"

    header_only = client.get("/graphql", params={"query": TITLES}, headers={"X-Preview": "true"})
    assert header_only.status_code == 401
    wrong_scope = client.post(
        "/graphql",
        json={"query": TITLES},
        headers={"Authorization": f"Bearer {keys['writer']}", "X-Preview": "true"},
    )
    assert wrong_scope.status_code == 403


def test_drafts_never_leak_through_relations_or_node(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    _seed_preview_content(session_factory)
    data = gql(
        client,
        '{ topic(slug: "kidnapping") { stream { totalCount edges { node { ... on Event { title } } } } } }',
    )
    assert [n["title"] for n in nodes(data["topic"]["stream"])] == ["Public Seminar"]
    assert gql(client, '{ event(slug: "draft-seminar") { id } }') == {"event": None}
    search = gql(
        client, '{ search(query: "seminar") { edges { node { ... on Event { title } } } } }'
    )
    assert [n["title"] for n in nodes(search["search"])] == ["Public Seminar"]


def test_unknown_items_are_still_purgeable(demo_client: TestClient) -> None:
    response = demo_client.get("/graphql", params={"query": '{ event(slug: "not-yet") { id } }'})
    assert response.json() == {"data": {"event": None}}
    assert response.headers["surrogate-key"].split() == ["events"]


def test_database_outage_is_503() -> None:
    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url="postgresql://postgres@127.0.0.1:9/nowhere"))
    with TestClient(app) as client:
        response = client.post("/graphql", json={"query": "{ topics { totalCount } }"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers
