"""A tagging holds its item's visibility (`Tagging.public_at`), and a topic's public stream
is read from the taggings alone: the copy stays right through every write (the write
layer's, and triggers' for any writer),
the stream pages and counts as before (ties, cursors, both directions), and each type's
page is a range of `ix_tagging_topic_type_public`, which no item table is read for.

Before, a page read every tagging of the topic and joined each to its item to sort them:
`topics { stream }` took 0.25 s for 20 topics' first pages at `bench` scale `large`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from app.content.types import ALL_TYPES, BY_NAME
from app.content.writes import create_item, delete_item, update_item, upsert_item
from app.db import utcnow
from app.models import Article, Tagging
from tests.conftest import AppFactory
from tests.graphql_support import gql
from tests.rest_factories import (
    ACTOR,
    make_article,
    make_event,
    make_organization,
    make_person,
    make_publication,
    make_quote,
    make_topic,
    writing,
)
from tests.support import explained, tagging_mismatches, version_bumps, versions_deferred


def test_taggings_follow_their_items_visibility_through_every_write(
    factory: sessionmaker[Session],
) -> None:
    """Created as a draft, published, scheduled, edited without naming its topics, retagged,
    deleted, restored by an import line; a tagged person deleted. After each write every
    tagging holds what `public_since` says of its item now."""
    later = utcnow() + timedelta(days=2)
    steps: list[tuple[str, Any]] = [
        ("publish", {"status": "published"}),
        ("schedule", {"published_at": later.isoformat()}),
        ("edit", {"title": "Edited"}),
        ("retag", {"topics": ["first", "second"]}),
        ("unpublish", {"status": "draft"}),
        ("republish", {"status": "published", "published_at": utcnow().isoformat()}),
    ]
    with writing(factory) as session:
        make_topic(session, "First")
        make_topic(session, "Second")
        article = make_article(session, title="Tagged", status="draft", topics=["first"])
        person = make_person(session, "Ann Tagged", topics=["first"])
        article_id, person_id = article.id, person.id
        assert tagging_mismatches(session) == []
    for name, patch in steps:
        with writing(factory) as session:
            row = session.get(Article, article_id)
            update_item(session, "articles", row, patch, ACTOR)
        with writing(factory) as session:
            assert tagging_mismatches(session) == [], name
    with writing(factory) as session:
        delete_item(session, "articles", session.get(Article, article_id), ACTOR)
        delete_item(session, "people", session.get(BY_NAME["person"].model, person_id), ACTOR)
    with writing(factory) as session:
        hidden = session.scalars(select(col(Tagging.public_at))).all()
        assert (hidden, tagging_mismatches(session)) == ([None] * 3, [])
    with writing(factory) as session:  # an import line restores the article
        line = {"slug": "tagged", "title": "Edited", "status": "published"}
        upsert_item(session, "articles", line | {"topics": ["second"]}, ACTOR)
    with writing(factory) as session:
        assert tagging_mismatches(session) == []
        restored = session.scalars(
            select(col(Tagging.public_at)).where(col(Tagging.entity_type) == "article")
        ).all()
        assert len(restored) == 1
        assert restored[0] is not None


def test_taggings_follow_their_items_changed_behind_the_apis_back(
    factory: sessionmaker[Session], api: TestClient
) -> None:
    """`psql` or a script updating an item's row: triggers update its taggings in the same
    statement, or the public stream (which reads no item table) would show a draft."""
    with writing(factory) as session:
        make_topic(session, "Behind")
        for title in ("One", "Two", "Three"):
            make_article(session, title=title, topics=["behind"])
        make_person(session, "Bo Behind", topics=["behind"])
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    statements = [
        "UPDATE article SET status = 'draft' WHERE title = 'One'",
        "UPDATE article SET deleted_at = published_at WHERE title = 'Two'",
        "UPDATE article SET published_at = NULL, status = 'draft' WHERE title = 'Three'",
        "UPDATE article SET status = 'published', published_at = created_at WHERE title = 'Three'",
        "UPDATE person SET deleted_at = created_at",
    ]
    for statement in statements:
        with engine.begin() as connection:
            connection.execute(text(statement))
        with writing(factory) as session:
            assert tagging_mismatches(session) == [], statement
    stream = api.get("/api/v1/topics/behind/stream").json()
    assert ([item["title"] for item in stream["data"]], stream["meta"]["total"]) == (["Three"], 1)


def test_an_item_row_deleted_behind_the_apis_back_leaves_its_topics_streams(
    factory: sessionmaker[Session], api: TestClient
) -> None:
    """`DELETE FROM article` in `psql` (a purge of soft-deleted rows, say): its taggings go
    with it, by trigger. The public stream reads only the taggings, so one left behind made
    the topic's REST stream, its feeds and GraphQL's `stream` a 500 (its item not found)."""
    with writing(factory) as session:
        make_topic(session, "Purged")
        for title in ("Kept", "Purged one"):
            make_article(session, title=title, topics=["purged"])
        make_event(session, title="Purged event", topics=["purged"])
        make_person(session, "Pat Purged", topics=["purged"])
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM article WHERE title = 'Purged one'"))
        connection.execute(text("DELETE FROM event"))
        connection.execute(text("DELETE FROM person"))
    stream = api.get("/api/v1/topics/purged/stream?limit=1")
    assert stream.status_code == 200, stream.text
    assert ([i["title"] for i in stream.json()["data"]], stream.json()["meta"]["total"]) == (
        ["Kept"],
        1,
    )
    assert api.get("/feeds/topics/purged.json").status_code == 200
    found = gql(api, '{ topic(slug: "purged") { stream { totalCount } } }', {}, {})
    assert found["topic"]["stream"]["totalCount"] == 1
    with writing(factory) as session:
        left = session.execute(select(Tagging.entity_type)).scalars().all()
    assert left == ["article"]


BULK = 4  # items of each type a bulk statement writes
# Topics can be tagged only behind the API's back (`TopicWrite.topics` is empty).
TAG_TOPICS = (
    "INSERT INTO tagging (entity_type, entity_id, topic_id, position) "
    "SELECT 'topic', t.id, bulk.id, 0 FROM topic t, topic bulk "
    "WHERE bulk.slug = 'bulk' AND t.slug <> 'bulk'"
)


def _bulk_statements() -> list[tuple[str, str]]:
    """(type, statement) of `psql`-style statements on every item of each type: each fires
    `tagging_follows_<type>` or `tagging_leaves_with_<type>` once a row."""
    statements = []
    for ctype in ALL_TYPES:
        table = ctype.model.__tablename__
        changes = ["deleted_at = created_at", "deleted_at = NULL"]
        if ctype.publishable:
            changes += ["status = 'archived'", "published_at = created_at"]
        statements += [(ctype.name, f"UPDATE {table} SET {change}") for change in changes]
        statements.append((ctype.name, f"DELETE FROM {table} WHERE slug <> 'bulk'"))
    return statements


def test_a_bulk_statement_bumps_each_version_once_not_once_a_row(
    factory: sessionmaker[Session], api: TestClient
) -> None:
    """PostgreSQL: the taggings' triggers write `tagging` in a statement of their own for
    each row of the item's statement, and bumped the versions there too: a transaction
    updated the same version rows once per row, and a bulk UPDATE in `psql` cost the square
    of its rows (every public article archived at `bench` scale `large`, 186,038 rows: 472 s,
    now 19 s). The item's statement bumps its type and the content version, once; the
    triggers' writes, which touch only taggings of that type, bump nothing, and leave the
    writer's `dossier.versions_deferred` as they found it (migration 41bb04909bf2)."""
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite updates a row in place: its triggers bump the types as before")
    with writing(factory) as session:
        make_topic(session, "Bulk")
        for _ in range(BULK):
            make_topic(session)
            make_organization(session, topics=["bulk"])
            make_person(session, topics=["bulk"])
            for make in (make_article, make_event, make_publication, make_quote):
                make(session, topics=["bulk"])
            resource = {"name": "Resource", "status": "published", "topics": ["bulk"]}
            create_item(session, "resources", resource, ACTOR)
    with engine.connect() as connection:
        with connection.begin():  # as a pooled connection may be: '' after a SET LOCAL
            connection.execute(text("SET LOCAL dossier.versions_deferred = 'on'"))
        for deferred in ("", "on"):
            with connection.begin() as transaction:
                if deferred:  # as `dossier import`, which bumps every version at its end
                    connection.execute(text("SET LOCAL dossier.versions_deferred = 'on'"))
                connection.execute(text(TAG_TOPICS))
                for name, statement in _bulk_statements():
                    bumped = version_bumps(connection, statement)
                    expected = {} if deferred else {"content": 1, name: 1}
                    assert (bumped, versions_deferred(connection)) == (expected, deferred), (
                        statement
                    )
                # The triggers did their work: each type's rows took their taggings along.
                assert connection.execute(text("SELECT count(*) FROM tagging")).scalar() == 0
                transaction.rollback()


def test_a_cached_list_is_not_served_stale_after_a_bulk_statement_behind_the_apis_back(
    app_factory: AppFactory,
) -> None:
    """The response cache's poll and the kept totals see the versions the item's own
    statement bumps (on PostgreSQL the taggings' triggers no longer bump them): articles
    archived in `psql` leave the cached list of articles, its total and the topic's
    stream, and the ETags change. An event renamed after them in the same transaction
    fires no such trigger and bumps its type too: the triggers restored the writer's
    setting."""
    app = app_factory(response_cache=True, cache_version_poll=0.05)
    with writing(app.state.session_factory) as session:
        make_topic(session, "Bulk")
        for _ in range(BULK):
            make_article(session, topics=["bulk"])
        make_event(session, title="Before", topics=["bulk"])
    totals = {"/api/v1/articles": BULK, "/api/v1/topics/bulk/stream": BULK + 1, "/api/v1/events": 1}
    with TestClient(app) as client:
        before = {url: client.get(url) for url in totals}
        for url, total in totals.items():
            cached = client.get(url)
            assert "age" in cached.headers, url  # served from the cache
            assert cached.json()["meta"]["total"] == total, url
        with app.state.engine.begin() as connection:
            connection.execute(text("UPDATE article SET status = 'archived'"))
            connection.execute(text("UPDATE event SET title = 'After'"))
        expected = {
            "/api/v1/articles": (0, None),
            "/api/v1/topics/bulk/stream": (1, "After"),
            "/api/v1/events": (1, "After"),
        }
        deadline = time.monotonic() + 5
        for url, (total, title) in expected.items():
            while True:
                body = client.get(url).json()
                titles = [item["title"] for item in body["data"]]
                if (body["meta"]["total"], titles[0] if titles else None) == (total, title):
                    break
                stale = (body["meta"]["total"], titles)
                assert time.monotonic() < deadline, f"{url} served stale: {stale}"
                time.sleep(0.05)
            etag = before[url].headers["etag"]
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 200, url


def _seed_ties(factory: sessionmaker[Session]) -> None:
    """A topic of items of every stream type sharing publication times in threes (ties
    across types and within one), with hidden ones among them; and another topic."""
    base = utcnow() - timedelta(days=30)
    makers = (make_article, make_event, make_publication, make_quote)
    with writing(factory) as session:
        make_topic(session, "Ties")
        make_topic(session, "Elsewhere")
        for i in range(30):
            when = base + timedelta(hours=i // 3)
            maker = makers[i % 4]
            hidden = i % 7 == 3
            fields: dict[str, Any] = {"published_at": when, "topics": ["ties"]}
            if hidden:
                fields["status"] = "draft"
            if i % 5 == 0:
                fields["topics"] = ["ties", "elsewhere"]
            maker(session, **fields)
        make_article(session, published_at=utcnow() + timedelta(days=1), topics=["ties"])


def _walk(api: TestClient, url: str) -> tuple[list[str], int]:
    """The ids of every page of `url` from the first on, and the first page's total."""
    ids: list[str] = []
    response = api.get(url)
    total = response.json()["meta"]["total"]
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["data"]]
        if not body["links"].get("next"):
            return ids, total
        response = api.get(body["links"]["next"])


@pytest.mark.parametrize("sort", ["-published_at", "published_at"])
def test_the_stream_from_the_taggings_pages_as_the_items_order_it(
    api: TestClient, factory: sessionmaker[Session], sort: str
) -> None:
    """The stream read from the taggings against the same stream read from the items (an
    `updated_since` long past narrows nothing but takes that path): the same items in the
    same order, walked three at a time across ties of time and type, and the same total."""
    _seed_ties(factory)
    url = f"/api/v1/topics/ties/stream?limit=3&sort={sort}"
    from_taggings = _walk(api, url)
    from_items = _walk(api, url + "&updated_since=2000-01-01T00:00:00Z")
    assert from_taggings == from_items
    assert len(from_taggings[0]) == from_taggings[1] == len([i for i in range(30) if i % 7 != 3])


def _plans(engine: Engine, run: Any) -> list[tuple[bool, str]]:
    """EXPLAIN of each statement `run()` sends that reads `tagging.public_at`, with whether
    it is a page (ordered) or a count."""
    found = explained(
        engine,
        run,
        lambda sql: "tagging.public_at" in sql or "tagging_1.public_at" in sql,
        ("sort", "seqscan", "bitmapscan"),
    )
    assert found, "no statement read the taggings' public_at"
    return [("ORDER BY" in sql, plan) for sql, plan in found]


STREAMS = """{ topics(first: 5) { nodes { slug stream(first: 2) { totalCount
  nodes { __typename ... on Article { title } ... on Event { title } } } } } }"""


@pytest.mark.parametrize("kind", ["rest", "graphql"])
def test_a_public_stream_reads_the_taggings_index_and_no_item_table(
    api: TestClient, factory: sessionmaker[Session], kind: str
) -> None:
    """The page and the totals: REST's stream of one topic, GraphQL's of many at once."""
    _seed_ties(factory)
    with writing(factory) as session:  # a second page, so that totals are counted
        session.execute(update(Article).values(title="Walked"))

    def run() -> None:
        if kind == "rest":
            assert api.get("/api/v1/topics/ties/stream?limit=2").status_code == 200
        else:
            assert gql(api, STREAMS, {}, {})["topics"]["nodes"][1]["stream"]["totalCount"] > 2

    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    plans = _plans(engine, run)
    assert {page for page, _ in plans} == {True, False}, plans  # the pages, and the counts
    for page, plan in plans:
        # A count may take another index of the taggings on a few rows (PostgreSQL does).
        assert "ix_tagging_topic_type_public" in plan or not page, plan
        for table in ("article", "event", "publication", "quote"):
            assert f" {table} " not in plan.replace("\n", " ") + " ", plan
