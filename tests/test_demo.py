"""The demo dataset is the seed page's content: concrete facts from the page, and idempotency."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.placement import blocks
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


def test_sheryl_sandberg_is_the_former_coo_of_meta(demo_client: TestClient) -> None:
    person = demo_client.get("/api/v1/people/sheryl-sandberg").json()
    roles = [
        (a["organization"]["slug"], a["role"], a["end_year"], a["is_current"])
        for a in person["affiliations"]
    ]
    assert roles == [
        ("leanin-org", "Founder", None, True),
        ("meta", "Chief Operating Officer", None, False),  # "former", no year given
    ]
    assert demo_client.get("/api/v1/people?organization=meta").json()["data"] == []
    milani = demo_client.get("/api/v1/people/abbas-milani").json()["affiliations"]
    former = [a["organization"]["slug"] for a in milani if not a["is_current"]]
    assert former[:3] == [
        "notre-dame-de-namur-university",
        "notre-dame-de-namur-university",
        "berkeley-institute-of-international-studies",
    ]


def test_the_seminar_has_three_speakers_and_a_moderator_online_only(
    demo_client: TestClient,
) -> None:
    seminar = demo_client.get(
        "/api/v1/events/hamas-attack-on-israel-implications-for-israel-and-the-middle-east"
    ).json()
    assert seminar["event_type"] == "seminar"
    assert (seminar["attendance_mode"], seminar["online_platform"]) == ("online", "Zoom")
    assert seminar["venue"] is None
    roles = [(p["role"], p["person"]["name"]) for p in seminar["participants"]]
    assert roles == [
        ("speaker", "Amichai Magen"),
        ("speaker", "Abbas Milani"),
        ("speaker", "Or Rabinowitz"),
        ("moderator", "Larry Diamond"),
    ]
    # The photo above its text is its lead image, not the start of its body.
    photo = seminar["hero_image"]
    assert photo["caption"].startswith("Family and friends of May Naim, 24,")
    assert photo["credit"] == "Getty Images"
    assert seminar["body"].startswith("<p>On Saturday October 7, 2023,")


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
    # Each line under a resource, with the page's label, in the page's order.
    lines = {
        slug: [f"{c['label']}: {c['value']}" for c in r["contacts"]]
        for slug, r in resources.items()
    }
    assert lines == {
        "caps": ["Phone: 650.723.3785"],
        "confidential-support-team": [
            "Phone: 650.736.6933",
            "24/7 urgent support hotline: 650.725.9955",
        ],
        "hillel-brief-therapy-program": ["Email: ekrohner@brieftherapycenter.org"],
        "211-santa-clara-county": ["Phone: 211"],
        "shalom-bayit": ["Helpline: 866.742.5667 (SHALOM-7)"],
    }
    assert cst["hours"] is None  # no longer the hotline's label


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


def test_pull_quotes_are_attributed(demo_client: TestClient) -> None:
    quotes = demo_client.get("/api/v1/quotes").json()["data"]
    assert len(quotes) == 3
    assert {q["speaker"]["name"] for q in quotes} == {"Sheryl Sandberg"}
    assert {q["attribution"] for q in quotes} == {"Founder, LeanIn.org"}
    assert any(q["text"].startswith("Rape is not resistance.") for q in quotes)


def test_each_pull_quote_stands_after_the_paragraph_the_page_shows_it_after(
    demo_client: TestClient,
) -> None:
    article = demo_client.get(
        "/api/v1/articles/sheryl-sandberg-screams-before-silence-stanford?include=quotes"
    ).json()
    body = blocks(article["body"])
    placed = [(q["after_block"], q["text"]) for q in article["quotes"]]
    ends = ("make people see this.”", "it never will be,” she said.", "didn't get to.”")
    assert [
        body[after - 1].removesuffix("</p>").endswith(end)
        for (after, _), end in zip(placed, ends, strict=True)
    ] == [True] * 3
    assert [text[:20] for _, text in placed] == [
        "We know we have to k",
        "Rape is not resistan",
        "We have to believe i",
    ]
    # ... and before the next section's heading where the page has one.
    assert body[placed[0][0]].startswith("<h2>")
    assert body[placed[2][0]].startswith("<h2>")


# The seven items the Kidnapping page lists, in the page's order (newest first).
PAGE_ITEMS = [
    ("article", "sheryl-sandberg-screams-before-silence-stanford"),
    ("event", "hamas-attack-on-israel-implications-for-israel-and-the-middle-east"),
    ("publication", "living-in-fear-dynamics-of-extortion-in-mexicos-drug-war"),
    ("article", "julie-cordua-thorn-technology-child-sexual-exploitation"),
    ("publication", "dynamics-and-logic-of-extortion-in-mexicos-drug-war"),
    ("article", "qa-iranian-plot-mexican-drug-cartels-global-terrorism"),
    ("event", "violence-organized-crime-and-governance-in-mexico-2011"),
]
PULL_QUOTES = [
    "keep-fighting-to-make-people-see-this",
    "rape-is-not-resistance",
    "we-have-to-believe-in-peace",
]
# On the page only as the Sandberg article's Read More cards, and (the screening) in its text:
# tagged Kidnapping, the Oct. 2023 articles would be listed between the article and the seminar.
NOT_LISTED = [
    "fsi-scholars-analyze-implications-of-hamas-terror-attack-on-israel",
    "1973-yom-kippur-war-and-lessons-for-the-israel-hamas-conflict",
    "fsi-visiting-fellow-in-israel-studies-reflects-on-israel-and-the-middle-east",
    "screams-before-silence-screening-and-conversation",
]


def test_the_topic_stream_is_the_page_list_in_page_order(demo_client: TestClient) -> None:
    """The stream holds what the page lists, in its order, and the article's pull quotes
    right after it; the Read More articles and the screening stay off it (and its feeds)."""
    stream = demo_client.get("/api/v1/topics/kidnapping/stream?limit=100").json()
    served = [(item["type"], item["slug"]) for item in stream["data"]]
    assert served == [PAGE_ITEMS[0], *(("quote", q) for q in PULL_QUOTES), *PAGE_ITEMS[1:]]
    assert stream["meta"]["total"] == len(PAGE_ITEMS) + len(PULL_QUOTES)
    query = """{ topic(slug: "kidnapping") { stream(first: 50) { edges { node {
        __typename ... on Article { slug } ... on Event { slug }
        ... on Publication { slug } ... on Quote { slug } } } } } }"""
    edges = demo_client.post("/graphql", json={"query": query}).json()["data"]["topic"]
    assert [
        (e["node"]["__typename"].lower(), e["node"]["slug"]) for e in edges["stream"]["edges"]
    ] == served
    feed = demo_client.get("/feeds/topics/kidnapping.json").json()
    assert not any(slug in item["url"] for item in feed["items"] for slug in NOT_LISTED)
    for slug in NOT_LISTED[:3]:
        article = demo_client.get(f"/api/v1/articles/{slug}").json()
        assert [t["slug"] for t in article["topics"]] == ["israel", "terrorism"]


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
