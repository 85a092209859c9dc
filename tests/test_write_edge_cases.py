"""Write edge cases found in review: out-of-range times, reused slugs, caches that embed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.models import AuditEntry
from app.transfer import import_records
from tests.admin_helpers import event_body


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_times_outside_utc_range_are_422_not_500(
    client: TestClient, writer: dict[str, str], when: str
) -> None:
    article = client.post(
        "/api/v1/articles",
        json={"title": "ok", "status": "published", "published_at": when},
        headers=writer,
    )
    assert article.status_code == 422, article.text
    assert article.headers["content-type"].startswith("application/problem+json")
    assert article.json()["errors"][0]["loc"] == ["body", "published_at"]
    event = client.post("/api/v1/events", json={"title": "ev", "starts_at": when}, headers=writer)
    assert event.status_code == 422, event.text


@pytest.mark.parametrize("day", ["0001-01-01", "0202-05-01", "9999-12-31"])
def test_a_publication_date_is_bounded_as_its_year_is(
    client: TestClient, writer: dict[str, str], day: str
) -> None:
    """`year` takes 1000-3000 and every written time the years 1000-2999, but
    `published_on` took any date: "0202-05-01" for 2020-05-01 was stored, and the citations
    of the publication gave it the year 202."""
    created = client.post(
        "/api/v1/publications", json={"title": "Dated", "published_on": day}, headers=writer
    )
    assert created.status_code == 422, created.text
    assert created.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in created.json()["errors"]] == [["body", "published_on"]]
    dated = {"title": "Dated", "published_on": "1000-01-01"}
    pub = client.post("/api/v1/publications", json=dated, headers=writer)
    assert pub.status_code == 201, pub.text
    patched = client.patch(
        f"/api/v1/publications/{pub.json()['id']}", json={"published_on": day}, headers=writer
    )
    assert patched.status_code == 422, patched.text


def test_a_deleted_items_slug_is_not_reused_and_the_409_says_why(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert (
        client.post(
            "/api/v1/topics", json={"name": "Gone", "slug": "gone"}, headers=writer
        ).status_code
        == 201
    )
    assert client.delete("/api/v1/topics/gone", headers=writer).status_code == 204
    again = client.post(
        "/api/v1/topics", json={"name": "Gone again", "slug": "gone"}, headers=writer
    )
    assert again.status_code == 409
    assert "deleted" in again.json()["detail"]


def test_a_new_quote_appears_on_its_cached_article(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post("/api/v1/articles", json={"title": "Probe", "status": "published"}, headers=writer)
    assert client.get("/api/v1/articles/probe").json()["quotes"] == []
    assert client.get("/api/v1/articles?limit=1").json()["data"][0]["quotes"] == []
    quote = {"text": "Said it", "status": "published", "article": "probe"}
    assert client.post("/api/v1/quotes", json=quote, headers=writer).status_code == 201
    assert [q["text"] for q in client.get("/api/v1/articles/probe").json()["quotes"]] == ["Said it"]
    assert [
        q["text"] for q in client.get("/api/v1/articles?limit=1").json()["data"][0]["quotes"]
    ] == ["Said it"]


def test_lists_filtered_by_a_renamed_topic_are_not_served_stale(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post(
        "/api/v1/topics", json={"name": "Cache topic", "slug": "cache-topic"}, headers=writer
    )
    client.post(
        "/api/v1/articles",
        json={"title": "Tagged", "status": "published", "topics": ["cache-topic"]},
        headers=writer,
    )
    url = "/api/v1/articles?topic=cache-topic&fields=title"
    assert client.get(url).json()["meta"]["total"] == 1
    assert (
        client.patch(
            "/api/v1/topics/cache-topic", json={"slug": "cache-topic-renamed"}, headers=writer
        ).status_code
        == 200
    )
    assert client.get(url).json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        # API.md: "Times are ISO 8601 with offset": a local wall-clock time is refused, not
        # read as UTC (an event in Paris would be one or two hours off).
        ("/api/v1/events", {"title": "Naive", "starts_at": "2027-01-10T18:00:00"}, "starts_at"),
        (
            "/api/v1/articles",
            {"title": "Naive", "published_at": "2027-01-10T18:00:00"},
            "published_at",
        ),
        # Names and titles with nothing in them.
        ("/api/v1/topics", {"name": "   "}, "name"),
        ("/api/v1/articles", {"title": " \t "}, "title"),
        # A resource's email is checked like a person's; URLs need a host (or a path).
        ("/api/v1/resources", {"name": "Line", "email": "javascript:alert(1)"}, "email"),
        ("/api/v1/resources", {"name": "Line", "url": "http://"}, "url"),
        ("/api/v1/people", {"name": "P", "profile_url": "https:///nohost"}, "profile_url"),
        ("/api/v1/people", {"name": "P", "cv_url": "mailto:"}, "cv_url"),
        # Checks across fields name the field that is wrong.
        (
            "/api/v1/events",
            {"title": "Mars", "starts_at": "2027-01-10T18:00:00Z", "timezone": "Mars/Olympus"},
            "timezone",
        ),
        (
            "/api/v1/events",
            {
                "title": "Back",
                "starts_at": "2027-01-10T18:00:00Z",
                "ends_at": "2027-01-10T17:00:00Z",
            },
            "ends_at",
        ),
        (
            "/api/v1/people",
            {
                "name": "P",
                "affiliations": [
                    {"organization": "x", "role": "r", "start_year": 2020, "end_year": 2019}
                ],
            },
            "end_year",
        ),
    ],
)
def test_writes_refuse_what_would_publish_wrongly(
    client: TestClient, writer: dict[str, str], path: str, body: dict[str, str], field: str
) -> None:
    response = client.post(path, json=body, headers=writer)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(field in error["loc"] for error in response.json()["errors"]), response.text


def test_offsets_urls_and_emails_that_are_fine(client: TestClient, writer: dict[str, str]) -> None:
    event = client.post(
        "/api/v1/events",
        headers=writer,
        json={
            "title": "Paris",
            "starts_at": "2027-01-10T18:00:00+01:00",
            "registration_url": "https://example.org",
            "online_url": "https://example.org/live?x=1#now",
        },
    )
    assert event.status_code == 201, event.text
    assert event.json()["starts_at"].startswith("2027-01-10T17:00:00")
    resource = client.post(
        "/api/v1/resources",
        headers=writer,
        json={"name": "Hotline", "email": "help@example.org", "url": "/resources/hotline"},
    )
    assert resource.status_code == 201, resource.text
    person = client.post(
        "/api/v1/people", headers=writer, json={"name": "Mail", "profile_url": "mailto:a@b.org"}
    )
    assert person.status_code == 201, person.text


def test_nulling_a_published_items_time_is_refused_not_redated(
    client: TestClient, writer: dict[str, str]
) -> None:
    """`null` clears a field, but a published item has a publication time: it used to be
    re-dated to now, jumping to the top of newest-first lists and feeds."""
    when = "2024-05-01T10:00:00+00:00"
    created = client.post(
        "/api/v1/articles",
        json={"title": "Dated", "status": "published", "published_at": when},
        headers=writer,
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/articles/{created.json()['slug']}"
    headers = {**writer, "Content-Type": "application/merge-patch+json"}
    refused = client.patch(url, json={"published_at": None}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["body", "published_at"]
    assert client.get(url).json()["published_at"] == when
    # Unpublishing and clearing together is fine; so is publishing a draft with no time.
    assert (
        client.patch(
            url, json={"status": "draft", "published_at": None}, headers=headers
        ).status_code
        == 200
    )
    republished = client.patch(url, json={"status": "published"}, headers=headers)
    assert republished.status_code == 200
    assert republished.json()["published_at"] is not None


def test_a_participants_title_is_written_read_and_kept_apart_from_the_profile(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert (
        client.post(
            "/api/v1/people", json={"name": "Ada Card", "title": "Professor"}, headers=writer
        ).status_code
        == 201
    )
    event = {
        "title": "Card lines",
        "starts_at": "2025-03-01T17:00:00Z",
        "participants": [
            {"person": "ada-card", "role": "speaker", "title": "Visiting chair\nElsewhere"}
        ],
    }
    created = client.post("/api/v1/events", json=event, headers=writer)
    assert created.status_code == 201, created.text
    [participant] = created.json()["participants"]
    assert (participant["title"], participant["person"]["slug"]) == (
        "Visiting chair\nElsewhere",
        "ada-card",
    )
    cleared = client.patch(
        "/api/v1/events/card-lines",
        json={"participants": [{"person": "ada-card", "role": "speaker"}]},
        headers=writer,
    )
    assert cleared.json()["participants"][0]["title"] is None
    too_long = {"participants": [{"person": "ada-card", "role": "speaker", "title": "x" * 501}]}
    refused = client.patch("/api/v1/events/card-lines", json=too_long, headers=writer)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"][:4] == ["body", "participants", "0", "title"]


def test_a_write_that_changes_nothing_still_heals_derived_values(
    client: TestClient, writer: dict[str, str], session_factory: Any
) -> None:
    """A write that changes nothing writes nothing, unless what the row derives (plain
    text, the search document) is not what this code derives: then it is written again."""
    from sqlalchemy import text

    from app.db import session_scope

    body = {"title": "Derived", "status": "published", "body": "<p>Fresh words</p>"}
    assert client.post("/api/v1/articles", json=body, headers=writer).status_code == 201
    with session_scope(session_factory) as session:
        session.execute(text("UPDATE article SET body_text = 'stale' WHERE slug = 'derived'"))
        session.execute(
            text("UPDATE search_document SET body = 'stale' WHERE entity_type = 'article'")
        )
    assert (
        client.patch(
            "/api/v1/articles/derived", json={"title": "Derived"}, headers=writer
        ).status_code
        == 200
    )
    with session_scope(session_factory) as session:
        stored = session.scalar(text("SELECT body_text FROM article WHERE slug = 'derived'"))
        indexed = session.scalar(
            text("SELECT body FROM search_document WHERE entity_type = 'article'")
        )
    assert stored == "Fresh words"
    assert "Fresh words" in indexed


def test_a_patch_keeps_the_links_it_does_not_name_to_deleted_items(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """A deleted item is hidden, not unlinked: restoring it (an import of its line) brings
    its links back. A PATCH of another field used to drop every link to a deleted item
    from the item patched (its parent, affiliations, tags, authors, participants, sponsors,
    speaker), silently: its audit entry named only the field sent, and the restore then
    found them gone. A merge patch changes the members it names, and no others."""
    gone = {
        "topics": {"name": "Gone topic", "slug": "gone-topic"},
        "organizations": {"name": "Gone org", "slug": "gone-org"},
        "people": {"name": "Gone person", "slug": "gone-person"},
    }
    for collection, body in gone.items():
        assert client.post(f"/api/v1/{collection}", json=body, headers=writer).status_code == 201
    linked: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        # path: (the item, linked to the three, and a patch of another field)
        "organizations/child": ({"name": "Child", "parent": "gone-org"}, {"name": "Edited"}),
        "people/kept": (
            {
                "name": "Kept",
                "affiliations": [{"organization": "gone-org", "role": "Fellow"}],
                "topics": ["gone-topic"],
            },
            {"title": "Edited"},
        ),
        "articles/story": ({"title": "Story", "authors": ["gone-person"]}, {"title": "Edited"}),
        "events/talk": (
            event_body(
                participants=[{"person": "gone-person", "role": "speaker"}],
                sponsors=["gone-org"],
                topics=["gone-topic"],
            ),
            {"title": "Edited"},
        ),
        "quotes/said": ({"text": "Said", "speaker": "gone-person"}, {"text": "Edited"}),
    }
    relations = ("parent", "affiliations", "topics", "authors", "participants", "sponsors")
    before: dict[str, dict[str, Any]] = {}
    for path, (item, _) in linked.items():
        collection, slug = path.split("/")
        created = client.post(f"/api/v1/{collection}", json={**item, "slug": slug}, headers=writer)
        assert created.status_code == 201, created.text
        before[path] = {k: v for k, v in created.json().items() if k in (*relations, "speaker")}
    for collection, body in gone.items():
        deleted = client.delete(f"/api/v1/{collection}/{body['slug']}", headers=writer)
        assert deleted.status_code == 204
    for path, (_, edit) in linked.items():
        assert client.patch(f"/api/v1/{path}", json=edit, headers=writer).status_code == 200

    singular = {"topics": "topic", "organizations": "organization", "people": "person"}
    with session_factory() as session:
        lines = [orjson.dumps({"type": singular[c], "data": body}) for c, body in gone.items()]
        import_records(session, lines)
        session.commit()
    for path, was in before.items():
        now = client.patch(f"/api/v1/{path}", json={}, headers=writer).json()
        assert {k: now[k] for k in was} == was, path


def test_a_patch_that_names_a_relation_drops_its_links_to_deleted_items(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """The other side of the test above: a relation the patch names is what the patch says,
    links to deleted items included. `{"speaker": null}` on a quote whose speaker was
    deleted (an editor sees none) was taken for a PATCH of equal values: nothing written,
    and restoring the person brought the speaker back; the same with another field in the
    patch did clear it. Now either clears it, and the audit entry names the relation."""
    gone: dict[str, dict[str, str]] = {
        "topics": {"name": "Gone topic", "slug": "gone-topic"},
        "organizations": {"name": "Gone org", "slug": "gone-org"},
        "people": {"name": "Gone person", "slug": "gone-person"},
        "people/kept": {"name": "Kept person", "slug": "kept-person"},
    }
    for path, made in gone.items():
        collection = path.split("/")[0]
        assert client.post(f"/api/v1/{collection}", json=made, headers=writer).status_code == 201
    # path: (the item, linked to deleted items, a patch naming those relations)
    linked: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "organizations/child": ({"name": "Child", "parent": "gone-org"}, {"parent": None}),
        "quotes/said": (
            {"text": "Said", "speaker": "gone-person", "topics": ["gone-topic"]},
            {"speaker": None, "topics": []},
        ),
        "articles/story": (
            {"title": "Story", "authors": ["gone-person", "kept-person"]},
            {"authors": ["kept-person"]},
        ),
        "events/talk": (
            event_body(
                participants=[{"person": "gone-person", "role": "speaker"}],
                sponsors=["gone-org"],
                topics=[],
            ),
            {"participants": [], "sponsors": []},
        ),
    }
    for path, (item, _) in linked.items():
        collection, slug = path.split("/")
        created = client.post(f"/api/v1/{collection}", json={**item, "slug": slug}, headers=writer)
        assert created.status_code == 201, created.text
    for path, made in list(gone.items())[:3]:
        deleted = client.delete(f"/api/v1/{path}/{made['slug']}", headers=writer)
        assert deleted.status_code == 204
    for path, (_, patch) in linked.items():
        patched = client.patch(f"/api/v1/{path}", json=patch, headers=writer)
        assert patched.status_code == 200, patched.text

    with session_factory() as session:
        entries = session.scalars(select(AuditEntry).where(col(AuditEntry.action) == "update"))
        audited = {(e.entity_type, e.slug): e.changes for e in entries}
    assert audited == {
        ("organization", "child"): {"fields": ["parent"]},
        ("quote", "said"): {"fields": ["speaker", "topics"]},
        ("article", "story"): {"fields": ["authors"]},
        ("event", "talk"): {"fields": ["participants", "sponsors"]},
    }
    singular = {"topics": "topic", "organizations": "organization", "people": "person"}
    with session_factory() as session:
        lines = [
            orjson.dumps({"type": singular[path], "data": made})
            for path, made in gone.items()
            if path in singular
        ]
        import_records(session, lines)
        session.commit()

    def slugs(value: Any) -> Any:
        if isinstance(value, list):
            return [slugs(v) for v in value]
        return value and (value.get("slug") or value["person"]["slug"])

    for path, (_, patch) in linked.items():
        now = client.patch(f"/api/v1/{path}", json={}, headers=writer).json()
        assert {name: slugs(now[name]) for name in patch} == patch, path


def test_a_null_cannot_clear_a_field_that_always_has_a_value(
    client: TestClient, writer: dict[str, str]
) -> None:
    """`null` clears a field, but `status`, the types, `timezone`, `event_status`,
    `position` and `is_confidential` always have a value: read as "cleared", each took its
    default, and `{"status": null}` unpublished a live article without a word (it left
    every public surface). Refused with a 422 naming the field, and nothing changes;
    fields that can be empty are still cleared."""
    live = {"title": "Live", "status": "published", "article_type": "analysis"}
    created = client.post("/api/v1/articles", json=live, headers=writer)
    assert created.status_code == 201, created.text
    online = event_body(participants=[], sponsors=[], topics=[], online_url="https://x.org/t")
    event = client.post("/api/v1/events", json=online, headers=writer)
    assert event.status_code == 201, event.text
    for url, field in [
        (created.headers["location"], "status"),
        (created.headers["location"], "article_type"),
        (event.headers["location"], "attendance_mode"),
        (event.headers["location"], "timezone"),
        # A required field's null said "Field required", of a field the patch gave; the
        # slug's changed nothing and answered 200.
        (created.headers["location"], "title"),
        (event.headers["location"], "starts_at"),
        (created.headers["location"], "slug"),
    ]:
        before = client.get(url, params={"preview": "true"}, headers=writer).json()
        refused = client.patch(url, json={field: None, "subtitle": "Changed"}, headers=writer)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["errors"] == [
            {
                "loc": ["body", field],
                "msg": "cannot be null: give a value, or leave the field out to keep it",
            }
        ]
        assert client.get(url, params={"preview": "true"}, headers=writer).json() == before
    assert client.get("/api/v1/articles/live").status_code == 200
    cleared = client.patch(created.headers["location"], json={"subtitle": None}, headers=writer)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["subtitle"] is None


def test_links_and_addresses_hold_no_markup_characters(
    client: TestClient, writer: dict[str, str]
) -> None:
    """A URL or an email address holds no space, `"`, `<`, `>` or backtick (RFC 3986 has
    them percent-encoded): `/img/x.jpg"><script>…` and `a@b.c"><script>` were stored, and
    a front end writing one into an attribute unescaped ran the script. Refused (422,
    naming the field); percent-encoded, the same link is taken."""
    hostile = [
        ("articles", {"title": "A", "hero_image": {"url": '/img/x.jpg"><script>a()</script>'}}),
        (
            "events",
            {"title": "E", "starts_at": "2026-01-01T00:00:00Z", "online_url": "https://x.org/<b>"},
        ),
        ("people", {"name": "P", "email": 'a@b.c"><script>a()</script>'}),
        ("publications", {"title": "Pub", "url": "https://x.org/a`b"}),
    ]
    for collection, body in hostile:
        response = client.post(f"/api/v1/{collection}", json=body, headers=writer)
        assert response.status_code == 422, (collection, response.text)
        assert response.json()["errors"][0]["loc"][:2] == [
            "body",
            next(iter(body.keys() - {"title", "name", "starts_at"})),
        ]
    fine = {"title": "A", "hero_image": {"url": "/img/x.jpg%22%3E"}}
    assert client.post("/api/v1/articles", json=fine, headers=writer).status_code == 201
