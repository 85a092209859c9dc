"""SQL query counts: the cost of a GraphQL query must not grow with the page size.

The data is generated (110+ events whose speakers have affiliations), on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.content.visibility import public_since
from app.db import session_scope
from app.models import (
    Affiliation,
    Article,
    ArticleAuthor,
    Event,
    EventParticipant,
    EventSponsor,
    Organization,
    Person,
    Publication,
    PublicationAuthor,
    Quote,
    Tagging,
    Topic,
)
from tests.graphql_support import FLAGSHIP, gql, nodes
from tests.support import count_queries

BASE = datetime(2024, 1, 1, tzinfo=UTC)
EVENTS = 110


def pk(row: Any) -> int:
    """A flushed row's primary key."""
    assert row.id is not None
    return int(row.id)


def make_organization(session: Session, i: int, parent: Organization | None = None) -> Organization:
    org = Organization(
        slug=f"org-{i}", name=f"Organization {i}", parent_id=parent.id if parent else None
    )
    session.add(org)
    session.flush()
    return org


def make_person(session: Session, i: int, orgs: list[Organization]) -> Person:
    person = Person(
        slug=f"person-{i}",
        name=f"Person {i}",
        sort_name=f"{i:04d}",
        title=f"Fellow {i}",
        bio=f"<p>Bio {i}</p>",
        bio_text=f"Bio {i}",
        photo_url=f"/media/p{i}.jpg",
    )
    session.add(person)
    session.flush()
    for position in range(2 + i % 2):
        org = orgs[(i + position) % len(orgs)]
        session.add(
            Affiliation(
                person_id=pk(person),
                organization_id=pk(org),
                role=f"Role {position}",
                position=position,
                is_primary=position == 0,
            )
        )
    return person


def _published(model: Any, i: int, **fields: Any) -> Any:
    return model(status="published", published_at=BASE + timedelta(hours=i), **fields)


def seed(factory: sessionmaker[Session]) -> None:
    """A topic with 110 events (3 speakers + a moderator each) and some of every stream type."""
    with session_scope(factory) as session:
        topic = Topic(slug="kidnapping", name="Kidnapping")
        session.add(topic)
        session.flush()
        roots = [make_organization(session, i) for i in range(3)]
        orgs = roots + [make_organization(session, i, roots[i % 3]) for i in range(3, 12)]
        people = [make_person(session, i, orgs) for i in range(40)]

        def tag(type_name: str, row: Any) -> None:
            public_at = public_since(type(row), partial(getattr, row))  # as the writes store it
            session.add(
                Tagging(
                    entity_type=type_name, entity_id=row.id, topic_id=pk(topic), public_at=public_at
                )
            )

        for i in range(EVENTS):
            # The newest 40 interleave with the other types in the stream; the rest are older.
            hour = i * 4 if i < 40 else -i
            event = _published(
                Event,
                hour,
                slug=f"event-{i}",
                title=f"Event {i}",
                starts_at=BASE + timedelta(days=i),
                attendance_mode="online",
            )
            session.add(event)
            session.flush()
            tag("event", event)
            for position in range(4):
                role = "moderator" if position == 3 else "speaker"
                person = people[(i * 3 + position) % len(people)]
                session.add(
                    EventParticipant(
                        event_id=pk(event), person_id=pk(person), role=role, position=position
                    )
                )
            session.add(EventSponsor(event_id=pk(event), organization_id=pk(orgs[i % len(orgs)])))
        for i in range(40):
            article = _published(Article, i * 4 + 1, slug=f"article-{i}", title=f"Article {i}")
            publication = _published(
                Publication, i * 4 + 2, slug=f"pub-{i}", title=f"Publication {i}"
            )
            session.add_all([article, publication])
            session.flush()
            quote = _published(
                Quote,
                i * 4 + 3,
                slug=f"quote-{i}",
                text=f"Quote {i}",
                speaker_id=people[i].id,
                article_id=article.id,
            )
            session.add(quote)
            session.flush()
            session.add(ArticleAuthor(article_id=pk(article), person_id=pk(people[i])))
            session.add(
                PublicationAuthor(
                    publication_id=pk(publication), person_id=pk(people[(i + 1) % 40])
                )
            )
            for type_name, row in (
                ("article", article),
                ("publication", publication),
                ("quote", quote),
            ):
                tag(type_name, row)


def _count(
    client: TestClient, engine: Engine, query: str, variables: dict[str, Any]
) -> tuple[int, Any]:
    with count_queries(engine) as queries:
        data = gql(client, query, variables)
    return queries.count, data


@pytest.fixture
def seeded(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    seed(session_factory)
    return client


def test_flagship_costs_the_same_for_any_page_size(seeded: TestClient, engine: Engine) -> None:
    # Once first: on SQLite the topic's popularity is probed once and remembered a minute.
    gql(seeded, FLAGSHIP, {"first": 1})
    counts = {}
    for first in (1, 20, 100):
        counts[first], data = _count(seeded, engine, FLAGSHIP, {"first": first})
        events = nodes(data["events"])
        assert len(events) == first
        assert all(len(e["speakers"]) == 3 for e in events)
        assert all(s["affiliations"] for e in events for s in e["speakers"])
    assert counts[1] == counts[20] == counts[100], counts
    assert counts[1] <= 9, counts


DEEP = """query($first: Int!) { events(filter: {topic: "kidnapping"}, first: $first) { totalCount
  edges { node { title topics { slug } sponsors { name parent { name } }
    moderators { name }
    participants { role person { name affiliations { organization { name parent { name } } } } } } } } }"""


def test_every_relation_level_is_one_query(seeded: TestClient, engine: Engine) -> None:
    gql(seeded, DEEP, {"first": 2})  # the total is counted once per content version
    small, _ = _count(seeded, engine, DEEP, {"first": 2})
    large, data = _count(seeded, engine, DEEP, {"first": 100})
    assert small == large, (small, large)
    assert nodes(data["events"])[0]["participants"][0]["person"]["affiliations"]


STREAM = """query($first: Int!) { topic(slug: "kidnapping") { stream(first: $first) { totalCount
  edges { node { __typename
    ... on Article { title authors { name affiliations { role } } topics { slug } }
    ... on Event { title speakers { name } sponsors { name } topics { slug } }
    ... on Publication { title authors { name } topics { slug } }
    ... on Quote { text speaker { name } article { title authors { name } } topics { slug } } } } } } }"""


def test_topic_stream_with_every_member_type_costs_the_same(
    seeded: TestClient, engine: Engine
) -> None:
    # Once first: on SQLite each type's topic popularity is probed once and remembered.
    gql(seeded, STREAM, {"first": 1})
    counts = {}
    for first in (1, 20, 100):
        counts[first], data = _count(seeded, engine, STREAM, {"first": first})
        items = nodes(data["topic"]["stream"])
        assert len(items) == first
        if first > 1:
            assert {i["__typename"] for i in items} == {"Article", "Event", "Publication", "Quote"}
    assert counts[20] == counts[100], counts
    # A page of one item holds one type, so the other types' loads never run.
    assert counts[1] <= counts[20], counts


CITATIONS = """query($first: Int!) { publications(first: $first) { nodes {
  citation ris: citation(format: RIS) authors { slug } } } }"""


def test_citations_cost_the_same_for_any_page_size(seeded: TestClient, engine: Engine) -> None:
    """`Publication.citation` reads the authors and topics of the whole page at once."""
    gql(seeded, CITATIONS, {"first": 2})
    small, _ = _count(seeded, engine, CITATIONS, {"first": 2})
    large, data = _count(seeded, engine, CITATIONS, {"first": 40})
    assert small == large, (small, large)
    publications = data["publications"]["nodes"]
    assert len(publications) == 40
    assert all("Person" in p["citation"] and "AU  - " in p["ris"] for p in publications)


def test_reverse_connections_and_nested_lists(seeded: TestClient, engine: Engine) -> None:
    query = """query($first: Int!) { people(first: $first) { edges { node { name
        affiliations { organization { name parent { name } } } topics { slug } } } } }"""
    small, _ = _count(seeded, engine, query, {"first": 3})
    large, data = _count(seeded, engine, query, {"first": 40})
    assert small == large
    assert len(nodes(data["people"])) == 40
    person = gql(
        seeded,
        '{ person(slug: "person-1") { events(filter: {role: MODERATOR}) { totalCount } '
        "articles { totalCount } publications { totalCount } quotes { totalCount } } }",
    )
    counts = person["person"]
    assert counts["articles"]["totalCount"] == counts["quotes"]["totalCount"] == 1
    assert counts["publications"]["totalCount"] == 1
    assert counts["events"]["totalCount"] >= 1
