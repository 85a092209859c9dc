"""The organization hierarchy: no organization is ever its own ancestor.

A deleted organization is out of the hierarchy: it cannot be chosen as a parent, its
children show no parent, and the cycle check does not walk through it (a cycle only a
restore could close is no reason to refuse a write). Restoring it (an import of its
line) brings its links back, so the restore is what is checked: it is refused when it
would close a cycle, and nothing changes.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Organization
from app.transfer import ImportFailed, import_records
from tests.admin_helpers import problem

ORGS = "/api/v1/organizations"


def _post(client: TestClient, writer: dict[str, str], slug: str, parent: str | None = None) -> None:
    body = {"slug": slug, "name": slug.upper(), **({"parent": parent} if parent else {})}
    response = client.post(ORGS, json=body, headers=writer)
    assert response.status_code == 201, response.text


def _parent(client: TestClient, slug: str) -> str | None:
    response = client.get(f"{ORGS}/{slug}")
    assert response.status_code == 200, response.text
    parent = response.json()["parent"]
    return None if parent is None else str(parent["slug"])


def _hidden_loop(client: TestClient, writer: dict[str, str]) -> None:
    """a; d under a; p under d; then d deleted: p shows no parent, yet still points at d."""
    _post(client, writer, "a")
    _post(client, writer, "d", parent="a")
    _post(client, writer, "p", parent="d")
    assert client.delete(f"{ORGS}/d", headers=writer).status_code == 204
    assert _parent(client, "p") is None


def _import(session_factory: sessionmaker[Session], *records: dict[str, object]) -> None:
    lines = [orjson.dumps({"type": "organization", "data": r}) for r in records]
    with session_factory() as session:
        try:
            import_records(session, lines)
        except ImportFailed:
            session.rollback()
            raise
        session.commit()


def _stored(session_factory: sessionmaker[Session]) -> dict[str, tuple[str | None, bool]]:
    """slug -> (stored parent's slug, deleted) for every organization."""
    with session_factory() as session:
        rows = session.scalars(select(Organization)).all()
        slugs = {row.id: row.slug for row in rows}
        return {
            row.slug: (
                slugs.get(row.parent_id) if row.parent_id else None,
                row.deleted_at is not None,
            )
            for row in rows
        }


def test_a_write_refuses_a_cycle_and_names_it(client: TestClient, writer: dict[str, str]) -> None:
    _post(client, writer, "a")
    _post(client, writer, "b", parent="a")
    _post(client, writer, "c", parent="b")
    for slug, parent, path in (("a", "c", "a → c → b → a"), ("a", "a", "a → a")):
        body = problem(client.patch(f"{ORGS}/{slug}", json={"parent": parent}, headers=writer), 422)
        (error,) = body["errors"]
        assert error["loc"] == ["body", "parent"]
        assert "own ancestor" in error["msg"]
        assert path in error["msg"]
    assert _parent(client, "a") is None


def test_a_deleted_organization_cannot_be_a_parent(
    client: TestClient, writer: dict[str, str]
) -> None:
    _post(client, writer, "a")
    _post(client, writer, "gone")
    assert client.delete(f"{ORGS}/gone", headers=writer).status_code == 204
    body = problem(client.patch(f"{ORGS}/a", json={"parent": "gone"}, headers=writer), 422)
    deleted = "organization 'gone' is deleted (an admin's `dossier import` of its slug restores it)"
    assert body["errors"] == [{"loc": ["body", "parent"], "msg": deleted}]
    body = problem(client.post(ORGS, json={"name": "New", "parent": "gone"}, headers=writer), 422)
    assert body["errors"][0]["loc"] == ["body", "parent"]


def test_the_cycle_check_does_not_walk_through_a_deleted_organization(
    client: TestClient, writer: dict[str, str]
) -> None:
    """p shows no parent: putting a under p makes no cycle anyone can see, so it is allowed
    (it used to be refused through d, deleted, which no editor could then change)."""
    _hidden_loop(client, writer)
    response = client.patch(f"{ORGS}/a", json={"parent": "p"}, headers=writer)
    assert response.status_code == 200, response.text
    assert _parent(client, "a") == "p"


def test_a_restore_that_would_close_a_cycle_is_refused(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """d's own line (parent a), imported as it was exported: restoring d would bring back
    a → p → d → a. Refused, whether the line changes d or not, and nothing changes."""
    _hidden_loop(client, writer)
    assert client.patch(f"{ORGS}/a", json={"parent": "p"}, headers=writer).status_code == 200
    before = _stored(session_factory)
    for line in (
        {"slug": "d", "name": "D", "parent": "a"},
        {"slug": "d", "name": "Renamed", "parent": "a"},
    ):
        with pytest.raises(ImportFailed) as failed:
            _import(session_factory, line)
        (message,) = failed.value.errors
        assert "line 1: organization 'd'" in message
        assert "own ancestor" in message
        assert "d → a → p → d" in message
        assert _stored(session_factory) == before
    assert before["d"] == ("a", True)


def test_a_restore_without_the_cycle_goes_through(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """Restored under nobody, d is p's parent again and a stays under p: no cycle."""
    _hidden_loop(client, writer)
    assert client.patch(f"{ORGS}/a", json={"parent": "p"}, headers=writer).status_code == 200
    _import(session_factory, {"slug": "d", "name": "D"})
    stored = _stored(session_factory)
    assert (stored["d"], stored["p"], stored["a"]) == ((None, False), ("d", False), ("p", False))


def test_a_plain_restore_still_works(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    _hidden_loop(client, writer)
    _import(session_factory, {"slug": "d", "name": "D", "parent": "a"})
    stored = _stored(session_factory)
    assert (stored["d"], stored["p"]) == (("a", False), ("d", False))


def test_an_import_file_with_a_cycle_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Parents that are forward references are written in a second pass: checked there too."""
    with pytest.raises(ImportFailed) as failed:
        _import(
            session_factory,
            {"slug": "x", "name": "X", "parent": "y"},
            {"slug": "y", "name": "Y", "parent": "x"},
        )
    assert "own ancestor" in failed.value.errors[0]
    assert _stored(session_factory) == {}


def test_restoring_two_organizations_that_close_a_cycle_together_is_refused(
    client: TestClient, writer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """x; d1 under x; d2 under d1; p under d2; d1 and d2 deleted; x put under p. Restoring
    d1 alone is fine; restoring d2 as well closes x → p → d2 → d1 → x."""
    _post(client, writer, "x")
    _post(client, writer, "d1", parent="x")
    _post(client, writer, "d2", parent="d1")
    _post(client, writer, "p", parent="d2")
    for slug in ("d2", "d1"):
        assert client.delete(f"{ORGS}/{slug}", headers=writer).status_code == 204
    assert client.patch(f"{ORGS}/x", json={"parent": "p"}, headers=writer).status_code == 200
    before = _stored(session_factory)
    with pytest.raises(ImportFailed) as failed:
        _import(
            session_factory,
            {"slug": "d1", "name": "D1", "parent": "x"},
            {"slug": "d2", "name": "D2", "parent": "d1"},
        )
    assert "line 2: organization 'd2'" in failed.value.errors[0]
    assert "d2 → d1 → x → p → d2" in failed.value.errors[0]
    assert _stored(session_factory) == before
    _import(session_factory, {"slug": "d1", "name": "D1", "parent": "x"})
    assert _stored(session_factory)["d1"] == ("x", False)
