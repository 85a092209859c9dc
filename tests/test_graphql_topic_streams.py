"""Topic streams asked of many topics at once (`topics { nodes { stream { ... } } }`): the
first pages of every topic in one statement, the totals in one per type — exactly what each
topic's own `topic_stream` returns (items, order, cursors, totals), on both backends, on
either plan of a type (a popular topic's walk, the others' taggings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

import app.content.counts as counts_cache
import app.content.queries as queries
import app.graphql.resolve as resolve
from app.content.hints import PlanHints
from app.content.queries import popular_topics, topic_stream
from app.content.types import STREAM_TYPES
from app.content.visibility import public_since
from app.db import session_scope
from app.models import Article, Event, Person, Publication, Quote, Tagging, Topic
from tests.admin_helpers import PREVIEW, bearer, make_key
from tests.graphql_support import gql, walk_pages
from tests.support import count_queries

NOW = datetime.now(UTC)
TOPICS = 12
ITEMS = 70  # of each type: enough for the first topic to be popular (walked)

PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
PAGE += "edges { cursor node { __typename ... on Node { id } } }"
STREAMS = f"""query($first: Int!) {{ topics(first: $first) {{ nodes {{ slug
  stream(first: 3) {{ {PAGE} }}
  some: stream(first: 2, types: [QUOTE, EVENT]) {{ {PAGE} }}
  one: stream(first: 1, types: ARTICLE) {{ {PAGE} }}
  all: stream(first: 100) {{ {PAGE} }}
  allSome: stream(first: 100, types: [QUOTE, EVENT]) {{ {PAGE} }} }} }} }}"""


def _seed(factory: sessionmaker[Session]) -> None:
    """Twelve topics: t00 tags most items of every type (a popular topic), t01-t10 a few
    each, t11 none. Items of each type share their publication times with the other types'
    (ties across types: the stream's rank breaks them) and, in threes, with their own
    (ties broken by id); drafts (one undated), scheduled and deleted items are among them."""
    with session_scope(factory) as session:
        topics = [Topic(slug=f"t{i:02d}", name=f"T {i:02d}") for i in range(TOPICS)]
        speaker = Person(slug="speaker", name="Speaker", sort_name="Speaker")
        session.add_all([*topics, speaker])
        session.flush()
        hidden: dict[int, dict[str, Any]] = {
            1: {"status": "draft"},
            2: {"published_at": NOW + timedelta(days=3)},
            3: {"deleted_at": NOW},
            4: {"status": "draft", "published_at": None},
        }
        for i in range(ITEMS):
            state: dict[str, Any] = {
                "status": "published",
                "published_at": NOW - timedelta(hours=i // 3 + 1),
                **hidden.get(i % 10, {}),
            }
            items = [
                Article(slug=f"a{i}", title=f"A {i}", **state),
                Event(slug=f"e{i}", title=f"E {i}", starts_at=NOW + timedelta(days=i), **state),
                Publication(slug=f"b{i}", title=f"B {i}", **state),
                Quote(slug=f"q{i}", text=f"Q {i}", speaker_id=speaker.id, **state),
            ]
            session.add_all(items)
            session.flush()
            tagged = [topics[1 + i % 10]] + ([topics[0]] if i % 9 else [])
            for item in items:
                name = type(item).__name__.lower()
                # What the write layer stores with a tagging: its item's visibility.
                public_at = public_since(type(item), partial(getattr, item))
                for topic in tagged:
                    session.add(
                        Tagging(
                            entity_type=name,
                            entity_id=item.id,
                            topic_id=topic.id,
                            public_at=public_at,
                        )
                    )


@pytest.fixture(params=[True, False], ids=["fast", "stock"])
def seeded(
    request: pytest.FixtureRequest, app_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    app = app_factory(graphql_fast_path=request.param)
    _seed(app.state.session_factory)
    # Which topics are popular is remembered per database URL, and the test databases are
    # emptied and filled again: this test's answers, not an earlier test's.
    monkeypatch.setattr(queries, "_POPULARITY", PlanHints())
    return app


def _per_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream through its topic's own `topic_stream`, as before batching."""

    def one_by_one(
        session: Session,
        topics: list[Topic],
        viewer: Any,
        limit: int,
        secret: str,
        types: Any,
        projection: Any,
        params: Any = None,
    ) -> dict[int, Any]:
        return {
            t.id: topic_stream(session, t, viewer, limit, None, secret, types, params)
            for t in topics
        }

    monkeypatch.setattr(resolve, "first_stream_pages", one_by_one)


def _preview(app: FastAPI) -> dict[str, str]:
    key = make_key(app.state.session_factory, "preview", PREVIEW)
    return {**bearer(key), "X-Preview": "true"}


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
def test_batched_streams_equal_each_topics_own(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch, preview: bool
) -> None:
    headers = _preview(seeded) if preview else {}
    with TestClient(seeded) as client:
        batched = gql(client, STREAMS, {"first": TOPICS}, headers)
        topics = batched["topics"]["nodes"]
        assert len(topics) == TOPICS
        sizes = {len(t["stream"]["edges"]) for t in topics}
        assert {0, 3} <= sizes  # t11 has none, the others more than a page
        with monkeypatch.context() as patch:
            _per_topic(patch)
            assert gql(client, STREAMS, {"first": TOPICS}, headers) == batched
    # The first topic's pages were walked (popular for every type; a preview walks the index
    # of its own sort), the others' read.
    with session_scope(seeded.state.session_factory) as session:
        ids = list(session.scalars(select(col(Topic.id)).order_by(Topic.slug)))
        popular = popular_topics(session, STREAM_TYPES, ids)
    assert all(found == {ids[0]} for found in popular.values()), popular


SHOWN = """{ topics(first: 6) { nodes { stream(first: 100) { totalCount nodes {
  ... on Article { slug } ... on Event { slug } ... on Publication { slug }
  ... on Quote { slug } } } } } }"""


def test_the_batch_shows_what_each_viewer_may_see_in_stream_order(seeded: FastAPI) -> None:
    """t01 tags items 0, 10, 20...: all public. t02 tags drafts, t03 scheduled items, t04
    deleted ones, t05 drafts without a publication time (a preview sorts them by their
    creation time)."""
    with TestClient(seeded) as client:
        public = gql(client, SHOWN, {}, {})["topics"]["nodes"]
        preview = gql(client, SHOWN, {}, _preview(seeded))["topics"]["nodes"]

    def slugs(topic: dict[str, Any]) -> list[str]:
        return [node["slug"] for node in topic["stream"]["nodes"]]

    # Newest first; items of one instant: article, event, publication, quote.
    assert slugs(public[1]) == [f"{kind}{i}" for i in range(0, ITEMS, 10) for kind in "aebq"]
    assert [slugs(topic) for topic in public[2:]] == [[], [], [], []]
    assert slugs(preview[1]) == slugs(public[1])
    for topic, first in ((preview[2], 1), (preview[3], 2), (preview[5], 4)):
        expected = {f"{kind}{i}" for i in range(first, ITEMS, 10) for kind in "aebq"}
        assert set(slugs(topic)) == expected
    assert slugs(preview[4]) == []
    # t00: the public items but those of i % 9 == 0. In threes at one instant: of one
    # type, the highest id (here: i) first.
    seen = [i for i in range(ITEMS) if i % 9 and i % 10 not in (1, 2, 3, 4)]
    order = sorted((i // 3, kind, -i) for i in seen for kind in range(4))
    expected = [f"{'aebq'[kind]}{-i}" for _, kind, i in order]
    assert slugs(public[0]) == expected[:100]
    assert public[0]["stream"]["totalCount"] == len(expected)


def _walk(client: TestClient, slug: str, field: str, start: dict[str, Any], rest: str) -> list[str]:
    """The ids of a topic's whole stream, from its first page on through `endCursor`."""
    query = f"""query($slug: String!, $after: String) {{ topic(slug: $slug) {{
      {field}: stream(first: 4, after: $after{rest}) {{ {PAGE} }} }} }}"""
    return walk_pages(client, query, slug, start, ("topic", field))


def test_pagination_continues_from_the_batched_page(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(seeded) as client:
        topics = gql(client, STREAMS, {"first": TOPICS}, {})["topics"]["nodes"]
        with monkeypatch.context() as patch:
            _per_topic(patch)
            whole = gql(client, STREAMS, {"first": TOPICS}, {})["topics"]["nodes"]
        for topic, full in zip(topics, whole, strict=True):
            for field, whole_field, rest in (
                ("stream", "all", ""),
                ("some", "allSome", ", types: [QUOTE, EVENT]"),
            ):
                # The whole stream, from a first page of 100 (t00's goes on).
                expected = _walk(client, topic["slug"], field, full[whole_field], rest)
                assert full[whole_field]["totalCount"] == len(expected)
                assert topic[field]["totalCount"] == len(expected)
                assert _walk(client, topic["slug"], field, topic[field], rest) == expected


COUNTED = """query($first: Int!) { topics(first: $first) { nodes { name
  stream(first: 5) { totalCount nodes { __typename ... on Article { title } ... on Event { title } } }
  some: stream(first: 2, types: [QUOTE]) { nodes { __typename } } } } }"""


def test_statements_do_not_grow_with_the_topics(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = seeded.state.engine
    with TestClient(seeded) as client:
        gql(client, COUNTED, {"first": TOPICS}, {})  # which topics are popular: remembered
        counts = {}
        for first in (6, TOPICS):
            counts_cache._CACHES.pop(engine, None)  # totals counted afresh each time
            with count_queries(engine) as queries_run:
                gql(client, COUNTED, {"first": first}, {})
            counts[first] = queries_run.count
        assert counts[6] == counts[TOPICS], counts
        # The topics; per stream field a page and its rows, a statement per type shown
        # (4 + 1); for the totals, the count cache's versions, then per type a count and
        # its expiry (the next scheduled item's time).
        assert counts[TOPICS] == 1 + 2 + 5 + 1 + 4 * 2, counts
        with monkeypatch.context() as patch:
            _per_topic(patch)
            counts_cache._CACHES.pop(engine, None)
            with count_queries(engine) as queries_run:
                gql(client, COUNTED, {"first": TOPICS}, {})
        assert queries_run.count > 4 * TOPICS, queries_run.count  # what batching saves


def test_a_stream_is_batched_with_the_topics_that_came_with_its_own(
    seeded: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch takes the topics that arrived together (one list's page, one relation's
    targets for a batch of items), not every topic the request has read: the topics an
    article list is tagged with are not asked for the stream of the one topic shown."""
    asked: list[list[str]] = []
    batched = resolve.first_stream_pages

    def recording(session: Session, topics: list[Topic], *args: Any) -> dict[int, Any]:
        asked.append(sorted(topic.slug for topic in topics))
        return batched(session, topics, *args)

    monkeypatch.setattr(resolve, "first_stream_pages", recording)
    one = """{ articles(first: 50) { nodes { topics { slug } } }
      topic(slug: "t06") { stream(first: 3) { totalCount nodes { __typename } } } }"""
    listed = """{ articles(first: 50) { nodes { topics { slug } } }
      topics(first: 4) { nodes { stream(first: 3) { nodes { __typename } } } } }"""
    tags = """{ articles(first: 20) { nodes {
      topics { stream(first: 2) { nodes { __typename } } } } } }"""
    with TestClient(seeded) as client:
        data = gql(client, one)
        assert data["topic"]["stream"]["totalCount"] > 0
        assert len({t["slug"] for a in data["articles"]["nodes"] for t in a["topics"]}) > 2
        assert asked == [["t06"]]
        asked.clear()
        gql(client, listed)
        assert asked == [["t00", "t01", "t02", "t03"]]
        asked.clear()
        gql(client, tags)
        [tags_batch] = asked  # the tags' streams: one batch
        assert len(tags_batch) > 2


NARROWED = f"""query($first: Int!, $filter: StreamFilter, $sort: StreamSort) {{
  topics(first: $first) {{ nodes {{ slug
    stream(first: 3, filter: $filter, sort: $sort) {{ {PAGE} }}
    some: stream(first: 2, types: [QUOTE, EVENT], filter: $filter, sort: $sort) {{ {PAGE} }}
    all: stream(first: 100, filter: $filter, sort: $sort) {{ {PAGE} }} }} }} }}"""


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview"])
@pytest.mark.parametrize(
    ("filter", "sort"),
    [
        ({"topic": "t01"}, None),  # rare: the page read from t01's taggings
        ({"topic": "t00"}, None),  # popular: from each topic's taggings
        ({"topics": ["t00", "t03"], "updatedSince": "2000-01-01T00:00:00Z"}, None),
        ({"topic": "t06"}, "PUBLISHED_AT"),
        (None, "PUBLISHED_AT"),
    ],
)
def test_batched_narrowed_streams_equal_each_topics_own(
    seeded: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    preview: bool,
    filter: dict[str, Any] | None,
    sort: str | None,
) -> None:
    """Narrowed and reordered, on either plan of a type: the public's batched (PostgreSQL),
    a preview's each topic's own `topic_stream`. The totals counted each time."""
    headers = _preview(seeded) if preview else {}
    variables = {"first": TOPICS, "filter": filter, "sort": sort}
    engine = seeded.state.engine
    with TestClient(seeded) as client:
        counts_cache._CACHES.pop(engine, None)
        batched = gql(client, NARROWED, variables, headers)
        topics = batched["topics"]["nodes"]
        assert {0, 3} <= {len(t["stream"]["edges"]) for t in topics}
        with monkeypatch.context() as patch:
            _per_topic(patch)
            counts_cache._CACHES.pop(engine, None)
            assert gql(client, NARROWED, variables, headers) == batched
