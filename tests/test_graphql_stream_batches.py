"""Narrowed topic streams asked of many topics at once (`topics { nodes { stream(filter:,
sort:) { ... } } }`): the public's first pages on PostgreSQL in one statement whatever the
number of topics, each exactly what the topic's own `topic_stream` returns (items, order,
cursors that continue through it, totals), on both backends and both execution paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import app.content.counts as counts_cache
import app.content.nested as nested
from app.content.types import STREAM_TYPES
from app.main import create_app
from tests.graphql_support import gql
from tests.support import TestDatabases, backend_of, count_queries, load_demo_into, make_settings
from tests.test_graphql_topic_streams import _per_topic

PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
PAGE += "edges { cursor node { __typename ... on Node { id } } }"
STREAMS = f"""query($first: Int!, $filter: StreamFilter, $sort: StreamSort) {{
  topics(first: $first) {{ nodes {{ slug
    stream(first: 1, filter: $filter, sort: $sort) {{ {PAGE} }}
    some: stream(first: 1, filter: $filter, sort: $sort, types: [ARTICLE, QUOTE]) {{ {PAGE} }}
  }} }} }}"""
ONE = f"""query($slug: String!, $after: String, $filter: StreamFilter, $sort: StreamSort) {{
  topic(slug: $slug) {{ stream(first: 1, after: $after, filter: $filter, sort: $sort) {{
    {PAGE} }} }} }}"""

CASES = [
    ({"q": "gaza"}, None),
    ({"q": "peace"}, "PUBLISHED_AT"),
    ({"topic": "mexico"}, None),
    ({"topic": "israel", "topics": ["mexico"]}, None),
    ({"topic": "kidnapping", "q": "peace"}, None),
    ({"topics": ["mexico"], "updatedSince": "2000-01-01T00:00:00Z"}, None),
    ({"updatedSince": "2000-01-01T00:00:00Z"}, "PUBLISHED_AT_DESC"),
    ({"topic": "no-such-topic"}, None),
    (None, "PUBLISHED_AT"),
]


@pytest.fixture(params=[True, False], ids=["fast", "stock"])
def demo(
    request: pytest.FixtureRequest, database_url: str, test_databases: TestDatabases
) -> Iterator[FastAPI]:
    """The demo dataset (read only), with either GraphQL execution."""
    url = test_databases.shared(backend_of(database_url), "demo", load_demo_into)
    app = create_app(make_settings(url, graphql_fast_path=request.param))
    yield app
    app.state.engine.dispose()


def _streams(
    client: TestClient, app: FastAPI, variables: dict[str, Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    counts_cache._CACHES.pop(app.state.engine, None)  # totals counted, not remembered
    nodes: list[dict[str, Any]] = gql(client, STREAMS, variables, headers)["topics"]["nodes"]
    return nodes


def _rest_of(
    client: TestClient, slug: str, page: dict[str, Any], variables: dict[str, Any]
) -> list[str]:
    """The ids of a topic's whole stream, from `page` on through its `endCursor`."""
    ids = [edge["node"]["id"] for edge in page["edges"]]
    info = page["pageInfo"]
    while info["hasNextPage"]:
        asked = {**variables, "slug": slug, "after": info["endCursor"]}
        page = gql(client, ONE, asked)["topic"]["stream"]
        assert page["pageInfo"]["hasPreviousPage"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        info = page["pageInfo"]
    return ids


@pytest.mark.parametrize(("filter", "sort"), CASES)
def test_batched_narrowed_streams_equal_each_topics_own(
    demo: FastAPI, monkeypatch: pytest.MonkeyPatch, filter: dict[str, Any] | None, sort: str | None
) -> None:
    """The public's streams (a preview's, each topic's own `topic_stream`, are compared in
    `test_graphql_topic_streams`: the demo database is read only)."""
    variables = {"first": 100, "filter": filter, "sort": sort}
    headers: dict[str, str] = {}
    with TestClient(demo) as client:
        batched = _streams(client, demo, variables, headers)
        with monkeypatch.context() as patch:
            _per_topic(patch)
            assert _streams(client, demo, variables, headers) == batched
        if filter != {"topic": "no-such-topic"}:
            assert any(topic["stream"]["pageInfo"]["hasNextPage"] for topic in batched)
        # The batch's cursors continue through each topic's own stream, to its total.
        for topic in batched:
            stream = topic["stream"]
            if stream["pageInfo"]["hasNextPage"]:
                ids = _rest_of(client, topic["slug"], stream, variables)
                assert len(ids) == len(set(ids)) == stream["totalCount"]


COUNTED = """query($first: Int!, $filter: StreamFilter, $sort: StreamSort) {
  topics(first: $first) { nodes { slug
    stream(first: 1, filter: $filter, sort: $sort) { nodes { __typename } } } } }"""


@pytest.mark.parametrize(("filter", "sort"), CASES[:7])
def test_narrowed_streams_cost_the_same_for_any_number_of_topics(
    demo: FastAPI, monkeypatch: pytest.MonkeyPatch, filter: dict[str, Any] | None, sort: str | None
) -> None:
    """PostgreSQL, the public: the first pages of every topic in one statement, their rows
    in one per type, and what narrows them worked out once."""
    if backend_of(str(demo.state.engine.url)) != "postgresql":
        pytest.skip("SQLite reads each topic's stream by itself (no LATERAL)")
    engine = demo.state.engine
    batches: list[int] = []
    recorded = nested._first_narrowed_pages

    def recording(*args: Any) -> Any:
        batches.append(len(args[1]))
        return recorded(*args)

    monkeypatch.setattr(nested, "_first_narrowed_pages", recording)
    with TestClient(demo) as client:
        gql(client, COUNTED, {"first": 100, "filter": filter, "sort": sort})
        statements = {}
        variables = {"first": 100, "filter": filter, "sort": sort}
        for first in (2, 100):
            with count_queries(engine) as queries_run:
                data = gql(client, COUNTED, {"first": first, "filter": filter, "sort": sort})
            statements[first] = queries_run.statements
        topics = len(data["topics"]["nodes"])
        assert topics > 5
        assert batches[-2:] == [2, topics]
        # The rows of the items shown: a statement per type shown, whatever the topics.
        loads = {first: [s for s in run if "= ANY(" in s] for first, run in statements.items()}
        assert all(len(rows) <= len(STREAM_TYPES) for rows in loads.values()), loads
        others = {first: len(run) - len(loads[first]) for first, run in statements.items()}
        assert others[2] == others[100], statements
        pages = [s for s in statements[100] if "row_number()" in s]
        assert len(pages) == 1, statements[100]
        with monkeypatch.context() as patch:
            _per_topic(patch)
            with count_queries(engine) as queries_run:
                gql(client, COUNTED, {"first": 100, "filter": filter, "sort": sort})
        assert queries_run.count > topics, queries_run.count  # what batching saves
        # The totals: one count per type for every topic (GROUP BY topic), with words from
        # their documents (`count_matches_by_topic`).
        counts_cache._CACHES.pop(engine, None)
        with count_queries(engine) as queries_run:
            data = gql(client, COUNTED.replace("nodes { __", "totalCount nodes { __"), variables)
        counted = [s for s in queries_run.statements if "count(*)" in s]
        # Past its first page of one: counted.
        longer = [t for t in data["topics"]["nodes"] if t["stream"]["totalCount"] > 1]
        assert len(longer) > 1
        assert 0 < len(counted) <= len(STREAM_TYPES), counted
