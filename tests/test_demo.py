"""The demo dataset is the seed page's content: concrete facts from the page, and idempotency."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.demo.data import ASSUMPTIONS, DEMO_DATASET
from app.demo.loader import load_demo
from app.models import Affiliation, Event, Person


def test_amichai_magen_was_a_hoover_national_fellow_2008_2009(demo_client: TestClient) -> None:
    person = demo_client.get("/api/v1/people/amichai-magen").json()
    assert person["name"] == "Amichai Magen"
    # The contact block after his profile opens Milani's (as Magaloni's opens hers).
    assert (person["phone"], person["office"]) == (None, None)
    milani = demo_client.get("/api/v1/people/abbas-milani").json()
    assert milani["phone"] == "(650) 721-4052"
    assert "Encina Commons, Room 128A" in milani["office"]
    hoover = [
        a for a in person["affiliations"] if a["organization"]["slug"] == "hoover-institution"
    ]
    assert [(a["role"], a["start_year"], a["end_year"]) for a in hoover] == [
        ("W. Glenn Campbell National Fellow", 2008, 2009)
    ]


def test_the_seminar_has_three_speakers_and_a_moderator_online_only(
    demo_client: TestClient,
) -> None:
    seminar = demo_client.get(
        "/api/v1/events/hamas-attack-on-israel-implications-for-israel-and-the-middle-east"
    ).json()
    assert seminar["event_type"] == "seminar"
    assert seminar["attendance_mode"] == "online"
    assert seminar["venue"] is None
    roles = [(p["role"], p["person"]["name"]) for p in seminar["participants"]]
    assert roles == [
        ("speaker", "Amichai Magen"),
        ("speaker", "Abbas Milani"),
        ("speaker", "Or Rabinowitz"),
        ("moderator", "Larry Diamond"),
    ]


def test_the_2011_conference_at_bechtel_has_its_hosts_and_sponsors(demo_client: TestClient) -> None:
    conference = demo_client.get(
        "/api/v1/events/violence-organized-crime-and-governance-in-mexico-2011"
    ).json()
    assert conference["venue"]["name"] == "Bechtel Conference Center"
    assert conference["starts_at"].startswith("2011-10-03")
    hosts = [p["person"]["name"] for p in conference["participants"] if p["role"] == "host"]
    assert hosts == ["Mariano-Florentino Cuéllar", "Beatriz Magaloni"]
    assert len(conference["sponsors"]) >= 3


def test_the_screening_and_its_panel(demo_client: TestClient) -> None:
    screening = demo_client.get(
        "/api/v1/events/screams-before-silence-screening-and-conversation"
    ).json()
    assert screening["event_type"] == "screening"
    assert screening["starts_at"][:10] in ("2024-11-19", "2024-11-20")  # 18:00 Pacific on Nov. 19
    panel = [p["person"]["name"] for p in screening["participants"] if p["role"] == "panelist"]
    assert panel == ["Sheryl Sandberg", "Ayelet Gundar-Goshen", "Idit Solomon"]


def test_support_resources_with_phones_and_hotlines(demo_client: TestClient) -> None:
    resources = {r["slug"]: r for r in demo_client.get("/api/v1/resources").json()["data"]}
    assert len(resources) == 5
    assert resources["caps"]["phone"] == "650.723.3785"
    cst = next(r for r in resources.values() if r["name"].startswith("Confidential Support Team"))
    assert (cst["phone"], cst["hotline"]) == ("650.736.6933", "650.725.9955")
    assert any(r["email"] == "ekrohner@brieftherapycenter.org" for r in resources.values())


def test_the_journal_article_lists_its_four_authors_in_order(demo_client: TestClient) -> None:
    article = demo_client.get(
        "/api/v1/publications/living-in-fear-dynamics-of-extortion-in-mexicos-drug-war"
    ).json()
    assert article["publication_type"] == "journal_article"
    assert [a["name"] for a in article["authors"]] == [
        "Beatriz Magaloni",
        "Aila M. Matanock",
        "Alberto Díaz-Cayeros",
        "Vidal Romero",
    ]


def test_pull_quotes_are_attributed_and_everything_is_tagged_kidnapping(
    demo_client: TestClient,
) -> None:
    quotes = demo_client.get("/api/v1/quotes").json()["data"]
    assert len(quotes) == 3
    assert {q["speaker"]["name"] for q in quotes} == {"Sheryl Sandberg"}
    assert {q["attribution"] for q in quotes} == {"Founder, LeanIn.org"}
    assert any(q["text"].startswith("Rape is not resistance.") for q in quotes)
    stream = demo_client.get("/api/v1/topics/kidnapping/stream?limit=100").json()
    types = {item["type"] for item in stream["data"]}
    assert types == {"article", "event", "publication", "quote"}
    publishable = sum(
        len(DEMO_DATASET[c]) for c in ("articles", "events", "publications", "quotes")
    )
    assert stream["meta"]["total"] == publishable


def test_invented_values_are_recorded() -> None:
    assert any("events/" in note for note in ASSUMPTIONS)


def test_loading_twice_changes_nothing(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as session:
        first = load_demo(session)
    with session_scope(session_factory) as session:
        second = load_demo(session)
        counts = (
            session.scalar(select(func.count()).select_from(Person)),
            session.scalar(select(func.count()).select_from(Affiliation)),
            session.scalar(select(func.count()).select_from(Event)),
        )
    assert first == sum(len(records) for records in DEMO_DATASET.values())
    assert second == 0
    assert counts == (
        len(DEMO_DATASET["people"]),
        sum(len(p["affiliations"]) for p in DEMO_DATASET["people"]),
        3,
    )
