"""Nested connections (a person's articles, events, publications, quotes): the first pages
of every parent in one statement, the totals in one more — exactly what each parent's own
list returns (items, order, cursors, totals), and the same on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

import app.content.counts as counts_cache
import app.graphql.resolve as resolve
from app.db import session_scope
from app.models import (
    Article,
    ArticleAuthor,
    Event,
    EventParticipant,
    Person,
    Publication,
    PublicationAuthor,
    Quote,
)
from tests.admin_helpers import PREVIEW, bearer, make_key
from tests.graphql_support import gql, post, walk_pages
from tests.support import count_queries

NOW = datetime.now(UTC)
PEOPLE = 12

PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
PAGE += "edges { cursor node { __typename id slug } }"
NESTED = f"""query($first: Int!) {{ people(first: $first) {{ nodes {{ slug
  articles(first: 3) {{ {PAGE} }}
  oldest: articles(first: 2, sort: PUBLISHED_AT) {{ {PAGE} }}
  events(first: 2) {{ {PAGE} }}
  speaking: events(first: 2, filter: {{role: SPEAKER}}) {{ {PAGE} }}
  publications(first: 2) {{ {PAGE} }}
  quotes(first: 1) {{ {PAGE} }} }} }} }}"""


def _seed(factory: sessionmaker[Session]) -> None:
    """People with 0 to 7 items of each kind, co-authored items, a person in two roles at
    one event, items published at the same instant, and drafts, scheduled and deleted
    items (hidden from the public, some shown in preview)."""
    with session_scope(factory) as session:
        people = [
            Person(slug=f"p{i:02d}", name=f"P {i}", sort_name=f"{i:02d}") for i in range(PEOPLE)
        ]
        session.add_all(people)
        session.flush()
        hidden = {
            1: {"status": "draft"},
            2: {"published_at": NOW + timedelta(days=3)},
            3: {"deleted_at": NOW},
        }
        n = 0
        for i, person in enumerate(people):
            for j in range(i % 8):  # p00 and p08: none
                n += 1
                state: dict[str, Any] = {"status": "published", "published_at": NOW}
                # Two at the same instant per person (ties broken by id).
                state["published_at"] = NOW - timedelta(days=j // 2 + 1)
                state.update(hidden.get(j, {}) if i % 3 == 0 else {})
                article = Article(slug=f"a{n}", title=f"A {n}", **state)
                publication = Publication(slug=f"b{n}", title=f"B {n}", **state)
                event = Event(
                    slug=f"e{n}",
                    title=f"E {n}",
                    starts_at=NOW + timedelta(days=j - 2),
                    **state,
                )
                session.add_all([article, publication, event])
                session.flush()
                quote = Quote(slug=f"q{n}", text=f"Q {n}", speaker_id=person.id, **state)
                session.add(quote)
                co = people[(i + 1) % PEOPLE]
                # p00 and p08 have no co-authored items either.
                shared = j == 0 and (i + 1) % PEOPLE % 8 != 0
                for author in {person.id, co.id} if shared else {person.id}:
                    session.add(ArticleAuthor(article_id=article.id, person_id=author))
                    session.add(PublicationAuthor(publication_id=publication.id, person_id=author))
                roles = ("speaker", "moderator") if j % 2 == 0 else ("moderator",)
                for position, role in enumerate(roles):
                    session.add(
                        EventParticipant(
                            event_id=event.id, person_id=person.id, role=role, position=position
                        )
                    )


@pytest.fixture(params=[True, False], ids=["fast", "stock"])
def seeded(request: pytest.FixtureRequest, app_factory: Any) -> FastAPI:
    app = app_factory(graphql_fast_path=request.param)
    _seed(app.state.session_factory)
    return app


def _per_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every nested connection through its parent's own `list_items`, as before batching."""
    monkeypatch.setattr(resolve, "BATCHED", frozenset())


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
def test_batched_pages_equal_each_parents_own(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch, preview: bool
) -> None:
    headers: dict[str, str] = {}
    if preview:
        key = make_key(seeded.state.session_factory, "preview", PREVIEW)
        headers = {**bearer(key), "X-Preview": "true"}
    with TestClient(seeded) as client:
        batched = gql(client, NESTED, {"first": PEOPLE}, headers)
        people = batched["people"]["nodes"]
        assert len(people) == PEOPLE
        sizes = {len(p["articles"]["edges"]) for p in people}
        assert {0, 3} <= sizes  # some with none, some with more than a page
        with monkeypatch.context() as patch:
            _per_parent(patch)
            assert gql(client, NESTED, {"first": PEOPLE}, headers) == batched


def _walk(
    client: TestClient, slug: str, field: str, start: dict[str, Any], rest: str = ""
) -> list[str]:
    """The ids of a parent's whole list, from its first page on through `endCursor`."""
    query = f"""query($slug: String!, $after: String) {{ person(slug: $slug) {{
      {field}(first: 2, after: $after{rest}) {{ {PAGE} }} }} }}"""
    return walk_pages(client, query, slug, start, ("person", field))


def test_pagination_continues_from_the_batched_page(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(seeded) as client:
        people = gql(client, NESTED, {"first": PEOPLE}, {})["people"]["nodes"]
        whole = f"""query {{ people(first: {PEOPLE}) {{ nodes {{
          articles(first: 20) {{ {PAGE} }} speaking: events(first: 20,
          filter: {{role: SPEAKER}}) {{ {PAGE} }} quotes(first: 20) {{ {PAGE} }} }} }} }}"""
        with monkeypatch.context() as patch:
            _per_parent(patch)
            lists = gql(client, whole, {}, {})["people"]["nodes"]
        for person, full in zip(people, lists, strict=True):
            for field, rest in (
                ("articles", ""),
                ("speaking", ", filter: {role: SPEAKER}"),
                ("quotes", ""),
            ):
                expected = [edge["node"]["id"] for edge in full[field]["edges"]]
                assert full[field]["totalCount"] == len(expected)
                assert person[field]["totalCount"] == len(expected)
                name = "events" if field == "speaking" else field
                first_page = person[field]
                assert _walk(client, person["slug"], name, first_page, rest) == expected


COUNTED = """query($first: Int!) { people(first: $first) { nodes {
  articles(first: 1) { totalCount nodes { title } }
  events(first: 1, filter: {role: SPEAKER}) { totalCount nodes { title } }
  publications(first: 1) { nodes { title } }
  quotes(first: 1) { totalCount nodes { text } } } } }"""


def test_statements_do_not_grow_with_the_parents(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = seeded.state.engine
    with TestClient(seeded) as client:
        counts = {}
        for first in (6, PEOPLE):
            counts_cache._CACHES.pop(engine, None)  # totals counted afresh each time
            with count_queries(engine) as queries:
                gql(client, COUNTED, {"first": first}, {})
            counts[first] = queries.count
        assert counts[6] == counts[PEOPLE], counts
        # The people; per field a page; per field with totalCount the count cache's
        # versions, a count and its expiry (the next scheduled item's time).
        assert counts[PEOPLE] == 1 + 4 + 3 * 3, counts
        with monkeypatch.context() as patch:
            _per_parent(patch)
            counts_cache._CACHES.pop(engine, None)
            with count_queries(engine) as queries:
                gql(client, COUNTED, {"first": PEOPLE}, {})
        assert queries.count > 5 * PEOPLE, queries.count  # what batching saves


@pytest.mark.parametrize("common", [True, False])
def test_batched_pages_with_words_equal_each_parents_own(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch, common: bool
) -> None:
    """With words, each parent's items are asked whether they match (SQLite, common words:
    `people { articles(filter: {q}) }` gathered every match first, 0.7 s at `large`) or
    the matches are gathered: the same pages and totals as each parent's own list."""
    from sqlalchemy import select

    import app.content.nested as nested
    import app.content.queries as queries
    from app.content.search import index_item
    from app.content.types import ARTICLE, PUBLICATION

    with session_scope(seeded.state.session_factory) as session:  # `_seed` indexes nothing
        for ctype in (ARTICLE, PUBLICATION):
            for row in session.scalars(select(ctype.model)):
                if row.id % 3:  # two in three of them hold the word
                    row.title = f"Ransom {row.title}"
                index_item(session, ctype, row)
    monkeypatch.setattr(nested, "words_are_common", lambda *_: common)
    monkeypatch.setattr(queries, "words_are_common", lambda *_: common)
    query = """query($first: Int!) { people(first: $first, sort: SORT_NAME) { nodes { slug
      articles(first: 2, filter: {q: "ransom"}) { totalCount edges { cursor node { slug } } }
      publications(first: 2, filter: {q: "ransom"}) { totalCount nodes { slug } } } } }"""
    engine = seeded.state.engine
    with TestClient(seeded) as client:
        with count_queries(engine) as statements:
            batched = gql(client, query, {"first": PEOPLE})
        if engine.dialect.name == "sqlite":  # each item asked: `matches_each`'s `document`
            asked = any("AS document" in s for s in statements.statements)
            assert asked == common, statements.statements
        totals = [p["articles"]["totalCount"] for p in batched["people"]["nodes"]]
        assert max(totals) >= 3
        with monkeypatch.context() as patch:
            _per_parent(patch)
            assert gql(client, query, {"first": PEOPLE}) == batched


@pytest.mark.parametrize("few", [True, False], ids=["few-changed", "many-changed"])
def test_batched_pages_changed_since_equal_each_parents_own(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch, few: bool
) -> None:
    """With `updatedSince`, an item is listed when it was edited, went public or was shown
    differently since. Many changed, PostgreSQL asks each of the parents' items for its
    own shown changes (`shown_each`): gathered in a hashed subplan, the planner charged
    their cost again for each item the parents' links found and read every article
    instead (`people(first: 20) { articles(filter: {updatedSince}) }` 82-98 ms at
    `large`). The same pages and totals as each parent's own list, either way."""
    from sqlalchemy import text, update

    import app.content.nested as nested
    import app.content.queries as queries
    from app.models import ShownChange

    engine = seeded.state.engine
    if few and engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL's way of few changes (an array of their ids)")
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    with session_scope(seeded.state.session_factory) as session:
        # Edited and published long ago, every article; one in three shown differently
        # since (a resource it shows went public), one in five before the bound.
        ids = list(session.scalars(text("SELECT id FROM article ORDER BY id")))
        session.execute(update(Article).values(updated_at=long_ago, published_at=long_ago))
        for article_id in ids:
            if article_id % 3 == 0:
                session.add(ShownChange(item_type="article", item_id=article_id, at=NOW))
            elif article_id % 5 == 0:
                session.add(ShownChange(item_type="article", item_id=article_id, at=long_ago))
    monkeypatch.setattr(nested, "few_changed_since", lambda *_: few)
    monkeypatch.setattr(queries, "few_changed_since", lambda *_: few)
    query = """query($first: Int!) { people(first: $first) { nodes { slug
      articles(first: 2, filter: {updatedSince: "2010-01-01T00:00:00Z"}) {
        totalCount edges { cursor node { slug } } } } } }"""
    with TestClient(seeded) as client:
        with count_queries(engine) as statements:
            batched = gql(client, query, {"first": PEOPLE})
        pages = [s for s in statements.statements if "row_number() OVER" in s]
        assert pages, statements.statements
        each = engine.dialect.name == "postgresql" and not few
        for sql in pages:
            assert ("shown_change.item_id = article.id" in sql) is each, sql
        totals = [p["articles"]["totalCount"] for p in batched["people"]["nodes"]]
        assert max(totals) >= 1
        with monkeypatch.context() as patch:
            _per_parent(patch)
            assert gql(client, query, {"first": PEOPLE}) == batched


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("events", "person"),
        ("articles", "author"),
        ("publications", "author"),
        ("quotes", "speaker"),
    ],
)
def test_a_persons_own_list_refuses_another_person_filter(
    seeded: FastAPI, field: str, name: str
) -> None:
    """The filter was replaced by the parent's own slug, and the list came back unfiltered:
    346 events of gen-person-000001 `filter: {person: <another>}`, the ones the other is
    not in among them. Refused, batched (first page) or not (a later one)."""
    with TestClient(seeded) as api:
        for after in ("", ', after: "x"'):
            query = f'{{ person(slug: "p01") {{ {field}(first: 2{after}, filter: {{{name}: "p02"}}) {{ totalCount }} }} }}'
            (error,) = post(api, query).json()["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            assert f"filter.{name}" in error["message"], error
            assert "person's own" in error["message"], error
