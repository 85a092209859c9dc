"""A resource's labelled contacts, and the phone, hotline and email fields beside them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.models import SearchDocument
from app.transfer import export_lines
from tests.admin_helpers import Keys

CST = [
    {"label": "Phone", "kind": "phone", "value": "650.736.6933"},
    {"label": "24/7 urgent support hotline", "kind": "phone", "value": "650.725.9955"},
    {"label": "Text line", "kind": "sms", "value": "741741"},
    {"label": "Email", "kind": "email", "value": "cst@example.org"},
    {"label": "Chat", "kind": "url", "value": "https://chat.example.org/cst"},
    {"label": "Walk in", "kind": "other", "value": "Vaden Health Center, 2nd floor"},
]


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> Keys:
    return Keys(factory, seed=True)


def _create(api: TestClient, keys: Keys, **fields: Any) -> Any:
    body = {"slug": "cst", "name": "Confidential Support Team", "status": "published", **fields}
    return api.post("/api/v1/resources", json=body, headers=keys.writer)


def _graphql_contacts(api: TestClient) -> Any:
    query = '{ resource(slug: "cst") { contacts { label kind value } } }'
    return api.post("/graphql", json={"query": query}).json()["data"]["resource"]["contacts"]


def test_contacts_are_listed_as_given(api: TestClient, keys: Keys) -> None:
    created = _create(api, keys, phone="650.736.6933", contacts=CST)
    assert created.status_code == 201, created.text
    assert created.json()["contacts"] == CST
    read = api.get("/api/v1/resources/cst").json()
    assert (read["contacts"], read["phone"]) == (CST, "650.736.6933")
    assert _graphql_contacts(api) == [{**c, "kind": c["kind"].upper()} for c in CST]
    # Lists are replaced whole by a merge patch; [] says "none".
    one = api.patch("/api/v1/resources/cst", json={"contacts": CST[1:2]}, headers=keys.writer)
    assert one.json()["contacts"] == CST[1:2]
    none = api.patch("/api/v1/resources/cst", json={"contacts": []}, headers=keys.writer)
    assert none.json()["contacts"] == []


def test_without_contacts_they_are_made_from_phone_hotline_and_email(
    api: TestClient, keys: Keys
) -> None:
    """What clients that know only `phone`, `hotline` and `email` write shows in `contacts`,
    and follows their later edits; `null` goes back to that from a list."""
    created = _create(api, keys, phone="650.736.6933", email="cst@example.org")
    assert created.json()["contacts"] == [
        {"label": "Phone", "kind": "phone", "value": "650.736.6933"},
        {"label": "Email", "kind": "email", "value": "cst@example.org"},
    ]
    patched = api.patch(
        "/api/v1/resources/cst",
        json={"hotline": "650.725.9955", "email": None},
        headers=keys.writer,
    )
    assert patched.json()["contacts"] == [
        {"label": "Phone", "kind": "phone", "value": "650.736.6933"},
        {"label": "Hotline", "kind": "phone", "value": "650.725.9955"},
    ]
    assert _graphql_contacts(api)[1] == {
        "label": "Hotline",
        "kind": "PHONE",
        "value": "650.725.9955",
    }
    api.patch("/api/v1/resources/cst", json={"contacts": CST[:1]}, headers=keys.writer)
    back = api.patch("/api/v1/resources/cst", json={"contacts": None}, headers=keys.writer)
    assert [c["label"] for c in back.json()["contacts"]] == ["Phone", "Hotline"]
    bare = api.post(
        "/api/v1/resources", json={"name": "Nothing to call"}, headers=keys.writer
    ).json()
    assert bare["contacts"] == []


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"label": "Phone", "kind": "phone", "value": "Dial the operator"}, "value"),
        ({"label": "Text", "kind": "sms", "value": "HOME"}, "value"),
        ({"label": "Email", "kind": "email", "value": "not an address"}, "value"),
        ({"label": "Web", "kind": "url", "value": "javascript:alert(1)"}, "value"),
        ({"label": "Web", "kind": "url", "value": "/relative"}, "value"),
        ({"label": "Fax", "kind": "fax", "value": "650 555 0100"}, "kind"),
        ({"label": " ", "kind": "phone", "value": "211"}, "label"),
        ({"label": "Phone", "kind": "phone", "value": ""}, "value"),
        ({"label": "x" * 101, "kind": "phone", "value": "211"}, "label"),
        ({"label": "Phone", "kind": "phone", "value": "2" * 301}, "value"),
        ({"label": "Phone", "kind": "phone"}, "value"),
        ({"label": "Phone", "kind": "phone", "value": "211", "note": "x"}, "note"),
    ],
)
def test_a_contact_is_checked(api: TestClient, keys: Keys, contact: Any, field: str) -> None:
    response = _create(api, keys, contacts=[CST[0], contact])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "contacts", "1", field]


@pytest.mark.parametrize("field", ["phone", "hotline"])
@pytest.mark.parametrize("value", ["N/A", "   ", "Call the front desk"])
def test_a_phone_or_hotline_is_checked_as_the_contact_it_is_read_as(
    api: TestClient, keys: Keys, field: str, value: str
) -> None:
    """`phone: "N/A"` was stored and read back as a contact of kind `phone`, which the
    next write refused ("a phone number has digits"): adding a contact to the list as read
    failed. Refused when written, as the contact would be."""
    response = _create(api, keys, **{field: value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert api.get("/api/v1/resources/cst").status_code == 404
    # What is written is read back as contacts that can be written back, one added.
    created = _create(api, keys, **{field: "211 (United Way)"}).json()
    contacts = [*created["contacts"], CST[4]]
    again = api.patch("/api/v1/resources/cst", json={"contacts": contacts}, headers=keys.writer)
    assert again.status_code == 200, again.text
    assert again.json()["contacts"] == contacts


def test_at_most_twenty_contacts(api: TestClient, keys: Keys) -> None:
    assert _create(api, keys, contacts=[CST[0]] * 20).status_code == 201
    assert _create(api, keys, slug="more", contacts=[CST[0]] * 21).status_code == 422
    assert _create(api, keys, slug="text", contacts="650.736.6933").status_code == 422


def test_an_export_keeps_contacts_as_written(
    api: TestClient, keys: Keys, factory: sessionmaker[Session]
) -> None:
    assert _create(api, keys, contacts=CST[:2]).status_code == 201
    post = api.post(
        "/api/v1/resources",
        json={"slug": "old-style", "name": "Old", "phone": "211"},
        headers=keys.writer,
    )
    assert post.status_code == 201
    with factory() as session:
        lines = {line.split(b'"slug":"')[1].split(b'"')[0]: line for line in export_lines(session)}
    assert b'"contacts":[{"label":"Phone","kind":"phone","value":"650.736.6933"},' in lines[b"cst"]
    assert b'"contacts":null' in lines[b"old-style"]  # made when read, not stored


def test_contact_labels_are_searched(
    api: TestClient, keys: Keys, factory: sessionmaker[Session]
) -> None:
    assert _create(api, keys, contacts=CST[:2], description="Support.").status_code == 201
    assert _create(api, keys, slug="plain", description="Help.", audience="All").status_code == 201
    found = api.get("/api/v1/resources?q=urgent").json()["data"]
    assert [r["slug"] for r in found] == ["cst"]
    with factory() as session:
        bodies = dict(
            session.execute(
                select(SearchDocument.entity_id, SearchDocument.body).where(  # type: ignore[call-overload]
                    col(SearchDocument.entity_type) == "resource"
                )
            ).all()
        )
    # Without contacts, the text searched is what it was before contacts were (no document
    # written before them needs writing again).
    assert sorted(bodies.values()) == [
        "Help. All ",
        "Support.   Phone 24/7 urgent support hotline",
    ]
