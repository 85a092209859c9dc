"""Cursors are signed, but a secret left at its default lets anyone sign one: a value of
the wrong type in a well-signed token (a text where a time goes, an id past PostgreSQL's
integer, a boolean for an id) was a 500. Each is a 400 naming the cursor, on every list
that takes one; the lists' own cursors still page (their tests)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.content.cursors import encode_token

WHEN = datetime(2020, 1, 1, tzinfo=UTC)


def _scope(token: str) -> str:
    body = token.partition(".")[0]
    scope: str = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["s"]
    return scope


def _refused(client: TestClient, url: str, name: str, token: str, values: list[Any]) -> None:
    secret = client.app.state.settings.secret_key  # type: ignore[attr-defined]
    forged = encode_token(secret, _scope(token), values)
    response = client.get(f"{url}&{name}={forged}")
    assert response.status_code == 400, (url, values, response.status_code, response.text[:200])
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", name]


@pytest.mark.parametrize(
    ("url", "name", "bad"),
    [
        (
            "/api/v1/articles?limit=1",
            "cursor",
            [["x", 1], [WHEN, 2**40], [WHEN, True], [WHEN], [WHEN, 1, 2], [{"a": 1}, 1]],
        ),
        ("/api/v1/articles?limit=1&sort=title", "cursor", [[5, 1], [WHEN, 1]]),
        ("/api/v1/publications?limit=1&sort=-year", "cursor", [["2020", 1], [2020.5, 1]]),
        (
            "/api/v1/topics/kidnapping/stream?limit=1",
            "cursor",
            [["x", 0, 1], [WHEN, "0", 1], [WHEN, 0, 2**40]],
        ),
        ("/api/v1/changes?limit=1", "since", [["x", 0, 1], [WHEN, 0, -2], [WHEN, 0, "1"]]),
        ("/api/v1/search?q=kidnapping&limit=1", "cursor", [["a", "article", 1], [1.0, 5, 1]]),
    ],
)
def test_a_well_signed_cursor_of_the_wrong_kind_is_400(
    demo_client: TestClient, url: str, name: str, bad: list[list[Any]]
) -> None:
    first = demo_client.get(url).json()
    token = first["meta"].get("next_cursor") or first["meta"].get("next_since")
    assert token, first["meta"]
    for values in bad:
        _refused(demo_client, url, name, token, values)


def test_graphql_search_refuses_a_cursor_of_the_wrong_kind(demo_client: TestClient) -> None:
    query = '{ search(query: "kidnapping", first: 1) { pageInfo { endCursor } } }'
    end = demo_client.post("/graphql", json={"query": query}).json()
    token = end["data"]["search"]["pageInfo"]["endCursor"]
    secret = demo_client.app.state.settings.secret_key  # type: ignore[attr-defined]
    forged = encode_token(secret, _scope(token), [1.0, "article", 2**40])
    after = f'{{ search(query: "kidnapping", first: 1, after: "{forged}") {{ totalCount }} }}'
    body = demo_client.post("/graphql", json={"query": after}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
