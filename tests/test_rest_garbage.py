"""No input to any public read endpoint produces a 500: garbage in, 2xx or 4xx problem out.

The parameters are taken from the OpenAPI document, so a parameter added later is
attacked too, and a parameter the document forgets would fail `test_rest_openapi`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from app.content.types import ALL_TYPES

PROBLEM = "application/problem+json"
GARBAGE = [
    "",
    "-1",
    "99999999999999999999999999",
    "' OR 1=1; DROP TABLE event; -- %_*\\",
    "😀 日本語 \u202e עברית",
    "x" * 2100,
    "\x00",
    "0001-01-01T00:00:00+14:00",
    "evt_99999999999999999999",
    "participants.person.affiliations.parent,-title,,",
    "true",
]
PATH_GARBAGE = [
    "%00",
    "%F0%9F%98%80",
    "x" * 600,
    "evt_1%20OR%201=1",
    "..",
    "%2E%2E%2F",
    "top_-1",
    "'",
    "evt_0",
]
READ_PATHS = {
    "/api/v1/search",
    "/api/v1/changes",
    "/api/v1/topics/{slug}/stream",
    *(f"/api/v1/{t.collection}" for t in ALL_TYPES),
    *(f"/api/v1/{t.collection}/{{id_or_slug}}" for t in ALL_TYPES),
}


def _operations(client: TestClient) -> list[tuple[str, list[dict[str, Any]]]]:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= READ_PATHS
    return [(path, paths[path]["get"]["parameters"]) for path in sorted(READ_PATHS)]


def _concrete(path: str) -> str:
    return path.replace("{slug}", "kidnapping").replace("{id_or_slug}", "kidnapping")


def _assert_handled(response: Any, what: object) -> None:
    assert response.status_code < 500, (what, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, what
        body = response.json()
        assert body["status"] == response.status_code, what
        assert body["detail"], what


def test_garbage_in_every_query_parameter(demo_client: TestClient) -> None:
    for path, parameters in _operations(demo_client):
        url = _concrete(path)
        # A page of one keeps the requests that pass validation cheap.
        base = {"limit": "1"} if "limit" in {p["name"] for p in parameters} else {}
        if path.endswith("/search"):
            base["q"] = "kidnapping"
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            for value in GARBAGE:
                response = demo_client.get(url, params={**base, name: value})
                _assert_handled(response, (path, name, value[:30]))


def test_repeated_and_unknown_parameters(demo_client: TestClient) -> None:
    for path, parameters in _operations(demo_client):
        url = _concrete(path)
        base = "q=kidnapping&" if path.endswith("/search") else ""
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            response = demo_client.get(f"{url}?{base}{name}=1&{name}=2&{name}=")
            _assert_handled(response, (path, name))
            if name not in ("topic", "type") and not (name == "q" and base):
                assert response.status_code == 400, (path, name)
        for junk in ("x", "LIMIT", "%00", "😀", "a[b]", "limit ", ""):
            response = demo_client.get(f"{url}?{base}{quote(junk)}=1")
            _assert_handled(response, (path, junk))
    # An unknown name given three times is named once.
    problem = demo_client.get("/api/v1/articles?a=1&a=2&a").json()
    assert problem["detail"].startswith("Unknown query parameter(s) 'a';"), problem
    assert problem["errors"] == [{"loc": ["query", "a"], "msg": "unknown parameter"}]


@pytest.mark.parametrize("segment", PATH_GARBAGE)
def test_garbage_in_path_segments(demo_client: TestClient, segment: str) -> None:
    for path in READ_PATHS:
        if "{" not in path:
            continue
        url = path.replace("{slug}", segment).replace("{id_or_slug}", segment)
        response = demo_client.get(url)
        _assert_handled(response, url[:80])
        assert response.status_code in (400, 404), url[:80]


def test_garbage_headers(demo_client: TestClient) -> None:
    headers_list: list[dict[str, str]] = [
        {"If-None-Match": "*"},
        {"If-None-Match": 'garbage, W/, ""'},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Accept": "text/html;q=nonsense"},
        {"Accept-Encoding": "gzip;q=2, br, *"},
    ]
    for headers in headers_list:
        for url in (
            "/api/v1/events",
            "/api/v1/topics/kidnapping",
            "/api/v1/search?q=x",
            "/api/v1/changes",
        ):
            _assert_handled(demo_client.get(url, headers=headers), (url, headers))


def test_the_operations_without_parameters_list_the_400_a_nul_gets(
    demo_client: TestClient,
) -> None:
    """`/healthz?x=%00` is a 400, as every URL with a NUL is, but the operations that
    declare no parameters did not list it: a client generated from the document (and
    schemathesis) took it for an undocumented status."""
    document = demo_client.get("/openapi.json").json()
    for path in ("/healthz", "/readyz", "/metrics"):
        response = demo_client.get(f"{path}?x=%00")
        assert response.status_code == 400, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "400" in document["paths"][path]["get"]["responses"], path
