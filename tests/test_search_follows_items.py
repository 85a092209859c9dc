"""A search document holds its item's visibility (`public_at`, `deleted`), and triggers keep
that copy whoever writes the item's row (migration `edf91aaec8c4`), as they keep the
taggings' (`tests/test_tagging_visibility.py`).

Search counts its matches from the documents, then loads the page's items and drops any the
viewer may not see. After `UPDATE article SET status = 'draft'` in `psql`,
`/api/v1/search` answered a total of 8 with 7 results; after a `DELETE FROM article`, a
total of 1 with none, and pages came up short. Lists and topic streams with `q` read the
visibility from the items (streams: from the taggings) and only the matches from the
documents; they are checked here too, so that the three surfaces go on agreeing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.content import search as search_module
from app.content.types import ALL_TYPES, BY_NAME
from app.content.visibility import Viewer, is_visible
from app.content.writes import create_item
from app.db import UTCDateTime, make_engine, utcnow
from app.migrations import downgrade_connection, upgrade_to_head
from tests.graphql_support import gql
from tests.rest_factories import (
    make_article,
    make_event,
    make_person,
    make_publication,
    make_quote,
    make_topic,
    walk,
    writing,
)
from tests.support import search_document_mismatches, version_bumps, versions_deferred

STREAM_TYPES = ("article", "event", "publication", "quote")
SEARCH = """query($after: String) { search(query: "ransom", first: 2, after: $after) {
  totalCount edges { type } pageInfo { hasNextPage endCursor } } }"""


def _public(session: Session, types: Any = ALL_TYPES) -> set[str]:
    """The public ids of the items the public may see now (all of them hold "ransom")."""
    return {
        ctype.public_id(row.id)
        for ctype in types
        for row in session.scalars(select(ctype.model))
        if is_visible(row, Viewer()) and ctype.name != "topic"
    }


def _surface(api: TestClient, url: str) -> tuple[set[str], int]:
    """Every id of `url`'s pages, two at a time, and its first page's `meta.total`; each
    page's total the same."""
    total = api.get(url).json()["meta"]["total"]
    items = walk(api, url)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), (url, ids)
    return set(ids), total


def _graphql_search(api: TestClient) -> tuple[int, int]:
    """GraphQL's search: (totalCount, the hits of every page)."""
    after, hits, total = None, 0, None
    for _ in range(50):
        found = gql(api, SEARCH, {"after": after}, {})["search"]
        total = found["totalCount"] if total is None else total
        hits += len(found["edges"])
        if not found["pageInfo"]["hasNextPage"]:
            return total, hits
        after = found["pageInfo"]["endCursor"]
    raise AssertionError("search pages without end")


def _assert_surfaces_agree(api: TestClient, factory: sessionmaker[Session], step: str) -> None:
    with writing(factory) as session:
        everything = _public(session)
        articles = _public(session, [BY_NAME["article"]])
        stream = _public(session, [BY_NAME[name] for name in STREAM_TYPES])
    for url, expected in (
        ("/api/v1/search?q=ransom&limit=2", everything),
        ("/api/v1/articles?q=ransom&limit=2", articles),
        ("/api/v1/topics/behind/stream?q=ransom&limit=2", stream),
    ):
        assert _surface(api, url) == (expected, len(expected)), (step, url)
    assert _graphql_search(api) == (len(everything), len(everything)), step
    with writing(factory) as session:
        assert search_document_mismatches(session) == [], step


def test_search_follows_items_changed_behind_the_apis_back(
    factory: sessionmaker[Session], api: TestClient
) -> None:
    """`psql` or a script updating an item's status, publication time or deletion, or
    deleting its row: the search totals and pages say what the items' own rule says, on
    every surface that searches, after each statement."""
    with writing(factory) as session:
        make_topic(session, "Behind")
        for title in ("one", "two", "three", "four", "five", "six"):
            make_article(session, title=f"Ransom {title}", topics=["behind"])
        make_event(session, title="Ransom event", topics=["behind"])
        make_publication(session, title="Ransom publication", topics=["behind"])
        make_quote(session, text="Ransom quote", topics=["behind"])
        make_person(session, "Ransom Person", topics=["behind"])
    _assert_surfaces_agree(api, factory, "as written")
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    later = bindparam("later", utcnow() + timedelta(days=3), type_=UTCDateTime())
    statements = [
        "UPDATE article SET status = 'draft' WHERE title = 'Ransom one'",
        "UPDATE article SET status = 'archived' WHERE title = 'Ransom two'",
        "UPDATE article SET deleted_at = published_at WHERE title = 'Ransom three'",
        "UPDATE article SET published_at = :later WHERE title = 'Ransom four'",
        "UPDATE article SET published_at = created_at WHERE title = 'Ransom four'",
        "UPDATE article SET status = 'published' WHERE title = 'Ransom one'",
        "UPDATE event SET status = 'draft'",
        "UPDATE quote SET deleted_at = created_at",
        "UPDATE person SET deleted_at = created_at",
        "UPDATE person SET deleted_at = NULL",
        "DELETE FROM article WHERE title = 'Ransom five'",
        "DELETE FROM publication",
    ]
    for statement in statements:
        with engine.begin() as connection:
            sql = text(statement)
            connection.execute(sql.bindparams(later) if ":later" in statement else sql)
        _assert_surfaces_agree(api, factory, statement)
    with writing(factory) as session:  # what the statements left public
        left = {
            getattr(row, ctype.title_field)
            for ctype in ALL_TYPES
            for row in session.scalars(select(ctype.model))
            if is_visible(row, Viewer()) and ctype.name != "topic"
        }
    assert left == {"Ransom one", "Ransom four", "Ransom six", "Ransom Person"}


def test_the_triggers_leave_the_version_bumps_to_the_statement_that_fired_them(
    factory: sessionmaker[Session], api: TestClient
) -> None:
    """PostgreSQL: a trigger's write to `search_document` is a statement of its own, which
    bumped the versions again for each row; a bulk UPDATE's cost then grew with the square
    of its rows (19,212 articles: 20 s, not 7). The item's statement bumps its type, once;
    the trigger's write bumps nothing, and leaves the writer's `dossier.versions_deferred`
    as it found it (`dossier import` bumps every version at its end instead)."""
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite updates a row in place: its triggers bump the versions as before")
    with writing(factory) as session:
        for title in ("one", "two", "three"):
            make_article(session, title=f"Ransom {title}")
    with engine.connect() as connection:
        with connection.begin():  # as a pooled connection may be: '' after a SET LOCAL
            connection.execute(text("SET LOCAL dossier.versions_deferred = 'on'"))
        assert versions_deferred(connection) == ""
        drafted = version_bumps(connection, "UPDATE article SET status = 'draft'")
        assert (drafted, versions_deferred(connection)) == ({"content": 1, "article": 1}, "")
        connection.execute(text("SET LOCAL dossier.versions_deferred = 'on'"))
        assert version_bumps(connection, "DELETE FROM article WHERE title = 'Ransom one'") == {}
        assert version_bumps(connection, "UPDATE article SET status = 'published'") == {}
        assert versions_deferred(connection) == "on"
        connection.rollback()


def test_the_migration_repairs_documents_made_wrong_before_it(empty_database_url: str) -> None:
    """Migration edf91aaec8c4: documents whose items were changed or deleted behind the
    API's back before its triggers (or that were written wrong themselves) hold their
    items' visibility after it, those of deleted rows are gone (from FTS5's index too), and
    search's totals are its pages again."""
    upgrade_to_head(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with Session(engine) as session, session.begin():
            for title in ("one", "two", "three", "four", "five"):
                create_item(
                    session, "articles", {"title": f"Ransom {title}", "status": "published"}, "t"
                )
            create_item(session, "articles", {"title": "Ransom draft"}, "t")
            create_item(session, "people", {"name": "Ransom Person"}, "t")
            create_item(session, "topics", {"name": "Ransom topic"}, "t")
        with engine.begin() as connection:
            downgrade_connection(connection, "4e3fe91bd102")  # before edf91aaec8c4
            for statement in (
                "UPDATE article SET status = 'draft' WHERE title = 'Ransom one'",
                "UPDATE article SET deleted_at = published_at WHERE title = 'Ransom two'",
                "DELETE FROM article WHERE title = 'Ransom three'",
                "UPDATE article SET status = 'published', published_at = created_at "
                "WHERE title = 'Ransom draft'",
                "UPDATE person SET deleted_at = created_at",
                # A document wrong by itself: a public article's, hidden.
                "UPDATE search_document SET public_at = NULL, deleted = true "
                "WHERE title = 'Ransom four'",
            ):
                connection.execute(text(statement))
        with Session(engine) as session:
            assert len(search_document_mismatches(session)) == 6
        upgrade_to_head(empty_database_url)
        with Session(engine) as session:
            assert search_document_mismatches(session) == []
            found, total = search_module.search(session, "ransom", ALL_TYPES, Viewer(), 100)
            titles = {
                session.get(hit.ctype.model, hit.entity_id).title  # type: ignore[union-attr]
                for hit in found
                if hit.ctype.name == "article"
            }
        assert titles == {"Ransom four", "Ransom five", "Ransom draft"}
        assert total == len(found) == 4  # and the topic
    finally:
        engine.dispose()
