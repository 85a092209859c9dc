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
from tests.support import count_queries, explained, make_settings
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


ONE = """query($filter: StreamFilter) { topic(slug: "kidnapping") {
  stream(first: 2, filter: $filter) { totalCount nodes { __typename } } } }"""


def _sent(client: TestClient, run: Any) -> list[str]:
    """The statements `run()` sends, through an app over the demo database without the
    response cache."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    settings = make_settings(engine.url.render_as_string(hide_password=False), response_cache=False)
    app = create_app(settings)
    try:
        with TestClient(app) as fresh, count_queries(app.state.engine) as sent:
            run(fresh)
    finally:
        app.state.engine.dispose()
    return [" ".join(sql.split()) for sql in sent.statements]


def test_graphqls_batch_reads_a_topic_narrowed_to_itself_as_its_plain_stream(
    demo_client: TestClient,
) -> None:
    """PostgreSQL reads the first pages of a batch of topics in one statement: a topic
    narrowed to itself among others has its plain stream's branches there (kidnapping's,
    with `q=anthology` at `first: 100`: 73-84 -> 52-55 ms at `large` on a slow machine)."""
    if demo_client.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's batch (SQLite reads each topic's stream by itself)")
    filter = {"topics": ["kidnapping", "mexico"], "q": "hostage"}
    sent = _sent(demo_client, lambda c: gql(c, ONE, {"filter": filter}))
    pages = [s for s in sent if "row_number()" in s]
    assert len(pages) == 1, sent
    assert "itself_article" in pages[0]
    assert "page_article" not in pages[0]
    plain = gql(demo_client, ONE, {"filter": {"q": "hostage"}})["topic"]["stream"]
    assert gql(demo_client, ONE, {"filter": filter})["topic"]["stream"] == plain


def test_words_plan_a_transaction_once(demo_client: TestClient) -> None:
    """PostgreSQL: a stream with words plans its statements for their values with one
    `SET LOCAL`, not one for each type's branch (four round trips)."""
    if demo_client.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("a PostgreSQL setting")
    url = "/api/v1/topics/kidnapping/stream?q=hostage&limit=2"
    sent = _sent(demo_client, lambda c: c.get(url).raise_for_status())
    assert sum("plan_cache_mode" in s for s in sent) == 1, sent
