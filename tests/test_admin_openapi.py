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
        for created in (True, False):
            ITEM_MODELS[collection].model_validate(response_example(collection, created))


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
    `{"topics": null}`, `{"venue": {"name": null}}` or `{"photo": {"alt": "…"}}` are
    patches the endpoints apply (200); the documented schemas were the create schemas
    without their top-level `required`, which refused all three (and gave each field the
    default it gets on a create, which a patch never applies to a field it leaves out). A
    field that always has a value (`status`) cannot be cleared: its null is refused by
    both (422), as it is on a create."""
    from jsonschema import Draft202012Validator

    from tests.admin_helpers import Keys, event_body

    keys = Keys(client.app.state.session_factory, seed=True)  # type: ignore[attr-defined]
    person = {"name": "Ada Pinto", "photo": {"url": "/media/ada.jpg", "alt": "Ada"}}
    event = event_body(venue={"name": "Encina Hall", "address": "616 Jane Stanford Way"})
    patches = {
        "people": (person, [{"topics": None}, {"photo": {"alt": "Ada Pinto"}}, {"title": None}]),
        "events": (
            event,
            [{"venue": {"name": None}}, {"participants": None}],
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
    events = paths["/api/v1/events/{id_or_slug}"]["patch"]["requestBody"]["content"]
    validator = Draft202012Validator(events["application/merge-patch+json"]["schema"])
    for field in ("status", "attendance_mode", "event_type", "timezone", "event_status"):
        assert not validator.is_valid({field: None}), field
        assert validator.is_valid({field: "draft" if field == "status" else "UTC"}) == (
            field in ("status", "timezone")
        ), field


def _demo_api(app_factory: Any, session_factory: Any) -> tuple[TestClient, dict[str, str]]:
    from app.db import session_scope
    from app.demo.loader import load_demo
    from tests.admin_helpers import bearer, make_key

    app = app_factory()
    with session_scope(session_factory) as session:
        load_demo(session)
    return TestClient(app), bearer(make_key(session_factory, "swagger", "content:write"))


def _abbreviates(documented: Any, value: Any) -> bool:
    """`documented` is `value`, or its start: an example shortens a long text to its first
    paragraph (rich text) or 400 characters ending in "…"."""
    if documented == value:
        return True
    return isinstance(documented, str) and value.startswith(documented.removesuffix("…"))


# Set by the server and by the request, not by the example.
_PER_REQUEST = {"id", "created_at", "updated_at", "feeds"}


def test_each_write_answers_as_its_documented_example(
    app_factory: Any, session_factory: Any
) -> None:
    """The 201 example is what the create example gets, the 200 example what the patch
    example makes of the demo item. The 201 example showed the demo item's slug ("fsi",
    for a create that derives "freeman-spogli-institute-for-international-studies"), an
    article's demo quotes (a new article has none), and affiliations without the
    `start_year` and `end_year` every answer carries."""
    api, headers = _demo_api(app_factory, session_factory)
    with api:
        paths = api.get("/openapi.json").json()["paths"]
        for collection in COLLECTIONS:
            create = paths[f"/api/v1/{collection}"]["post"]
            example = create["requestBody"]["content"]["application/json"]["example"]
            documented = create["responses"]["201"]["content"]["application/json"]["example"]
            created = api.post(f"/api/v1/{collection}", json=example, headers=headers).json()
            # On the demo database a derived slug the demo holds gets its `-2`.
            assert created["slug"] in (documented["slug"], documented["slug"] + "-2"), collection
            for name in set(documented) - _PER_REQUEST - {"slug"}:
                assert created[name] == documented[name], (collection, name)

            patch = paths[f"/api/v1/{collection}/{{id_or_slug}}"]["patch"]
            example = patch["requestBody"]["content"]["application/merge-patch+json"]["example"]
            documented = patch["responses"]["200"]["content"]["application/json"]["example"]
            url = f"/api/v1/{collection}/{documented['slug']}"
            changed = api.patch(url, json=example, headers=headers).json()
            for name in set(documented) - _PER_REQUEST:
                assert _abbreviates(documented[name], changed[name]), (collection, name)


def test_each_refusal_of_a_write_is_documented_as_it_is_answered(
    app_factory: Any, session_factory: Any
) -> None:
    """A write's problem examples are its own answers (a topic's 422 named an event's
    participants, its 409 and 412 an event, its 400 an unknown `cursor`), and each
    refusal is described, beyond its status's name."""
    from http import HTTPStatus

    api, headers = _demo_api(app_factory, session_factory)
    with api:
        paths = api.get("/openapi.json").json()["paths"]
        for collection in COLLECTIONS:
            item = paths[f"/api/v1/{collection}/{{id_or_slug}}"]
            create = paths[f"/api/v1/{collection}"]["post"]
            body = create["requestBody"]["content"]["application/json"]["example"]
            slug = item["patch"]["responses"]["200"]["content"]["application/json"]["example"][
                "slug"
            ]
            answers = {
                400: api.post(
                    f"/api/v1/{collection}",
                    content=b'{"name": "Kidnapping",}',
                    headers={**headers, "Content-Type": "application/json"},
                ),
                404: api.patch(f"/api/v1/{collection}/nope", json={}, headers=headers),
                409: api.post(
                    f"/api/v1/{collection}", json={**body, "slug": slug}, headers=headers
                ),
                412: api.patch(
                    f"/api/v1/{collection}/{slug}", json={}, headers={**headers, "If-Match": '"x"'}
                ),
                422: api.post(
                    f"/api/v1/{collection}",
                    json={**body, "topics": ["kidnapping", "kidnaping"]},
                    headers=headers,
                ),
            }
            if collection == "topics":  # a topic has no topics: its 422 is refused as such
                del answers[422]
            operations = [create, item["patch"], item["delete"]]
            for status, answer in answers.items():
                documented = next(
                    o["responses"][str(status)] for o in operations if str(status) in o["responses"]
                )
                example = documented["content"]["application/problem+json"]["example"]
                assert answer.json() == example, (collection, status)
            for operation in operations:
                for status, response in operation["responses"].items():
                    if status.startswith("4"):
                        assert response["description"] != HTTPStatus(int(status)).phrase, (
                            collection,
                            status,
                        )


def test_the_article_and_quote_examples_make_a_placed_quote_on_an_empty_database(
    client: TestClient, writer: dict[str, str]
) -> None:
    """An editor on a database without the demo sends the article example, then the quote
    example, adjusting only the references (to what exists): the quote's place (after the
    body's 8th block) was refused, the article example's body being cut to one paragraph."""
    paths = client.get("/openapi.json").json()["paths"]

    def example(collection: str) -> dict[str, Any]:
        create = paths[f"/api/v1/{collection}"]["post"]
        return dict(create["requestBody"]["content"]["application/json"]["example"])

    unlinked = {"authors": [], "resources": [], "related": [], "topics": []}
    article = client.post(
        "/api/v1/articles", json={**example("articles"), **unlinked}, headers=writer
    )
    assert article.status_code == 201, article.text
    quote = {**example("quotes"), "speaker": None, "topics": [], "article": article.json()["id"]}
    placed = client.post("/api/v1/quotes", json=quote, headers=writer)
    assert placed.status_code == 201, placed.text
    assert placed.json()["after_block"] == quote["after_block"] > 1


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
