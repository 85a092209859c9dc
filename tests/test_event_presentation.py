"""How an event presents itself beyond its facts: its lead image, the platform it is on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.admin_helpers import Keys, event_body
from tests.test_calendar import calendar, events_by_summary

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


def test_an_online_event_names_its_platform(api: TestClient, keys: Keys) -> None:
    created = _create(api, keys, attendance_mode="online", online_platform="Zoom")
    assert created.status_code == 201, created.text
    assert api.get("/api/v1/events/seminar").json()["online_platform"] == "Zoom"
    query = '{ event(slug: "seminar") { attendanceMode onlinePlatform } }'
    data = api.post("/graphql", json={"query": query}).json()["data"]
    assert data["event"] == {"attendanceMode": "ONLINE", "onlinePlatform": "Zoom"}
    hybrid = api.patch(
        "/api/v1/events/seminar",
        json={"attendance_mode": "hybrid", "online_platform": "Microsoft Teams"},
        headers=keys.writer,
    )
    assert hybrid.json()["online_platform"] == "Microsoft Teams"


def test_an_in_person_event_has_no_platform(api: TestClient, keys: Keys) -> None:
    refused = _create(api, keys, attendance_mode="in_person", online_platform="Zoom")
    assert refused.status_code == 422, refused.text
    assert [(e["loc"], e["msg"]) for e in refused.json()["errors"]] == [
        (
            ["body", "online_platform"],
            "an in-person event has no online platform (attendance_mode)",
        )
    ]
    for blank in ("", " ", "x" * 101, 7):
        assert _create(api, keys, online_platform=blank).status_code == 422
    assert _create(api, keys, online_platform="Zoom").status_code == 201  # online (event_body)
    # Moved in person, it loses its platform in the same write, or the write is refused.
    moved = api.patch(
        "/api/v1/events/seminar", json={"attendance_mode": "in_person"}, headers=keys.writer
    )
    assert moved.status_code == 422, moved.text
    both = api.patch(
        "/api/v1/events/seminar",
        json={"attendance_mode": "in_person", "online_platform": None},
        headers=keys.writer,
    )
    assert both.status_code == 200, both.text


@pytest.mark.parametrize(
    ("fields", "location", "joining"),
    [
        (
            {"attendance_mode": "online", "online_url": "https://zoom.example.org/j/1"},
            "Zoom: https://zoom.example.org/j/1",
            "Join on Zoom: https://zoom.example.org/j/1",
        ),
        ({"attendance_mode": "online"}, "Online (Zoom)", None),
        (
            {
                "attendance_mode": "hybrid",
                "venue": {"name": "Encina Hall"},
                "online_url": "https://zoom.example.org/j/1",
            },
            "Encina Hall; Zoom: https://zoom.example.org/j/1",
            "Join on Zoom: https://zoom.example.org/j/1",
        ),
    ],
)
def test_feeds_and_calendars_say_where_to_join(
    client: TestClient,
    session_factory: sessionmaker[Session],
    fields: dict[str, Any],
    location: str,
    joining: str | None,
) -> None:
    keys = Keys(session_factory, seed=True)
    assert _create(client, keys, online_platform="Zoom", **fields).status_code == 201
    event = events_by_summary(calendar(client, "/calendar/events.ics"))[
        "The Hamas Attack on Israel"
    ]
    assert str(event["LOCATION"]) == location
    description = str(event["DESCRIPTION"])
    assert (joining in description) if joining else ("Join" not in description)
    item = client.get("/feeds/events.json").json()["items"][0]
    assert item["_dossier"]["online_platform"] == "Zoom"
    assert item["_dossier"]["location"] == location
    assert f"<strong>Where:</strong> {location}" in item["content_html"]
