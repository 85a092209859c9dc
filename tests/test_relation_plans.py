"""Relations read their linked rows by primary key, whatever the tables' sizes.

Joined directly (`link JOIN person ON ...`), PostgreSQL's planner prices a few dozen
primary-key probes above hashing the whole target table under the default
`random_page_cost`: a page of events' speakers read and hashed every person, bios and all.
The loaders read the link rows first and then their targets by key. SQLite, given the
target's visibility index, drove from every public target instead. These tests look at the
plans each database makes for them on a generated dataset where that matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.content.relations import RELATIONS
from app.content.visibility import Viewer
from app.db import make_engine
from app.generate.generator import generate
from app.migrations import upgrade_to_head
from app.models import Article, Event, Person, Publication
from tests.support import TestDatabases, backend_of, explained

# ~400 people with their bios: a person table of ~70 pages.
SCALE = 0.01


@pytest.fixture(scope="module")
def generated(database_url: str, test_databases: TestDatabases) -> Iterator[Engine]:
    url = test_databases.create(backend_of(database_url))
    upgrade_to_head(url)
    engine = make_engine(url)
    generate(engine, SCALE, 7)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    yield engine
    engine.dispose()


def _postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")


def _plans(engine: Engine, type_name: str, relation: str, parents: list[Any]) -> list[str]:
    """EXPLAIN of each statement the relation's loader runs for `parents`."""
    with Session(engine) as session:

        def run() -> None:
            links = RELATIONS[type_name][relation].loader(session, parents, Viewer())
            assert links, "the generated parents have linked rows"

        return [plan for _, plan in explained(engine, run)]


def test_speakers_of_a_page_of_events_are_read_by_key(generated: Engine) -> None:
    with Session(generated) as session:
        events = list(session.scalars(select(Event).order_by(Event.id).limit(20)))
        people = session.scalar(select(func.count()).select_from(Person))
    assert people is not None
    assert people > 300
    _postgresql(generated)
    (plan,) = _plans(generated, "event", "participants", events)
    assert "Seq Scan on person" not in plan, plan
    assert "pk_person" in plan, plan


def test_every_linked_table_is_read_for_the_linked_ids_only(generated: Engine) -> None:
    """Organizations and topics too: small tables may be scanned rather than probed (a
    few pages), but filtered by the ids the links name, never hashed whole."""
    _postgresql(generated)
    with Session(generated) as session:
        people = list(session.scalars(select(Person).order_by(Person.id).limit(60)))
        events = list(session.scalars(select(Event).order_by(Event.id).limit(20)))
    (affiliations,) = _plans(generated, "person", "affiliations", people)
    (topics,) = _plans(generated, "event", "topics", events)
    for plan in (affiliations, topics):
        assert "id = ANY ($" in plan, plan


@pytest.mark.parametrize(
    ("type_name", "relation", "link"),
    [
        ("article", "resources", "article_resource"),
        ("article", "authors", "article_author"),
        ("article", "topics", "tagging"),
        ("event", "participants", "event_participant"),
        ("event", "sponsors", "event_sponsor"),
        ("person", "affiliations", "affiliation"),
        ("publication", "authors", "publication_author"),
    ],
)
def test_sqlite_goes_from_the_links_to_their_targets(
    generated: Engine, type_name: str, relation: str, link: str
) -> None:
    """SQLite: the parents' link rows first, then each target by key. Given the target's
    visibility index, it drove from every public resource and probed each against 100
    articles' links (26 ms at `large`)."""
    if generated.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    model = {"article": Article, "event": Event, "person": Person, "publication": Publication}[
        type_name
    ]
    with Session(generated) as session:
        parents = list(session.scalars(select(model).order_by(model.id.desc()).limit(100)))
    (plan,) = _plans(generated, type_name, relation, parents)
    assert plan.splitlines()[0].startswith(f"SEARCH {link} "), plan
