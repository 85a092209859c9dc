"""An affiliation that has ended, with or without its end year (`is_current`)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.transfer import export_lines
from tests.admin_helpers import Keys


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> Keys:
    return Keys(factory, seed=True)


def _person(api: TestClient, keys: Keys, *affiliations: dict[str, Any]) -> Any:
    body = {"name": "Sheryl Sandberg", "affiliations": list(affiliations)}
    return api.post("/api/v1/people", json=body, headers=keys.writer)


def test_a_role_can_end_in_a_year_unknown(api: TestClient, keys: Keys) -> None:
    org = "hoover-institution"
    created = _person(
        api,
        keys,
        {"organization": org, "role": "Founder"},
        {"organization": org, "role": "Fellow", "start_year": 2008, "end_year": 2009},
        {"organization": org, "role": "Chief Operating Officer", "is_current": False},
        {"organization": org, "role": "Adviser", "start_year": 2001, "is_current": True},
        # The same role held before and held again: two spells.
        {"organization": org, "role": "Director", "is_current": False},
        {"organization": org, "role": "Director"},
    )
    assert created.status_code == 201, created.text
    read = api.get("/api/v1/people/sheryl-sandberg").json()["affiliations"]
    assert [(a["role"], a["end_year"], a["is_current"]) for a in read] == [
        ("Founder", None, True),
        ("Fellow", 2009, False),
        ("Chief Operating Officer", None, False),
        ("Adviser", None, True),
        ("Director", None, False),
        ("Director", None, True),
    ]
    query = '{ person(slug: "sheryl-sandberg") { affiliations { role endYear isCurrent } } }'
    data = api.post("/graphql", json={"query": query}).json()["data"]
    assert [a["isCurrent"] for a in data["person"]["affiliations"]] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]


def test_a_role_with_an_end_year_is_not_current(api: TestClient, keys: Keys) -> None:
    ended = {"organization": "hoover-institution", "role": "Fellow", "end_year": 2009}
    response = _person(api, keys, {**ended, "is_current": True})
    assert response.status_code == 422, response.text
    assert [(e["loc"], e["msg"]) for e in response.json()["errors"]] == [
        (
            ["body", "affiliations", "0", "is_current"],
            "an affiliation with an end_year has ended: false, or leave it out",
        )
    ]
    assert _person(api, keys, {**ended, "is_current": "no"}).status_code == 422
    assert _person(api, keys, {**ended, "is_current": 0}).status_code == 422
    assert _person(api, keys, {**ended, "is_current": None}).status_code == 201  # as left out


def test_people_of_an_organization_are_its_current_members(api: TestClient, keys: Keys) -> None:
    """`organization=` lists the people whose affiliation there is current: not a former
    one whose end year is unknown (listed before, when no end year meant current)."""
    former = {"organization": "hoover-institution", "role": "COO", "is_current": False}
    assert _person(api, keys, former).status_code == 201
    listed = api.get("/api/v1/people?organization=hoover-institution").json()
    assert [p["slug"] for p in listed["data"]] == ["abbas-milani"]
    query = '{ people(filter: {organization: "hoover-institution"}) { nodes { slug } } }'
    nodes = api.post("/graphql", json={"query": query}).json()["data"]["people"]["nodes"]
    assert nodes == [{"slug": "abbas-milani"}]


def test_an_export_says_whether_each_role_is_current(
    api: TestClient, keys: Keys, factory: sessionmaker[Session]
) -> None:
    former = {"organization": "hoover-institution", "role": "COO", "is_current": False}
    assert _person(api, keys, former).status_code == 201
    with factory() as session:
        line = next(line for line in export_lines(session) if b'"sheryl-sandberg"' in line)
    assert b'"end_year":null,"is_current":false' in line
