"""Every refusal of a write: 400, 404, 409, 412, 413, 415, 422 — and that it changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry, Event, SearchDocument
from tests.admin_helpers import Keys, event_body, make_key
from tests.admin_helpers import problem as _problem
from tests.conftest import AppFactory


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _counts(session_factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Event)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            session.scalar(select(func.count()).select_from(SearchDocument)) or 0,
        )


BAD_BODIES = [
    (b'{"title": "x",', "not valid JSON"),
    (b"{'title': 'x'}", "not valid JSON"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b"\xff\xfe", "not valid JSON"),
    (b"NaN", "not valid JSON"),
]


def test_400_body_not_json(client: TestClient, keys: Keys) -> None:
    headers = {**keys.writer, "Content-Type": "application/json"}
    for body, detail in BAD_BODIES:
        problem = _problem(client.post("/api/v1/events", content=body, headers=headers), 400)
        assert detail in str(problem["detail"]), body
        _problem(client.patch("/api/v1/people/larry-diamond", content=body, headers=headers), 400)


WRONG_TYPES = [
    ("POST", "text/plain"),
    ("POST", None),
    ("POST", "application/x-www-form-urlencoded"),
    ("POST", "application/merge-patch+json"),
    ("POST", "application/json; charset=latin-1"),
    ("PATCH", "text/json"),
    ("PATCH", "multipart/form-data; boundary=x"),
    ("PATCH", "application/json-patch+json"),
]


def test_415_wrong_content_type(client: TestClient, keys: Keys) -> None:
    for method, content_type in WRONG_TYPES:
        headers = dict(keys.writer)
        if content_type:
            headers["Content-Type"] = content_type
        url = "/api/v1/people" if method == "POST" else "/api/v1/people/larry-diamond"
        _problem(client.request(method, url, content=b'{"name": "X"}', headers=headers), 415)
    assert client.get("/api/v1/people").json()["meta"]["total"] == 2


def test_415_a_compressed_body(client: TestClient, keys: Keys) -> None:
    """A gzipped body was read as JSON (400, "not valid JSON"), and a plain one labelled
    gzip was taken (201): neither is what the client said it sent."""
    import gzip

    for body, coding in (
        (gzip.compress(b'{"name": "X"}'), "gzip"),
        (b'{"name": "X"}', "gzip"),
        (b'{"name": "X"}', "br"),
    ):
        headers = {**keys.writer, "Content-Type": "application/json", "Content-Encoding": coding}
        response = client.post("/api/v1/people", content=body, headers=headers)
        problem = _problem(response, 415)
        assert "Send the body uncompressed" in problem["detail"]
        assert response.headers["accept-encoding"] == "identity"
    assert client.get("/api/v1/people").json()["meta"]["total"] == 2
    headers = {**keys.writer, "Content-Type": "application/json", "Content-Encoding": "identity"}
    created = client.post("/api/v1/people", content=b'{"name": "X"}', headers=headers)
    assert created.status_code == 201, created.text


def test_json_content_types_accepted(client: TestClient, keys: Keys) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        headers = {**keys.writer, "Content-Type": content_type}
        assert (
            client.patch(
                "/api/v1/people/larry-diamond", content=b'{"title": "Fellow"}', headers=headers
            ).status_code
            == 200
        )
    headers = {**keys.writer, "Content-Type": "application/merge-patch+json"}
    assert (
        client.patch(
            "/api/v1/people/larry-diamond", content=b'{"title": null}', headers=headers
        ).status_code
        == 200
    )


@pytest.fixture
def small_client(app_factory: AppFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = app_factory(max_body_bytes=300)
    key = make_key(app.state.session_factory, "small", "content:write")
    with TestClient(app) as test_client:
        yield test_client, {"Authorization": f"Bearer {key}"}


def test_413_declared_too_large(small_client: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = small_client
    body = b'{"name": "' + b"x" * 400 + b'"}'
    problem = _problem(
        client.post(
            "/api/v1/topics", content=body, headers={**auth, "Content-Type": "application/json"}
        ),
        413,
    )
    assert "300" in str(problem["detail"])
    ok = client.post("/api/v1/topics", json={"name": "Small enough"}, headers=auth)
    assert ok.status_code == 201


def test_413_streamed_without_length(small_client: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = small_client

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"y" * 50
        yield b'"}'

    response = client.post(
        "/api/v1/topics", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    _problem(response, 413)
    assert client.get("/api/v1/topics").json()["meta"]["total"] == 0


def test_422_per_field_errors(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    before = _counts(session_factory)
    body = event_body(event_type="party", attendance_mode="remote", bogus=1)
    del body["starts_at"]
    problem = _problem(client.post("/api/v1/events", json=body, headers=keys.writer), 422)
    locs = {tuple(e["loc"]) for e in problem["errors"]}
    assert {
        ("body", "starts_at"),
        ("body", "event_type"),
        ("body", "attendance_mode"),
        ("body", "bogus"),
    } <= locs
    assert all(e["msg"] for e in problem["errors"])
    assert _counts(session_factory) == before


INVALID_EVENTS: list[tuple[object, list[str], str]] = [
    ([1, 2], ["body"], "must be a JSON object"),
    ("a string", ["body"], "must be a JSON object"),
    (
        {"title": "x", "starts_at": "2024-01-01T00:00:00Z", "ends_at": "2023-01-01T00:00:00Z"},
        ["body", "ends_at"],
        "before starts_at",
    ),
    (
        {"title": "x", "starts_at": "2024-01-01T00:00:00Z", "timezone": "Mars/Olympus"},
        ["body", "timezone"],
        "IANA",
    ),
    ({"title": "", "starts_at": "2024-01-01T00:00:00Z"}, ["body", "title"], ""),
    ({"title": "x", "starts_at": "yesterday"}, ["body", "starts_at"], ""),
    (
        {"title": "x", "starts_at": "2024-01-01T00:00:00Z", "slug": "Not A Slug"},
        ["body", "slug"],
        "",
    ),
    (
        {"title": "x", "starts_at": "2024-01-01T00:00:00Z", "online_url": "javascript:alert(1)"},
        ["body", "online_url"],
        "",
    ),
    (
        {
            "title": "x",
            "starts_at": "2024-01-01T00:00:00Z",
            "participants": [{"person": "abbas-milani"}],
        },
        ["body", "participants", "0", "role"],
        "",
    ),
    ({"title": "x" * 501, "starts_at": "2024-01-01T00:00:00Z"}, ["body", "title"], ""),
    (
        {"title": "a\x00b", "starts_at": "2024-01-01T00:00:00Z"},
        ["body", "title"],
        "NUL",
    ),  # same on both DBs
]


def test_422_invalid_values(client: TestClient, keys: Keys) -> None:
    for body, loc, msg in INVALID_EVENTS:
        problem = _problem(client.post("/api/v1/events", json=body, headers=keys.writer), 422)
        assert any(e["loc"] == loc and msg in e["msg"] for e in problem["errors"]), (
            body,
            problem["errors"],
        )
    patch = client.patch(
        "/api/v1/people/larry-diamond", json={"name": None}, headers=keys.writer
    )  # required
    assert _problem(patch, 422)["errors"][0]["loc"] == ["body", "name"]


def test_422_unknown_reference_is_named(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    before = _counts(session_factory)
    body = event_body(
        participants=[
            {"person": "abbas-milani", "role": "speaker"},
            {"person": "nobody-at-all", "role": "host"},
        ],
        sponsors=["ghost-institute"],
        topics=["kidnapping", "per_1"],
    )
    problem = _problem(client.post("/api/v1/events", json=body, headers=keys.writer), 422)
    by_loc = {tuple(e["loc"]): e["msg"] for e in problem["errors"]}
    assert "nobody-at-all" in by_loc[("body", "participants", "1", "person")]
    assert "ghost-institute" in by_loc[("body", "sponsors", "0")]
    assert "per_1" in by_loc[("body", "topics", "1")]  # a person's id is not a topic
    assert _counts(session_factory) == before  # nothing was written, not even in part


def test_failed_patch_changes_nothing(client: TestClient, keys: Keys) -> None:
    created = client.post("/api/v1/events", json=event_body(), headers=keys.writer)
    url, etag = f"/api/v1/events/{created.json()['slug']}", created.headers["ETag"]
    patch = {"title": "Renamed", "participants": [{"person": "nobody", "role": "speaker"}]}
    _problem(client.patch(url, json=patch, headers=keys.writer), 422)
    after = client.get(url + "?preview=true", headers=keys.previewer)
    assert after.json()["title"] == "The Hamas Attack on Israel"
    assert after.headers["ETag"] == etag


def test_409_duplicate_slug(client: TestClient, keys: Keys) -> None:
    problem = _problem(
        client.post(
            "/api/v1/people", json={"name": "Someone", "slug": "larry-diamond"}, headers=keys.writer
        ),
        409,
    )
    assert "larry-diamond" in str(problem["detail"])
    _problem(
        client.patch(
            "/api/v1/people/abbas-milani", json={"slug": "larry-diamond"}, headers=keys.writer
        ),
        409,
    )
    assert client.get("/api/v1/people/abbas-milani").status_code == 200
    # Same slug in another collection is fine: slugs are unique per type.
    assert (
        client.post(
            "/api/v1/topics", json={"name": "Larry", "slug": "larry-diamond"}, headers=keys.writer
        ).status_code
        == 201
    )


def test_404_unknown_item(client: TestClient, keys: Keys) -> None:
    for method in ("PATCH", "DELETE"):
        for ref in ("no-such-person", "per_999999", "evt_1"):
            kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
            _problem(
                client.request(method, f"/api/v1/people/{ref}", headers=keys.writer, **kwargs), 404
            )


def test_412_if_match(
    client: TestClient, keys: Keys, session_factory: sessionmaker[Session]
) -> None:
    created = client.post("/api/v1/events", json=event_body(), headers=keys.writer)
    url, etag = f"/api/v1/events/{created.json()['slug']}", created.headers["ETag"]
    first = client.patch(url, json={"subtitle": "One"}, headers={**keys.writer, "If-Match": etag})
    assert first.status_code == 200
    audit_before = _counts(session_factory)[1]
    stale = client.patch(url, json={"subtitle": "Two"}, headers={**keys.writer, "If-Match": etag})
    _problem(stale, 412)
    _problem(client.delete(url, headers={**keys.writer, "If-Match": etag}), 412)
    _problem(
        client.patch(
            url, json={"subtitle": "Two"}, headers={**keys.writer, "If-Match": '"nonsense"'}
        ),
        412,
    )
    current = client.get(url + "?preview=true", headers=keys.previewer)
    assert current.json()["subtitle"] == "One"
    assert current.headers["ETag"] == first.headers["ETag"]
    assert _counts(session_factory)[1] == audit_before
    # The current ETag — the editor's or the public one — and `*` are accepted.
    public = client.get(url)
    ok = client.patch(
        url, json={"subtitle": "Two"}, headers={**keys.writer, "If-Match": public.headers["ETag"]}
    )
    assert ok.status_code == 200
    listed = f'"other", {ok.headers["ETag"]}'
    assert (
        client.patch(
            url, json={"subtitle": "3"}, headers={**keys.writer, "If-Match": listed}
        ).status_code
        == 200
    )
    assert (
        client.patch(
            url, json={"subtitle": "4"}, headers={**keys.writer, "If-Match": "*"}
        ).status_code
        == 200
    )
    latest = client.get(url + "?preview=true", headers=keys.previewer).headers["ETag"]
    assert client.delete(url, headers={**keys.writer, "If-Match": latest}).status_code == 204
