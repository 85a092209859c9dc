"""API keys on requests: 401 / 403 / 429, scopes, revocation, preview, throttling."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.db import session_scope
from app.http.auth import SCOPES, ApiKeyError, create_api_key, revoke_api_key
from app.http.throttle import MemoryThrottle, RedisThrottle, failure_bucket
from app.models import ApiKey
from tests.admin_helpers import ADMIN, PREVIEW, WRITE, bearer, make_key
from tests.conftest import AppFactory

REDIS_URL = "redis://127.0.0.1:6379/15"


def _status(client: TestClient, headers: dict[str, str], method: str = "POST") -> int:
    if method == "POST":
        return client.post(
            "/api/v1/topics", json={"name": f"T {uuid.uuid4().hex[:6]}"}, headers=headers
        ).status_code
    return client.get("/api/v1/audit", headers=headers).status_code


def test_missing_and_bad_keys_are_401(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    good = make_key(session_factory, "editor", WRITE)
    cases = {
        "missing": {},
        "unknown": bearer("dsk_00000000_" + "x" * 43),
        "garbage": bearer("hunter2"),
        "tampered": bearer(good[:-2] + ("aa" if not good.endswith("aa") else "bb")),
        "basic": {"Authorization": "Basic ZWRpdG9yOnNlY3JldA=="},
        "empty bearer": {"Authorization": "Bearer "},
    }
    for name, headers in cases.items():
        response = client.post("/api/v1/topics", json={"name": "X"}, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/topics").json()["meta"]["total"] == 0
    assert _status(client, bearer(good)) == 201


def test_scopes(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    writer = bearer(make_key(session_factory, "writer", WRITE))
    previewer = bearer(make_key(session_factory, "previewer", PREVIEW))
    admin = bearer(make_key(session_factory, "admin", ADMIN))
    assert _status(client, previewer) == 403
    assert _status(client, writer) == 201
    assert _status(client, admin) == 201  # admin implies content:write
    assert _status(client, writer, "GET") == 403  # the audit log needs admin
    assert _status(client, previewer, "GET") == 403
    assert _status(client, admin, "GET") == 200
    response = client.post("/api/v1/topics", json={"name": "Y"}, headers=previewer)
    assert "content:write" in response.json()["detail"]
    # Preview needs a content:preview key (or admin) and the explicit flag.
    assert client.get("/api/v1/topics?preview=true").status_code == 401
    assert client.get("/api/v1/topics?preview=true", headers=writer).status_code == 403
    assert client.get("/api/v1/topics?preview=true", headers=admin).status_code == 200
    assert client.get("/api/v1/topics?preview=true", headers=previewer).status_code == 200


def test_revoked_key_is_refused(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    key = bearer(make_key(session_factory, "temp", WRITE))
    assert _status(client, key) == 201
    with session_scope(session_factory) as session:
        revoke_api_key(session, "temp")
    assert _status(client, key) == 401


def test_keys_are_stored_hashed(session_factory: sessionmaker[Session], client: TestClient) -> None:
    secret = make_key(session_factory, "hashed", WRITE, PREVIEW)
    assert secret.startswith("dsk_")
    assert len(secret) > 40
    with session_factory() as session:
        row = session.scalars(select(ApiKey).where(col(ApiKey.name) == "hashed")).one()
        assert secret not in (row.secret_hash, row.prefix, row.scopes)
        assert row.secret_hash != secret
        assert len(row.secret_hash) == 64
        assert row.scopes == "content:write content:preview"
        assert row.last_used_at is None
    client.post("/api/v1/topics", json={"name": "Z"}, headers=bearer(secret))
    with session_factory() as session:
        assert (
            session.scalars(select(ApiKey).where(col(ApiKey.name) == "hashed")).one().last_used_at
            is not None
        )


def test_key_management_errors(session_factory: sessionmaker[Session]) -> None:
    make_key(session_factory, "once", WRITE)
    for name, scopes in (
        ("once", [WRITE]),
        ("new", ["root"]),
        ("new", []),
        ("", [WRITE]),
        ("x" * 101, [WRITE]),
    ):
        with pytest.raises(ApiKeyError), session_scope(session_factory) as session:
            create_api_key(session, name, scopes)
    with pytest.raises(ApiKeyError), session_scope(session_factory) as session:
        revoke_api_key(session, "never-created")
    assert set(SCOPES) == {"content:write", "content:preview", "admin"}


def test_failed_authentication_is_throttled(app_factory: AppFactory) -> None:
    app = app_factory(auth_failure_limit=3)
    good = bearer(make_key(app.state.session_factory, "good", WRITE))
    with TestClient(app) as client:
        assert _status(client, {}) == 401  # a missing key is no guess: never counted
        assert _status(client, {}) == 401
        for _ in range(3):
            assert _status(client, bearer("dsk_bad_guess")) == 401
        throttled = client.post(
            "/api/v1/topics", json={"name": "X"}, headers=bearer("dsk_bad_guess")
        )
        assert throttled.status_code == 429
        assert throttled.headers["content-type"] == "application/problem+json"
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        assert client.get("/api/v1/topics").status_code == 200  # public reads are unaffected
        # Guessing at the good key (its prefix, wrong secrets) throttles that key from
        # this client, even with the right secret: the guesser learns nothing more.
        wrong = good["Authorization"][:-4] + (
            "aaaa" if not good["Authorization"].endswith("aaaa") else "bbbb"
        )
        for _ in range(3):
            assert _status(client, {"Authorization": wrong}) == 401
        assert _status(client, {"Authorization": wrong}) == 429
        assert _status(client, good) == 429
        assert client.get("/api/v1/topics?preview=true", headers=good).status_code == 429


def test_other_keys_failures_never_lock_a_key_out(app_factory: AppFactory) -> None:
    """Behind a proxy that FORWARDED_ALLOW_IPS does not name, every editor has the proxy's
    address: ten bad keys a minute from anyone there (a stale key in a script, a guesser)
    locked every editor out. Failures count per address *and* presented key, so a good
    key is refused only for wrong secrets presented for it."""
    app = app_factory(auth_failure_limit=3)
    editors = [bearer(make_key(app.state.session_factory, f"e{i}", WRITE)) for i in range(2)]
    proxy = ("192.0.2.10", 40000)
    with TestClient(app, client=proxy) as client:
        failures = [
            bearer("dsk_00000000_" + "x" * 43),  # unknown keys, under many prefixes
            bearer("dsk_11111111_" + "x" * 43),
            bearer("hunter2"),  # garbage, another scheme: no key's bucket
            {"Authorization": "Basic ZWRpdG9yOnNlY3JldA=="},
            bearer("dsk_bad_guess"),
        ]
        for headers in failures * 4:  # 20 failures, more than six times the limit
            assert _status(client, headers) in (401, 429)
        assert _status(client, failures[0]) == 429  # each is throttled in its own bucket
        assert _status(client, failures[2]) == 429
        for editor in editors:
            assert _status(client, editor) == 201
        # Wrong secrets for the first editor's key throttle that key only.
        prefix = editors[0]["Authorization"].split("_")[1]
        for _ in range(4):
            assert _status(client, bearer(f"dsk_{prefix}_" + "y" * 43)) in (401, 429)
        assert _status(client, editors[0]) == 429
        assert _status(client, editors[1]) == 201
    with TestClient(app, client=("198.51.100.7", 40000)) as elsewhere:
        assert _status(elsewhere, editors[0]) == 201  # another address: its own buckets


def test_failure_buckets() -> None:
    assert failure_bucket("10.0.0.1", "1a2b3c4d") == "10.0.0.1 1a2b3c4d"
    for not_a_prefix in (None, "", "x" * 17, "a b", "ключ", "a-b"):
        assert failure_bucket("10.0.0.1", not_a_prefix) == "10.0.0.1 -"


def test_memory_throttle_window_slides() -> None:
    now = [1000.0]
    throttle = MemoryThrottle(limit=2, window=60, clock=lambda: now[0])
    throttle.record_failure("1.2.3.4")
    now[0] += 30
    throttle.record_failure("1.2.3.4")
    assert throttle.retry_after("1.2.3.4") == 30
    assert throttle.retry_after("5.6.7.8") is None
    now[0] += 30.5  # the first failure left the window
    assert throttle.retry_after("1.2.3.4") is None
    throttle.record_failure("1.2.3.4")
    assert throttle.retry_after("1.2.3.4") == 30


@pytest.fixture
def redis_client_id() -> Iterator[str]:
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable at " + REDIS_URL)
    client_id = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    key = RedisThrottle.KEY.format(client=failure_bucket(client_id, "a"))
    connection.delete(key)
    yield client_id
    connection.delete(key)


def test_redis_throttle_is_shared_by_workers(app_factory: AppFactory, redis_client_id: str) -> None:
    import redis

    first = app_factory(auth_failure_limit=2, redis_url=REDIS_URL)
    second = app_factory(auth_failure_limit=2, redis_url=REDIS_URL)
    address = (redis_client_id, 50000)  # a client of its own: parallel test runs share Redis
    with TestClient(first, client=address) as one, TestClient(second, client=address) as two:
        assert _status(one, bearer("dsk_a_b")) == 401
        assert _status(two, bearer("dsk_a_b")) == 401
        response = one.post("/api/v1/topics", json={"name": "X"}, headers=bearer("dsk_a_b"))
        assert response.status_code == 429
        assert _status(two, bearer("dsk_a_b")) == 429
    key = RedisThrottle.KEY.format(client=failure_bucket(redis_client_id, "a"))
    ttl = redis.Redis.from_url(REDIS_URL).ttl(key)
    assert 0 < ttl <= 60
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_redis_down_falls_back_to_memory(app_factory: AppFactory) -> None:
    app = app_factory(auth_failure_limit=1, redis_url="redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        assert _status(client, bearer("dsk_a_b")) == 401
        assert _status(client, bearer("dsk_a_b")) == 429


def test_www_authenticate_says_what_rfc_6750_says(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A key without the scope is RFC 6750's `insufficient_scope`, naming the scope (the
    403 said nothing in `WWW-Authenticate`, so a client library could not tell it from a
    refusal it cannot fix); another scheme than Bearer is no token at all, so the challenge
    carries no error code (it said `invalid_token`, as if a Bearer token was wrong)."""
    previewer = bearer(make_key(session_factory, "previewer", PREVIEW))
    writer = bearer(make_key(session_factory, "writer", WRITE))
    refused = [
        (client.post("/api/v1/topics", json={"name": "T"}, headers=previewer), "content:write"),
        (client.get("/api/v1/audit", headers=writer), "admin"),
        (client.get("/api/v1/topics?preview=true", headers=writer), "content:preview"),
    ]
    for response, scope in refused:
        assert response.status_code == 403
        assert response.headers["WWW-Authenticate"] == (
            f'Bearer error="insufficient_scope", scope="{scope}"'
        )
    basic = {"Authorization": "Basic ZWRpdG9yOnNlY3JldA=="}
    response = client.post("/api/v1/topics", json={"name": "T"}, headers=basic)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")
    unknown = bearer("dsk_00000000_" + "x" * 43)
    response = client.post("/api/v1/topics", json={"name": "T"}, headers=unknown)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
