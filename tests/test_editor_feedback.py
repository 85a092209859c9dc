"""What a refused write tells an editor who has only the docs: which field (`loc`), and
in words what to fix (`msg`, `detail`), not a regular expression or a validator's class."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry
from tests.admin_helpers import Keys
from tests.admin_helpers import problem as _problem


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory, seed=True)


def _audited(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


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
    assert _audited(session_factory) == before
    assert client.get("/api/v1/topics/hostages").json()["name"] == "Hostages"
    assert client.get("/api/v1/topics/ransom").status_code == 404
