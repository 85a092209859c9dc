"""How an event presents itself beyond its facts: its lead image."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.admin_helpers import Keys, event_body

PHOTO = {
    "url": "/media/events/seminar.jpg",
    "alt": "Speakers on a stage",
    "caption": "The panel.",
    "credit": "Rod Searcey",
}


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> Keys:
    return Keys(factory, seed=True)


def _create(api: TestClient, keys: Keys, **fields: Any) -> Any:
    body = event_body(slug="seminar", status="published", topics=["kidnapping"], **fields)
    return api.post("/api/v1/events", json=body, headers=keys.writer)


def test_an_event_has_a_hero_image(api: TestClient, keys: Keys) -> None:
    created = _create(api, keys, hero_image=PHOTO)
    assert created.status_code == 201, created.text
    assert created.json()["hero_image"] == PHOTO
    assert api.get("/api/v1/events/seminar").json()["hero_image"] == PHOTO
    assert api.get("/api/v1/events/seminar?fields=hero_image").json() == {
        "id": created.json()["id"],
        "hero_image": PHOTO,
    }
    stream = api.get("/api/v1/topics/kidnapping/stream").json()["data"]
    assert [item["hero_image"] for item in stream] == [PHOTO]
    query = '{ event(slug: "seminar") { heroImage { url alt caption credit } } }'
    data = api.post("/graphql", json={"query": query}).json()["data"]
    assert data["event"]["heroImage"] == PHOTO

    # A merge patch of the image changes the parts it names.
    patched = api.patch(
        "/api/v1/events/seminar", json={"hero_image": {"caption": None}}, headers=keys.writer
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["hero_image"] == {**PHOTO, "caption": None}
    cleared = api.patch("/api/v1/events/seminar", json={"hero_image": None}, headers=keys.writer)
    assert cleared.json()["hero_image"] is None


@pytest.mark.parametrize(
    "image",
    [
        {"alt": "No url"},
        {"url": "javascript:alert(1)"},
        {"url": "/a.jpg", "width": 3},
        {**PHOTO, "credit": "x" * 301},
        "/media/events/seminar.jpg",
    ],
)
def test_a_hero_image_is_checked_as_an_articles(api: TestClient, keys: Keys, image: Any) -> None:
    response = _create(api, keys, hero_image=image)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["body", "hero_image"]


def test_a_patch_cannot_leave_an_image_without_its_url(api: TestClient, keys: Keys) -> None:
    assert _create(api, keys, hero_image=PHOTO).status_code == 201
    response = api.patch(
        "/api/v1/events/seminar", json={"hero_image": {"url": None}}, headers=keys.writer
    )
    assert response.status_code == 422, response.text


def test_feeds_show_an_events_image(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    keys = Keys(session_factory, seed=True)
    assert _create(client, keys, hero_image=PHOTO).status_code == 201
    item = client.get("/feeds/events.json").json()["items"][0]
    assert item["image"] == "https://www.example.org/media/events/seminar.jpg"
    assert (
        '<img src="https://www.example.org/media/events/seminar.jpg" alt="Speakers on a stage">'
        in item["content_html"]
    )
    rss = client.get("/feeds/events.rss").text
    assert "https://www.example.org/media/events/seminar.jpg" in rss
