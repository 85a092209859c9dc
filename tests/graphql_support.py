"""Helpers shared by the GraphQL tests."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

FLAGSHIP = """
query Flagship($first: Int!) {
  events(filter: {topic: "kidnapping"}, first: $first) {
    edges { node { title startsAt attendanceMode
      speakers { name slug title photo { url } bio
        affiliations { role organization { name } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def post(
    client: TestClient, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> Any:
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def gql(
    client: TestClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """The `data` of a query that must succeed."""
    response = post(client, query, variables, **(headers or {}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def public_id(global_id: str) -> str:
    """The REST id inside a Relay global id ("Event:evt_3" -> "evt_3")."""
    return base64.b64decode(global_id).decode().partition(":")[2]


def type_name(global_id: str) -> str:
    """The GraphQL type inside a Relay global id ("Event:evt_3" -> "Event")."""
    return base64.b64decode(global_id).decode().partition(":")[0]


def nodes(connection: dict[str, Any]) -> list[Any]:
    return [edge["node"] for edge in connection["edges"]]


def walk_pages(
    client: TestClient, query: str, slug: str, start: dict[str, Any], path: tuple[str, str]
) -> list[str]:
    """The node ids of a whole connection: `start`'s page, then every page `query` (with
    `$slug` and `$after`; the connection at `path` in its data) gives through `endCursor`,
    each saying it has a previous page."""
    ids = [edge["node"]["id"] for edge in start["edges"]]
    info = start["pageInfo"]
    while info["hasNextPage"]:
        page = gql(client, query, {"slug": slug, "after": info["endCursor"]})
        connection = page[path[0]][path[1]]
        assert connection["pageInfo"]["hasPreviousPage"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        info = connection["pageInfo"]
    return ids
