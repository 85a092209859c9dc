"""The audit log: who wrote what and when, readable with an admin key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.admin_helpers import Keys, bearer, make_key, problem


def test_every_write_is_audited(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    keys = Keys(session_factory)
    other = bearer(make_key(session_factory, "second-editor", "content:write"))
    client.post("/api/v1/topics", json={"name": "Kidnapping"}, headers=keys.writer)
    client.post(
        "/api/v1/people", json={"name": "Abbas Milani", "topics": ["kidnapping"]}, headers=other
    )
    client.patch(
        "/api/v1/people/abbas-milani", json={"title": "Research Fellow"}, headers=keys.writer
    )
    client.post(
        "/api/v1/people", json={"name": "Nobody", "topics": ["missing"]}, headers=keys.writer
    )  # 422
    client.delete("/api/v1/topics/kidnapping", headers=keys.admin)

    response = client.get("/api/v1/audit", headers=keys.admin)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.json()
    entries = page["data"]
    assert [(e["actor"], e["action"], e["type"], e["slug"]) for e in entries] == [
        ("root", "delete", "topic", "kidnapping"),
        ("newsroom", "update", "person", "abbas-milani"),
        ("second-editor", "create", "person", "abbas-milani"),
        ("newsroom", "create", "topic", "kidnapping"),
    ]
    assert page["meta"] == {"next_cursor": None, "total": 4}
    assert entries[1]["changes"] == {"fields": ["title"]}
    assert entries[2]["changes"]["document"]["topics"] == ["kidnapping"]
    assert entries[2]["entity_id"].startswith("per_")
    assert all(e["at"].endswith("+00:00") for e in entries)
    assert entries[0]["at"] >= entries[-1]["at"]


def test_filters_and_pagination(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    keys = Keys(session_factory)
    for name in ("One", "Two", "Three"):
        client.post("/api/v1/topics", json={"name": name}, headers=keys.writer)
    client.post("/api/v1/resources", json={"name": "CAPS"}, headers=keys.admin)

    topics = client.get("/api/v1/audit?type=topic", headers=keys.admin).json()
    assert [e["slug"] for e in topics["data"]] == ["three", "two", "one"]
    by_actor = client.get("/api/v1/audit?actor=root", headers=keys.admin).json()
    assert [e["slug"] for e in by_actor["data"]] == ["caps"]
    # An empty filter is no filter, as on the public lists (`?topic=`): it matched no entry.
    everything = client.get("/api/v1/audit?actor=&type=", headers=keys.admin)
    assert everything.status_code == 200, everything.text
    assert [e["slug"] for e in everything.json()["data"]] == ["caps", "three", "two", "one"]

    first = client.get("/api/v1/audit?type=topic&limit=2", headers=keys.admin)
    body = first.json()
    assert [e["slug"] for e in body["data"]] == ["three", "two"]
    assert body["meta"]["total"] == 3
    assert first.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'
    second = client.get(body["links"]["next"], headers=keys.admin).json()
    assert [e["slug"] for e in second["data"]] == ["one"]
    assert second["links"]["next"] is None
    # A cursor belongs to its filters.
    foreign = client.get(
        f"/api/v1/audit?type=resource&cursor={body['meta']['next_cursor']}", headers=keys.admin
    )
    assert foreign.status_code == 400


def test_audit_errors(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    keys = Keys(session_factory)
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit", headers=keys.writer).status_code == 403
    for query in ("limit=0", "limit=101", "limit=x", "cursor=garbage", "type=widget"):
        response = client.get(f"/api/v1/audit?{query}", headers=keys.admin)
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
    # The key is checked before the query string: without one, the answer is 401.
    for query in ("acter=root", "limit=1&limit=2", "limit=x"):
        assert client.get(f"/api/v1/audit?{query}").status_code == 401, query
        assert client.get(f"/api/v1/audit?{query}", headers=keys.writer).status_code == 403


def test_audit_refuses_unknown_and_repeated_parameters(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Like every REST read: a misspelt filter is a 400, not every entry unfiltered, and a
    repeated one is not silently read as its last value."""
    keys = Keys(session_factory)
    client.post("/api/v1/topics", json={"name": "One"}, headers=keys.writer)
    for query, named in (
        ("acter=root", "acter"),
        ("actor=root&actor=newsroom", "actor"),
        ("limit=1&limit=2", "limit"),
    ):
        body = problem(client.get(f"/api/v1/audit?{query}", headers=keys.admin), 400)
        assert f"'{named}'" in body["detail"], query
        assert body["errors"][0]["loc"] == ["query", named], query
    body = problem(client.get("/api/v1/audit?type=widget", headers=keys.admin), 400)
    assert body["detail"].startswith("Invalid 'type': unknown type 'widget'")
