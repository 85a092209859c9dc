"""What a refused write tells an editor who has only the docs: which field (`loc`), and
in words what to fix (`msg`, `detail`), not a regular expression or a validator's class."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry
from tests.admin_helpers import Keys, event_body
from tests.admin_helpers import problem as _problem


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _audited(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _errors(response: Any) -> list[tuple[list[str], str]]:
    return [(e["loc"], e["msg"]) for e in _problem(response, 422)["errors"]]


def test_a_write_takes_no_query_parameters(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """`?dry_run=true` on a POST wrote the item (as `?colour=red` on a PATCH or DELETE
    did): writes ignored their query string, where the docs (and every read) answer 400."""
    created = client.post("/api/v1/topics", json={"name": "Hostages"}, headers=keys.writer)
    assert created.status_code == 201, created.text
    before = _audited(session_factory)
    writes = [
        ("POST", "/api/v1/topics?dry_run=true", {"name": "Ransom"}),
        ("PATCH", "/api/v1/topics/hostages?colour=red", {"name": "Hostage-taking"}),
        ("PATCH", "/api/v1/topics/hostages?preview=true", {"name": "Hostage-taking"}),
        ("DELETE", "/api/v1/topics/hostages?force=1", None),
    ]
    for method, url, body in writes:
        response = client.request(method, url, json=body, headers=keys.writer)
        problem = _problem(response, 400)
        name = url.partition("?")[2].partition("=")[0]
        assert problem["detail"] == (
            f"Unknown query parameter(s) '{name}'; this endpoint takes no query parameters."
        ), url
        assert problem["errors"] == [{"loc": ["query", name], "msg": "unknown parameter"}]
        # Without a key (or with one that may not write), that is what is said first.
        anonymous = client.request(method, url, json=body)
        assert _problem(anonymous, 401)["status"] == 401, url
        reader = client.request(method, url, json=body, headers=keys.previewer)
        assert _problem(reader, 403)["status"] == 403, url
    assert _audited(session_factory) == before
    assert client.get("/api/v1/topics/hostages").json()["name"] == "Hostages"
    assert client.get("/api/v1/topics/ransom").status_code == 404


@pytest.mark.parametrize(
    ("collection", "body", "loc", "msg"),
    [
        (
            "topics",
            {"name": "Kidnapping in Mexico", "slug": "Kidnapping_Mexico"},
            ["body", "slug"],
            "must be lowercase ASCII letters and digits, in words joined by single hyphens, "
            "e.g. 'abbas-milani'",
        ),
        (
            "people",
            {"name": "Ada Pinto", "email": "ada at example.org"},
            ["body", "email"],
            "is not an email address (name@example.org; no spaces, quotes, '<', '>' or '`')",
        ),
        (
            "people",
            {"name": "Ada Pinto", "photo": {"url": "photos/ada.jpg"}},
            ["body", "photo", "url"],
            "must be an http:// or https:// address with a host, a path on the public site "
            "starting with '/', or a mailto: address, without spaces, quotes, '<', '>' or '`' "
            "(percent-encode them)",
        ),
        (
            "publications",
            {"title": "Living in Fear", "doi": "https://doi.org/10.1000/182"},
            ["body", "doi"],
            "must be a DOI such as 10.1000/182 (without https://doi.org/)",
        ),
        (
            "events",
            event_body(ends_at="2023-10-12T11:00:00-07:00"),
            ["body", "ends_at"],
            "is before starts_at",
        ),
        (
            "events",
            event_body(timezone="Pacific Time"),
            ["body", "timezone"],
            "'Pacific Time' is not an IANA time zone",
        ),
        (
            "events",
            event_body(venue={"name": "Encina Hall", "room": "128A"}),
            ["body", "venue", "room"],
            "is not a field here",
        ),
    ],
)
def test_a_refused_value_is_told_in_words(
    client: TestClient,
    keys: Keys,
    collection: str,
    body: dict[str, Any],
    loc: list[str],
    msg: str,
) -> None:
    """A pattern's refusal quoted its regular expression (`String should match pattern
    '^[a-z0-9]+(-[a-z0-9]+)*$'`), and a rule's was prefixed "Value error, "."""
    response = client.post(f"/api/v1/{collection}", json=body, headers=keys.writer)
    assert _errors(response) == [(loc, msg)]


def test_a_misspelt_field_is_answered_with_the_fields_there_are(
    client: TestClient, keys: Keys
) -> None:
    body = event_body()
    body["start_at"] = body.pop("starts_at")
    errors = dict(
        (tuple(loc), msg)
        for loc, msg in _errors(client.post("/api/v1/events", json=body, headers=keys.writer))
    )
    assert errors[("body", "starts_at")] == "Field required"
    assert errors[("body", "start_at")].startswith("is not a field of an event: it has slug, ")
    assert " starts_at, " in errors[("body", "start_at")]
    # What only the server writes is not a field of the write either.
    patched = client.patch("/api/v1/people/abbas-milani", json={"id": "per_9"}, headers=keys.writer)
    assert _errors(patched)[0][1].startswith("is not a field of a person: it has slug, topics, ")


def test_a_reference_to_a_deleted_item_says_it_is_deleted(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    """An editor told "unknown person 'larry-diamond'" looks for a typo in a slug that was
    right: the person was deleted."""
    larry = client.get("/api/v1/people/larry-diamond").json()["id"]
    assert client.delete("/api/v1/people/larry-diamond", headers=keys.writer).status_code == 204
    before = _audited(session_factory)
    participants = [
        {"person": "larry-diamond", "role": "moderator"},
        {"person": larry, "role": "host"},
        {"person": "larry-diamant", "role": "speaker"},
        {"person": "abbas-milani", "role": "speaker"},
    ]
    response = client.post(
        "/api/v1/events", json=event_body(participants=participants), headers=keys.writer
    )
    deleted = "is deleted (an admin's `dossier import` of its slug restores it)"
    assert _errors(response) == [
        (["body", "participants", "0", "person"], f"person 'larry-diamond' {deleted}"),
        (["body", "participants", "1", "person"], f"person '{larry}' {deleted}"),
        (["body", "participants", "2", "person"], "unknown person 'larry-diamant'"),
    ]
    quote = client.post(
        "/api/v1/quotes", json={"text": "Words.", "speaker": "larry-diamond"}, headers=keys.writer
    )
    assert _errors(quote) == [(["body", "speaker"], f"person 'larry-diamond' {deleted}")]
    assert _audited(session_factory) == before


def test_a_taken_slug_names_its_holder(client: TestClient, keys: Keys) -> None:
    """The 409 said "taken by another person (perhaps a deleted one…)" whether or not the
    holder was deleted: it says which item holds the slug, and whether it is deleted."""
    larry = client.get("/api/v1/people/larry-diamond").json()["id"]
    taken = client.post(
        "/api/v1/people", json={"name": "L. Diamond", "slug": "larry-diamond"}, headers=keys.writer
    )
    assert _problem(taken, 409)["detail"] == (
        f"The slug 'larry-diamond' is taken by another person ({larry}): choose another (a "
        "create that leaves `slug` out is given a free one)."
    )
    assert client.delete("/api/v1/people/larry-diamond", headers=keys.writer).status_code == 204
    renamed = client.patch(
        "/api/v1/people/abbas-milani", json={"slug": "larry-diamond"}, headers=keys.writer
    )
    assert _problem(renamed, 409)["detail"] == (
        f"The slug 'larry-diamond' belonged to a person that was deleted ({larry}); a deleted "
        "item's slug is never reused, so that links to it never point at a new one: choose "
        "another."
    )
    assert client.get("/api/v1/people/abbas-milani").status_code == 200
