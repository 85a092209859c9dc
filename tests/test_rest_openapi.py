"""The OpenAPI document of the read API: valid, complete, and true to what the API accepts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from app.content.filters import FILTERS
from app.content.relations import RELATIONS
from app.content.types import ALL_TYPES

PROBLEM = "application/problem+json"
READ_PATHS = {
    "/api/v1/search",
    "/api/v1/changes",
    "/api/v1/topics/{slug}/stream",
    *(f"/api/v1/{t.collection}" for t in ALL_TYPES),
    *(f"/api/v1/{t.collection}/{{id_or_slug}}" for t in ALL_TYPES),
}
COMMON_LIST = {
    "limit",
    "cursor",
    "sort",
    "topic",
    "q",
    "updated_since",
    "include",
    "fields",
    "preview",
}


@pytest.fixture
def document(demo_client: TestClient) -> dict[str, Any]:
    response = demo_client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def _query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_openapi_is_valid(document: dict[str, Any]) -> None:
    validate(document)


@pytest.mark.parametrize("ctype", ALL_TYPES, ids=lambda t: t.collection)
def test_each_collection_documents_its_own_parameters(document: dict[str, Any], ctype: Any) -> None:
    listing = document["paths"][f"/api/v1/{ctype.collection}"]["get"]
    assert listing["tags"] == [ctype.collection]
    assert listing["summary"]
    assert listing["description"]
    params = {p["name"]: p for p in listing["parameters"] if p["in"] == "query"}
    assert set(params) == COMMON_LIST | set(FILTERS[ctype.collection])
    for name, spec in FILTERS[ctype.collection].items():
        schema = params[name]["schema"]
        assert params[name]["description"], name
        if spec.kind == "enum":
            assert schema["enum"] == list(spec.choices), name
    sort_enum = params["sort"]["schema"]["enum"]
    assert set(sort_enum) == set(ctype.sorts) | {"-" + s for s in ctype.sorts}
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["limit"]["schema"]["minimum"] == 1
    for relation in RELATIONS[ctype.name]:
        assert f"`{relation}`" in params["include"]["description"]
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("List")
    for status in ("400", "304"):
        assert status in listing["responses"]
    assert (
        listing["responses"]["400"]["content"][PROBLEM]["schema"]["$ref"]
        == "#/components/schemas/Problem"
    )
    detail = document["paths"][f"/api/v1/{ctype.collection}/{{id_or_slug}}"]["get"]
    assert _query_names(detail) == {"include", "fields", "preview"}
    assert PROBLEM in detail["responses"]["404"]["content"]


def test_other_read_operations_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert _query_names(paths["/api/v1/search"]["get"]) == {
        "q",
        "type",
        "limit",
        "cursor",
        "preview",
    }
    q = next(p for p in paths["/api/v1/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["required"] is True
    assert _query_names(paths["/api/v1/changes"]["get"]) == {"since", "cursor", "limit", "preview"}
    assert _query_names(paths["/api/v1/topics/{slug}/stream"]["get"]) == COMMON_LIST
    for path in ("/api/v1/search", "/api/v1/changes", "/api/v1/topics/{slug}/stream"):
        operation = paths[path]["get"]
        assert operation["summary"]
        assert operation["description"]
        assert operation["tags"]
        assert "400" in operation["responses"]
    schemas = document["components"]["schemas"]
    assert {
        "EventList",
        "Event",
        "PersonRef",
        "StreamList",
        "SearchList",
        "ChangeList",
        "Problem",
    } <= set(schemas)
    assert schemas["Event"]["required"] == ["id"]


def test_every_documented_parameter_is_accepted_and_nothing_else(
    document: dict[str, Any], demo_client: TestClient
) -> None:
    """The strict unknown-parameter check and the document agree for every read operation."""
    for path in sorted(READ_PATHS):
        operation = document["paths"][path]["get"]
        url = path.replace("{slug}", "x").replace("{id_or_slug}", "x")
        for name in _query_names(operation):
            response = demo_client.get(url, params={name: "1"})
            if response.status_code == 400:
                assert "Unknown query parameter" not in response.json()["detail"], (path, name)
        response = demo_client.get(url, params={"definitely_not_a_parameter": "1"})
        assert response.status_code == 400, path
        assert "definitely_not_a_parameter" in response.json()["detail"]


def test_every_problem_has_an_example_of_its_own_status(document: dict[str, Any]) -> None:
    """And whatever answers 401 documents the 429 that failed authentications lead to."""
    seen = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation.get("responses", {})
            if "401" in responses:
                assert "Retry-After" in responses["429"]["headers"], (path, method)
            for status, response in responses.items():
                problem = response.get("content", {}).get("application/problem+json")
                if problem is None:
                    continue
                seen += 1
                assert problem["example"]["status"] == int(status), (path, method, status)
    assert seen > 300
    person = document["paths"]["/api/v1/people/{id_or_slug}"]["get"]["responses"]["404"]
    assert "No person" in person["content"]["application/problem+json"]["example"]["detail"]
    graphql = document["paths"]["/graphql"]["post"]
    assert graphql["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "data"
    ] == {"type": ["object", "null"]}


CACHE_URLS = {
    "/api/v1/events": "/api/v1/events?limit=1",
    "/api/v1/events/{id_or_slug}": None,
    "/api/v1/topics/{slug}/stream": "/api/v1/topics/kidnapping/stream?limit=1",
    "/feeds/articles.{fmt}": "/feeds/articles.atom",
    "/calendar/events.{fmt}": "/calendar/events.ics",
}


@pytest.mark.parametrize("path", sorted(CACHE_URLS))
def test_cacheable_reads_document_the_headers_they_send(
    document: dict[str, Any], demo_client: TestClient, path: str
) -> None:
    """`If-None-Match`, and the 200's ETag, Cache-Control, Vary, Surrogate-Key (a list's
    `Link` too): sent on every public GET, and now documented where they are sent."""
    operation = document["paths"][path]["get"]
    assert "If-None-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    documented = set(operation["responses"]["200"]["headers"])
    url = CACHE_URLS[path]
    if url is None:
        first = demo_client.get("/api/v1/events?limit=1").json()["data"][0]
        url = f"/api/v1/events/{first['slug']}"
    response = demo_client.get(url)
    assert response.status_code == 200, response.text
    sent = {name for name in documented if name in response.headers}
    assert sent == documented, (documented, dict(response.headers))
    assert ("Link" in documented) == path.endswith(("/events", "/stream"))
    again = demo_client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert {h.lower() for h in operation["responses"]["304"]["headers"]} <= set(again.headers)
