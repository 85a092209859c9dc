"""The write operations in /openapi.json: security, bodies, examples, problem responses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.types import ALL_TYPES
from app.schemas.writes import WRITE_MODELS

COLLECTIONS = [t.collection for t in ALL_TYPES]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from app.main import create_app
    from tests.support import make_settings

    with TestClient(create_app(make_settings("sqlite://"))) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_bearer_scheme(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_write_operations_documented(document: dict[str, Any], collection: str) -> None:
    paths = document["paths"]
    operations = {
        "post": (
            paths[f"/api/v1/{collection}"]["post"],
            {"201", "400", "401", "403", "409", "413", "415", "422", "429"},
        ),
        "patch": (
            paths[f"/api/v1/{collection}/{{id_or_slug}}"]["patch"],
            {"200", "400", "401", "403", "404", "409", "412", "413", "415", "422", "429"},
        ),
        "delete": (
            paths[f"/api/v1/{collection}/{{id_or_slug}}"]["delete"],
            {"204", "401", "403", "404", "412", "429"},
        ),
    }
    for method, (operation, statuses) in operations.items():
        assert operation["security"] == [{"ApiKey": []}], method
        assert statuses <= set(operation["responses"]), (method, set(operation["responses"]))
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], (method, status)
        assert operation["description"], method
    for method in ("post", "patch"):
        operation = operations[method][0]
        content = operation["requestBody"]["content"]
        media = "application/json" if method == "post" else "application/merge-patch+json"
        example = content[media]["example"]
        assert example, method
        if method == "post":  # the example is valid for the model that validates the body
            WRITE_MODELS[collection].model_validate(example)
            assert set(content[media]["schema"]["properties"]) == set(
                WRITE_MODELS[collection].model_fields
            )
        success = operation["responses"]["201" if method == "post" else "200"]
        assert success["content"]["application/json"]["example"]["id"]
        assert "$ref" in success["content"]["application/json"]["schema"]
        assert "ETag" in success["headers"]
    assert "Location" in operations["post"][0]["responses"]["201"]["headers"]
    assert "application/json" in operations["patch"][0]["requestBody"]["content"]
    assert any(p["name"] == "If-Match" for p in operations["patch"][0]["parameters"])


def test_response_example_matches_the_read_model(document: dict[str, Any]) -> None:
    from app.rest.admin_docs import response_example
    from app.rest.schemas import ITEM_MODELS

    for collection in COLLECTIONS:
        ITEM_MODELS[collection].model_validate(response_example(collection))


def test_audit_documented(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/audit"]["get"]
    assert operation["security"] == [{"ApiKey": []}]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_try_it_out_creates_each_example_on_the_demo_database(
    app_factory: Any, session_factory: Any
) -> None:
    """Swagger's "Try it out" sends the documented example; on the database `make run`
    makes (the demo), it must create the item, not answer 409 for a demo item's slug."""
    from app.db import session_scope
    from app.demo.loader import load_demo
    from tests.admin_helpers import bearer, make_key

    app = app_factory()
    with session_scope(session_factory) as session:
        load_demo(session)
    headers = bearer(make_key(session_factory, "swagger", "content:write"))
    with TestClient(app) as api:
        paths = api.get("/openapi.json").json()["paths"]
        for collection in [t.collection for t in ALL_TYPES]:
            body = paths[f"/api/v1/{collection}"]["post"]["requestBody"]["content"]
            example = body["application/json"]["example"]
            created = api.post(f"/api/v1/{collection}", json=example, headers=headers)
            assert created.status_code == 201, (collection, created.text)


def test_the_merge_patch_schemas_take_the_patches_the_endpoints_take(client: TestClient) -> None:
    """A merge patch clears a field with `null` and merges an object member by member, so
    `{"topics": null}`, `{"status": null}` or `{"photo": {"alt": "…"}}` are patches the
    endpoints apply (200); the documented schemas were the create schemas without their
    top-level `required`, which refused all three (and gave each field the default it
    gets on a create, which a patch never applies to a field it leaves out)."""
    from jsonschema import Draft202012Validator

    from tests.admin_helpers import Keys, event_body

    keys = Keys(client.app.state.session_factory, seed=True)  # type: ignore[attr-defined]
    person = {"name": "Ada Pinto", "photo": {"url": "/media/ada.jpg", "alt": "Ada"}}
    event = event_body(venue={"name": "Encina Hall", "address": "616 Jane Stanford Way"})
    patches = {
        "people": (person, [{"topics": None}, {"photo": {"alt": "Ada Pinto"}}, {"title": None}]),
        "events": (
            event,
            [{"status": None}, {"venue": {"name": None}}, {"participants": None}],
        ),
    }
    paths = client.get("/openapi.json").json()["paths"]
    for collection, (body, bodies) in patches.items():
        created = client.post(f"/api/v1/{collection}", json=body, headers=keys.writer)
        assert created.status_code == 201, created.text
        content = paths[f"/api/v1/{collection}/{{id_or_slug}}"]["patch"]["requestBody"]["content"]
        schema = content["application/merge-patch+json"]["schema"]
        assert [n for n, member in schema["properties"].items() if "default" in member] == []
        validator = Draft202012Validator(schema)
        for patch in bodies:
            url = f"/api/v1/{collection}/{created.json()['id']}"
            assert client.patch(url, json=patch, headers=keys.writer).status_code == 200, patch
            assert list(validator.iter_errors(patch)) == [], patch
        # Still refused: a member the item does not have, a value of the wrong type.
        assert not validator.is_valid({"bogus": 1})
        assert not validator.is_valid({"topics": "kidnapping"})


def test_the_write_fields_say_how_they_are_written(document: dict[str, Any]) -> None:
    """A relation is written by slug or id, a slug is derived or refused (409), a
    publishable item is scheduled by its `published_at`: the write schemas said none of it
    (their fields had no descriptions)."""
    from app.content.links import RELATION_FIELDS

    for collection in COLLECTIONS:
        for method, path, media in (
            ("post", f"/api/v1/{collection}", "application/json"),
            ("patch", f"/api/v1/{collection}/{{id_or_slug}}", "application/merge-patch+json"),
        ):
            schema = document["paths"][path][method]["requestBody"]["content"][media]["schema"]
            fields = schema["properties"]
            assert "409" in fields["slug"]["description"], collection
            lists_of_objects = {"related", "affiliations", "participants"}
            for name in RELATION_FIELDS & set(fields) - {"topics"} - lists_of_objects:
                assert "by slug or id" in fields[name]["description"], (collection, name)
            if collection != "topics":
                assert "by slug or id" in fields["topics"]["description"], collection
            if "published_at" in fields:
                assert "schedules" in fields["published_at"]["description"], collection
                assert "`draft`" in fields["status"]["description"], collection
            if method == "post":
                assert schema["description"].startswith(("A ", "An ")), collection
                assert not schema["description"].startswith(("A a", "A e", "A o")), collection
