"""`Topic.stream(filter:, sort:)`: a topic's stream narrowed and ordered as REST's stream
parameters (`topic`, `q`, `updated_since`, `sort`) do: the same items in the same order,
the same totals and the same cursors, page after page, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.graphql_support import gql, post, public_id

STREAM = """query($filter: StreamFilter, $sort: StreamSort, $after: String) {
  topic(slug: "kidnapping") {
    stream(first: 2, filter: $filter, sort: $sort, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename ... on Node { id } } } } }"""

CASES = [
    # (GraphQL filter, GraphQL sort, REST query string)
    ({"q": "gaza"}, None, "q=gaza"),
    ({"topic": "mexico"}, None, "topic=mexico"),
    ({"topic": "israel", "topics": ["mexico"]}, None, "topic=israel&topic=mexico"),
    (None, "PUBLISHED_AT", "sort=published_at"),
    ({"q": "peace"}, "PUBLISHED_AT", "q=peace&sort=published_at"),
    (
        {"topics": ["mexico"], "updatedSince": "2000-01-01T00:00:00Z"},
        None,
        "topic=mexico&updated_since=2000-01-01T00:00:00Z",
    ),
]


def _rest(client: TestClient, query: str) -> tuple[list[tuple[str, str]], list[str | None], int]:
    items: list[tuple[str, str]] = []
    cursors: list[str | None] = []
    url: str | None = f"/api/v1/topics/kidnapping/stream?limit=2&{query}"
    total = -1
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items += [(item["type"], item["id"]) for item in body["data"]]
        cursors.append(body["meta"]["next_cursor"])
        total = body["meta"]["total"]
        url = body["links"]["next"]
    return items, cursors, total


def _graphql(
    client: TestClient, filter: dict[str, Any] | None, sort: str | None
) -> tuple[list[tuple[str, str]], list[str | None], int]:
    items: list[tuple[str, str]] = []
    cursors: list[str | None] = []
    after = None
    while True:
        variables = {"filter": filter, "sort": sort, "after": after}
        stream = gql(client, STREAM, variables)["topic"]["stream"]
        items += [(n["__typename"].lower(), public_id(n["id"])) for n in stream["nodes"]]
        info = stream["pageInfo"]
        cursors.append(info["endCursor"] if info["hasNextPage"] else None)
        if not info["hasNextPage"]:
            return items, cursors, stream["totalCount"]
        after = info["endCursor"]


@pytest.mark.parametrize(("filter", "sort", "query"), CASES)
def test_stream_filter_and_sort_page_as_rest_stream_parameters(
    demo_client: TestClient, filter: dict[str, Any] | None, sort: str | None, query: str
) -> None:
    whole = _rest(demo_client, "")[0]
    items, cursors, total = _graphql(demo_client, filter, sort)
    assert (items, cursors, total) == _rest(demo_client, query)
    assert items
    assert items != whole  # narrowed or reordered: not the stream as it is
    assert total == len(items)


def test_stream_filter_errors_name_the_argument(demo_client: TestClient) -> None:
    body = post(demo_client, STREAM, {"filter": {"topic": ""}}).json()
    assert body["data"] == {"topic": None}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "topic"}
    body = post(demo_client, STREAM, {"filter": {"updatedSince": "0001-01-01T00:00:00Z"}}).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "updatedSince"}
