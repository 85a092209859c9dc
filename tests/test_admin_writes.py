"""POST / PATCH / DELETE on every collection, with relations by slug or id."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.content.events import on_write
from app.models import AuditEntry
from tests.admin_helpers import Keys, event_body


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _id_of(client: TestClient, collection: str, slug: str) -> str:
    response = client.get(f"/api/v1/{collection}/{slug}")
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _subset(actual: Any, expected: Any) -> bool:
    """`expected` with every dict in it allowed to name only some of the keys."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _subset(actual.get(k), v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_subset(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


CREATES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "topics": (
        {"name": "Hostage Diplomacy", "description": "States taking hostages."},
        {
            "slug": "hostage-diplomacy",
            "name": "Hostage Diplomacy",
            "description": "States taking hostages.",
        },
    ),
    "organizations": (
        {
            "name": "Center on Democracy",
            "short_name": "CDDRL",
            "url": "https://cddrl.fsi.stanford.edu",
            "parent": "stanford-university",
            "topics": ["kidnapping"],
        },
        {
            "short_name": "CDDRL",
            "parent": {"slug": "stanford-university", "name": "Stanford University"},
        },
    ),
    "people": (
        {
            "name": "Beatriz Magaloni",
            "degrees": "PhD",
            "bio": "<p>Senior <b>Fellow</b>.</p>",
            "photo": {"url": "/media/people/bmkhigh.jpg", "alt": "Beatriz Magaloni"},
            "affiliations": [
                {
                    "organization": "hoover-institution",
                    "role": "Senior Fellow",
                    "start_year": 2010,
                    "is_primary": True,
                }
            ],
            "topics": ["kidnapping", "israel"],
        },
        {
            "sort_name": "Magaloni, Beatriz",
            "bio": "<p>Senior <b>Fellow</b>.</p>",
            "bio_text": "Senior Fellow.",
            "photo": {
                "url": "/media/people/bmkhigh.jpg",
                "alt": "Beatriz Magaloni",
                "credit": None,
            },
        },
    ),
    "articles": (
        {
            "title": "Q&A: Kidnapping in Mexico",
            "article_type": "interview",
            "authors": ["larry-diamond", "abbas-milani"],
            "body": "<p>First.</p><p>Second.</p>",
            "status": "published",
            "published_at": "2011-10-14T17:00:00Z",
            "hero_image": {
                "url": "/media/a.jpg",
                "alt": "A",
                "caption": "C",
                "credit": "Getty Images",
            },
        },
        {
            "slug": "q-a-kidnapping-in-mexico",
            "body_text": "First.\n\nSecond.",
            "status": "published",
            "published_at": "2011-10-14T17:00:00+00:00",
        },
    ),
    "quotes": (
        {
            "text": "We have to keep fighting.",
            "speaker": "abbas-milani",
            "attribution": "Fellow",
            "position": 2,
        },
        {
            "speaker": {"slug": "abbas-milani", "name": "Abbas Milani"},
            "position": 2,
            "status": "draft",
        },
    ),
    "events": (
        event_body(),
        {
            "starts_at": "2023-10-12T19:00:00+00:00",
            "sponsors": [{"slug": "stanford-university", "name": "Stanford University"}],
        },
    ),
    "publications": (
        {
            "title": "Living in Fear",
            "publication_type": "journal_article",
            "authors": ["abbas-milani"],
            "journal": "Comparative Political Studies",
            "year": 2020,
            "doi": "10.1177/0010414019879958",
        },
        {"year": 2020, "doi": "10.1177/0010414019879958"},
    ),
    "resources": (
        {
            "name": "CAPS",
            "resource_type": "counseling",
            "phone": "650.723.3785",
            "position": 1,
            "is_confidential": True,
            "status": "published",
        },
        {"resource_type": "counseling", "is_confidential": True},
    ),
}


@pytest.mark.parametrize("collection", list(CREATES))
def test_create_every_collection(client: TestClient, keys: Keys, collection: str) -> None:
    body, expected = CREATES[collection]
    response = client.post(f"/api/v1/{collection}", json=body, headers=keys.writer)
    assert response.status_code == 201, response.text
    item = response.json()
    for key, value in expected.items():
        assert _subset(item[key], value), (key, item[key])
    assert response.headers["Location"].endswith(f"/api/v1/{collection}/{item['id']}")
    assert response.headers["Cache-Control"] == "private, no-store"
    # The ETag is the one the editor's GET (?preview=true) gives for the same item.
    preview = client.get(response.headers["Location"] + "?preview=true", headers=keys.previewer)
    assert preview.status_code == 200
    assert preview.json() == item
    assert preview.headers["ETag"] == response.headers["ETag"]


def test_relations_by_slug_and_id(client: TestClient, keys: Keys) -> None:
    larry = _id_of(client, "people", "larry-diamond")
    resource = client.post(
        "/api/v1/resources", json={"name": "211", "status": "published"}, headers=keys.writer
    )
    article = client.post(
        "/api/v1/articles",
        json={
            "title": "Screams Before Silence",
            "authors": [larry, "abbas-milani"],
            "topics": ["top_1"],
            "resources": [resource.json()["id"]],
            "status": "published",
            "related": [],
            "byline": "Staff",
        },
        headers=keys.writer,
    )
    assert article.status_code == 201, article.text
    quote = client.post(
        "/api/v1/quotes",
        json={
            "text": "Keep fighting.",
            "speaker": larry,
            "article": "screams-before-silence",
            "status": "published",
        },
        headers=keys.writer,
    )
    event = client.post(
        "/api/v1/events",
        json=event_body(participants=[{"person": larry, "role": "host"}]),
        headers=keys.writer,
    )
    related = [
        {"type": "event", "slug": event.json()["slug"]},
        {"type": "quote", "slug": quote.json()["slug"]},
    ]
    patched = client.patch(
        "/api/v1/articles/screams-before-silence", json={"related": related}, headers=keys.writer
    )
    assert patched.status_code == 200, patched.text
    item = client.get("/api/v1/articles/screams-before-silence").json()
    assert [a["slug"] for a in item["authors"]] == ["larry-diamond", "abbas-milani"]
    assert [t["slug"] for t in item["topics"]] == ["kidnapping"]
    assert [r["slug"] for r in item["resources"]] == ["211"]
    assert [q["id"] for q in item["quotes"]] == [quote.json()["id"]]  # quotes of the article
    assert [(r["type"], r["slug"]) for r in item["related"]] == [
        (r["type"], r["slug"]) for r in related
    ]
    participants = client.get(f"/api/v1/events/{event.json()['id']}").json()["participants"]
    assert [(p["role"], p["person"]["slug"]) for p in participants] == [("host", "larry-diamond")]
    person = client.get("/api/v1/people/abbas-milani").json()
    assert [(a["role"], a["organization"]["slug"]) for a in person["affiliations"]] == [
        ("Research Fellow", "hoover-institution")
    ]


def test_slug_derived_and_transliterated(client: TestClient, keys: Keys) -> None:
    hebrew = client.post("/api/v1/topics", json={"name": "חטיפה"}, headers=keys.writer)
    chinese = client.post("/api/v1/topics", json={"name": "绑架 研究"}, headers=keys.writer)
    again = client.post("/api/v1/topics", json={"name": "绑架 研究"}, headers=keys.writer)
    slugs = [r.json()["slug"] for r in (hebrew, chinese, again)]
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert slugs[2] == slugs[1] + "-2"
    assert client.get(f"/api/v1/topics/{slugs[0]}").status_code == 200


def test_a_derived_slug_keeps_a_word_with_an_apostrophe_whole(
    client: TestClient, keys: Keys
) -> None:
    """ "Mexico's" made "mexico-s" (and "FSI's" "fsi-s"): the apostrophe, straight or
    typographic, split the word, where the slugs editors write (the demo's "mexicos") and
    common slug libraries join it."""
    titles = {
        "Living in Fear: Extortion in Mexico's Drug War": "living-in-fear-extortion-in-mexicos-drug-war",
        "FSI’s Visiting Fellow Reflects": "fsis-visiting-fellow-reflects",
        "Hamas’ Attack, O'Brien ʼs Notes": "hamas-attack-obrien-s-notes",
    }
    for title, slug in titles.items():
        created = client.post("/api/v1/articles", json={"title": title}, headers=keys.writer)
        assert (created.status_code, created.json()["slug"]) == (201, slug), title


def test_patch_is_a_json_merge_patch(client: TestClient, keys: Keys) -> None:
    created = client.post("/api/v1/events", json=event_body(), headers=keys.writer).json()
    url = f"/api/v1/events/{created['slug']}"
    first = client.patch(
        url, json={"venue": {"name": "Encina Hall"}, "subtitle": "A panel"}, headers=keys.writer
    )
    assert first.status_code == 200, first.text
    merge = {**keys.writer, "Content-Type": "application/merge-patch+json"}
    second = client.patch(
        url, content=b'{"venue": {"address": "616 Jane Stanford Way"}}', headers=merge
    )
    assert second.status_code == 200, second.text
    assert second.json()["venue"] == {"name": "Encina Hall", "address": "616 Jane Stanford Way"}
    assert second.json()["subtitle"] == "A panel"
    assert second.json()["updated_at"] > created["updated_at"]
    cleared = client.patch(
        url,
        json={"venue": None, "participants": [{"person": "larry-diamond", "role": "speaker"}]},
        headers=keys.writer,
    )
    assert cleared.json()["venue"] is None
    assert [(p["role"], p["person"]["slug"]) for p in cleared.json()["participants"]] == [
        ("speaker", "larry-diamond")
    ]
    assert second.headers["ETag"] != cleared.headers["ETag"]


def test_patch_by_id_and_slug_change(client: TestClient, keys: Keys) -> None:
    person_id = _id_of(client, "people", "larry-diamond")
    response = client.patch(
        f"/api/v1/people/{person_id}", json={"slug": "larry-j-diamond"}, headers=keys.writer
    )
    assert response.status_code == 200
    assert client.get("/api/v1/people/larry-j-diamond").json()["id"] == person_id
    assert client.get("/api/v1/people/larry-diamond").status_code == 404


def test_a_rename_carries_a_derived_sort_name_along(client: TestClient, keys: Keys) -> None:
    """A sort name derived from the name follows a rename: it ordered people lists and named
    the author in citations (BibTeX, RIS, CSL-JSON read family and given names from it),
    so a renamed person kept being sorted and cited under the old name. A sort name set by
    hand stays, unless the PATCH names it too."""
    created = client.post("/api/v1/people", json={"name": "Ana Old"}, headers=keys.writer)
    assert created.json()["sort_name"] == "Old, Ana"
    url = f"/api/v1/people/{created.json()['slug']}"
    renamed = client.patch(url, json={"name": "Ana Newname"}, headers=keys.writer)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["sort_name"] == "Newname, Ana"
    assert client.get(url).json()["sort_name"] == "Newname, Ana"

    custom = client.post(
        "/api/v1/people",
        json={"name": "Ana Custom", "sort_name": "Custom-Sort, A."},
        headers=keys.writer,
    )
    url = f"/api/v1/people/{custom.json()['slug']}"
    kept = client.patch(url, json={"name": "Ana Other"}, headers=keys.writer)
    assert kept.json()["sort_name"] == "Custom-Sort, A."
    both = client.patch(
        url, json={"name": "Ana Third", "sort_name": "Third, Ana"}, headers=keys.writer
    )
    assert both.json()["sort_name"] == "Third, Ana"


def test_a_rename_rederives_a_sort_name_with_a_suffix(client: TestClient, keys: Keys) -> None:
    """A derived sort name keeps a generational suffix, drops a post-nominal, and follows a
    rename in that form: it is recognised as derived ("King, Martin Luther, Jr." is derived
    from "Martin Luther King Jr.") and derived again from the new name."""
    created = client.post(
        "/api/v1/people", json={"name": "Martin Luther King Jr."}, headers=keys.writer
    )
    assert created.json()["sort_name"] == "King, Martin Luther, Jr."
    url = f"/api/v1/people/{created.json()['slug']}"
    renamed = client.patch(url, json={"name": "Martin Luther King III"}, headers=keys.writer)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["sort_name"] == "King, Martin Luther, III"
    renamed = client.patch(url, json={"name": "Martin King, PhD"}, headers=keys.writer)
    assert renamed.json()["sort_name"] == "King, Martin"
    renamed = client.patch(url, json={"name": "Martin Luther"}, headers=keys.writer)
    assert renamed.json()["sort_name"] == "Luther, Martin"

    doe = client.post("/api/v1/people", json={"name": "Jane Doe, PhD"}, headers=keys.writer)
    assert doe.json()["sort_name"] == "Doe, Jane"
    url = f"/api/v1/people/{doe.json()['slug']}"
    renamed = client.patch(url, json={"name": "Jane Roe, MD"}, headers=keys.writer)
    assert renamed.json()["sort_name"] == "Roe, Jane"


def test_unchanged_patch_changes_nothing(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    before = client.get("/api/v1/people/larry-diamond")
    seen: list[str] = []
    unsubscribe = on_write(lambda ctype, row: seen.append(row.slug))
    try:
        response = client.patch(
            "/api/v1/people/larry-diamond", json={"name": "Larry Diamond"}, headers=keys.writer
        )
    finally:
        unsubscribe()
    assert response.status_code == 200
    assert response.json()["updated_at"] == before.json()["updated_at"]
    assert seen == []
    with session_factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(col(AuditEntry.action) == "update")
            )
            == 0
        )


def test_delete_is_soft_and_leaves_a_tombstone(client: TestClient, keys: Keys) -> None:
    event = client.post("/api/v1/events", json=event_body(), headers=keys.writer).json()
    changes = client.get("/api/v1/changes")
    assert changes.status_code == 200
    since = changes.json()["meta"]["next_since"]
    response = client.delete(f"/api/v1/events/{event['slug']}", headers=keys.writer)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 404
    assert (
        client.get(f"/api/v1/events/{event['id']}?preview=true", headers=keys.previewer).status_code
        == 404
    )
    assert client.get("/api/v1/events").json()["meta"]["total"] == 0
    tombstones = client.get("/api/v1/changes", params={"since": since}).json()["data"]
    assert [(c["action"], c["type"], c["id"]) for c in tombstones] == [
        ("deleted", "event", event["id"])
    ]
    assert client.delete(f"/api/v1/events/{event['slug']}", headers=keys.writer).status_code == 404
    assert (
        client.patch(f"/api/v1/events/{event['slug']}", json={}, headers=keys.writer).status_code
        == 404
    )


def test_deleted_person_leaves_relations(client: TestClient, keys: Keys) -> None:
    client.post("/api/v1/events", json=event_body(), headers=keys.writer)
    assert client.delete("/api/v1/people/abbas-milani", headers=keys.writer).status_code == 204
    event = client.get("/api/v1/events?include=participants").json()["data"][0]
    assert [p["person"]["slug"] for p in event["participants"]] == ["larry-diamond"]


def test_write_notifies_subscribers_after_commit(client: TestClient, keys: Keys) -> None:
    seen: list[tuple[str, str]] = []
    unsubscribe = on_write(lambda ctype, row: seen.append((ctype.name, row.slug)))
    try:
        client.post("/api/v1/topics", json={"name": "Terrorism"}, headers=keys.writer)
        client.patch("/api/v1/topics/terrorism", json={"description": "x"}, headers=keys.writer)
        client.post(
            "/api/v1/topics", json={"name": "Terrorism", "slug": "terrorism"}, headers=keys.writer
        )  # 409
        client.delete("/api/v1/topics/terrorism", headers=keys.writer)
    finally:
        unsubscribe()
    assert seen == [("topic", "terrorism")] * 3


def test_scheduled_item_appears_by_itself(client: TestClient, keys: Keys) -> None:
    from datetime import UTC, datetime, timedelta
    from time import sleep

    at = datetime.now(UTC) + timedelta(seconds=2)
    body = {"title": "Embargoed", "status": "published", "published_at": at.isoformat()}
    created = client.post("/api/v1/articles", json=body, headers=keys.writer)
    assert created.status_code == 201
    hidden = client.get("/api/v1/articles/embargoed").status_code
    if datetime.now(UTC) < at:  # on a very slow machine the embargo may already be over
        assert hidden == 404
    assert (
        client.get("/api/v1/articles/embargoed?preview=true", headers=keys.previewer).status_code
        == 200
    )
    sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.1)
    assert client.get("/api/v1/articles/embargoed").status_code == 200  # no job ran


def test_an_unknown_item_is_said_the_same_by_reads_writes_feeds_and_citations(
    client: TestClient, writer: dict[str, str]
) -> None:
    """A 404 names the type, the key (cut at 200 characters) and the collection, whoever
    answers it: a read said "in topics.", a write did not, and a topic's feed and calendar
    said "No topic with slug 'nope'." while the OpenAPI example said the read's words."""
    long = "x" * 300
    cases = [
        ("GET", "/api/v1/topics/nope", "No topic with id or slug 'nope' in topics."),
        ("PATCH", "/api/v1/topics/nope", "No topic with id or slug 'nope' in topics."),
        ("DELETE", "/api/v1/events/nope", "No event with id or slug 'nope' in events."),
        ("GET", f"/api/v1/people/{long}", f"No person with id or slug '{'x' * 200}' in people."),
        ("GET", "/api/v1/topics/nope/stream", "No topic with id or slug 'nope' in topics."),
        ("GET", "/feeds/people/nope.rss", "No person with id or slug 'nope' in people."),
        ("GET", "/feeds/topics/nope.atom", "No topic with id or slug 'nope' in topics."),
        ("GET", "/calendar/topics/nope.ics", "No topic with id or slug 'nope' in topics."),
        (
            "GET",
            "/api/v1/publications/nope/citation?format=ris",
            "No publication with id or slug 'nope' in publications.",
        ),
    ]
    for method, path, detail in cases:
        body = {"title": "x"} if method == "PATCH" else None
        response = client.request(method, path, json=body, headers=writer)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["detail"] == detail, (method, path)
