"""A topic's stream narrowed to topics among which is the topic itself ("tagged with any of
these as well") is not narrowed at all (`StreamPlan.for_topic`): its items are the stream's,
read as the stream without them reads them, under the narrowed stream's scope (cursors of
the GraphQL batch's first page, which PostgreSQL still reads narrowed, and of REST's pages
pass for each other)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.graphql_support import gql, public_id
from tests.support import explained, make_settings
from tests.test_graphql_stream_filters import _graphql, _rest

NARROWED = [
    ({"topics": ["kidnapping", "mexico"]}, "topic=kidnapping&topic=mexico", ""),
    ({"topics": ["kidnapping"], "q": "gaza"}, "topic=kidnapping&q=gaza", "q=gaza"),
    (
        {"topics": ["mexico", "kidnapping"]},
        "topic=mexico&topic=kidnapping&sort=published_at",
        "sort=published_at",
    ),
]


def _sql(client: TestClient, url: str) -> list[str]:
    """The statements of the request that read the stream's page (its merged branches),
    from an app over the same database without the response cache."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    settings = make_settings(engine.url.render_as_string(hide_password=False), response_cache=False)
    app = create_app(settings)
    try:
        with TestClient(app) as fresh:
            found = explained(
                app.state.engine,
                lambda: fresh.get(url).raise_for_status(),
                lambda sql: "published" in sql and "UNION ALL" in sql,
            )
    finally:
        app.state.engine.dispose()
    assert found, url
    return [" ".join(sql.split()) for sql, _ in found]


@pytest.mark.parametrize(("filter", "narrowed", "plain"), NARROWED)
def test_a_stream_narrowed_to_itself_among_others_is_the_stream(
    demo_client: TestClient, filter: dict[str, Any], narrowed: str, plain: str
) -> None:
    if "sort" in narrowed:
        sort: str | None = "PUBLISHED_AT"
    else:
        sort = None
    items, cursors, total = _graphql(demo_client, filter, sort)
    assert (items, cursors, total) == _rest(demo_client, narrowed)
    assert items == _rest(demo_client, plain)[0]
    assert total == len(items)
    assert items
    base = "/api/v1/topics/kidnapping/stream?limit=2"
    # The same statements as the stream not narrowed to topics: no tag of theirs asked.
    assert _sql(demo_client, f"{base}&{narrowed}") == _sql(demo_client, f"{base}&{plain}")


BATCH = """{ topics(first: 50) { nodes { slug
  stream(first: 2, filter: {topics: ["kidnapping"]}) { totalCount
    pageInfo { hasNextPage endCursor } nodes { __typename ... on Node { id } } } } } }"""


def test_a_batch_of_streams_narrowed_to_one_of_them(demo_client: TestClient) -> None:
    """`topics { stream(filter: {topics: [kidnapping]}) }`: kidnapping's own stream is not
    narrowed, the others' are, each page and cursor as REST's."""
    pages = {node["slug"]: node["stream"] for node in gql(demo_client, BATCH)["topics"]["nodes"]}
    assert {"kidnapping", "mexico"} <= set(pages)
    for slug in ("kidnapping", "mexico"):
        stream = pages[slug]
        body = demo_client.get(f"/api/v1/topics/{slug}/stream?limit=2&topic=kidnapping").json()
        assert [(n["__typename"].lower(), public_id(n["id"])) for n in stream["nodes"]] == [
            (item["type"], item["id"]) for item in body["data"]
        ]
        assert stream["pageInfo"]["endCursor"] == body["meta"]["next_cursor"]
        assert stream["totalCount"] == body["meta"]["total"]
    whole = demo_client.get("/api/v1/topics/kidnapping/stream?limit=2").json()
    assert [public_id(n["id"]) for n in pages["kidnapping"]["nodes"]] == [
        item["id"] for item in whole["data"]
    ]
