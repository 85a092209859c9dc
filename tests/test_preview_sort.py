"""A preview's `published_at` sort: drafts (no `published_at`) by their creation time among
the rest, read in that order from an index on the very expression the lists sort by.

Drafts sort by `coalesce(published_at, created_at)`. Without an index on it, every preview
page of a collection read and sorted the whole table (0.24 s for articles at `bench`
scale `large`, 0.7 s for a topic's stream). Both databases use an expression index only
when the query's expression matches the index's: the plans below check that it does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.models import Article
from tests.rest_factories import make_article, make_event, make_key, make_topic, writing
from tests.support import request_plans


@pytest.fixture
def preview(api: TestClient, factory: sessionmaker[Session]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(factory, 'content:preview')}"}


def _titles(api: TestClient, url: str, headers: dict[str, str]) -> list[str]:
    """The titles of every page of `url`, two items a page (each page after a cursor)."""
    titles: list[str] = []
    response = api.get(url, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        titles += [item["title"] for item in body["data"]]
        if not body["links"].get("next"):
            return titles
        response = api.get(body["links"]["next"], headers=headers)


def test_drafts_sort_by_creation_among_published_items_ties_by_id(
    api: TestClient, factory: sessionmaker[Session], preview: dict[str, str]
) -> None:
    base = utcnow() - timedelta(days=10)
    with writing(factory) as session:
        make_article(session, title="A", published_at=base + timedelta(hours=1))
        make_article(session, title="B", published_at=base + timedelta(hours=3))
        first_draft = make_article(session, title="D1", status="draft")
        # Created at B's publication time: the tie goes to the higher id, this one.
        second_draft = make_article(session, title="D2", status="draft")
        make_article(session, title="S", published_at=utcnow() + timedelta(days=3))
        for draft, created in ((first_draft, 2), (second_draft, 3)):
            session.execute(
                update(Article)
                .where(Article.id == draft.id)  # type: ignore[arg-type]
                .values(created_at=base + timedelta(hours=created))
            )
    newest_first = ["S", "D2", "B", "D1", "A"]
    url = "/api/v1/articles?preview=true&limit=2"
    assert _titles(api, url, preview) == newest_first  # the default: -published_at
    assert _titles(api, url + "&sort=published_at", preview) == newest_first[::-1]
    assert _titles(api, "/api/v1/articles?limit=2", {}) == ["B", "A"]


def _plans(api: TestClient, url: str, headers: dict[str, str]) -> list[str]:
    """EXPLAIN of each statement of the request to `url` that sorts by the preview's
    expression."""
    return request_plans(api, url, "ORDER BY coalesce(", headers)


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/api/v1/articles?preview=true", "article"),
        ("/api/v1/articles?preview=true&sort=published_at", "article"),
        ("/api/v1/events?preview=true&sort=-published_at", "event"),
    ],
)
def test_a_preview_list_walks_the_index_of_its_sort(
    api: TestClient, factory: sessionmaker[Session], preview: dict[str, str], path: str, table: str
) -> None:
    with writing(factory) as session:
        for status in ("published", "draft") * 3:
            make_article(session, status=status)
            make_event(session, status=status)
    (plan,) = _plans(api, path, preview)
    if api.app.state.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        assert f"SCAN {table} USING INDEX ix_{table}_published_sort" in plan, plan
    else:
        assert f"Index Scan Backward using ix_{table}_published_sort" in plan or (
            f"Index Scan using ix_{table}_published_sort" in plan
        ), plan


def test_a_preview_topic_stream_walks_each_types_index(
    api: TestClient, factory: sessionmaker[Session], preview: dict[str, str]
) -> None:
    """PostgreSQL. (SQLite walks these indexes for a popular topic only, `_topic_plan`,
    which a few rows do not make; `_plans` on the bench's `large` data shows it does.)"""
    if api.app.state.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's planner")
    with writing(factory) as session:
        topic = make_topic(session, "Walked")
        for status in ("published", "draft"):
            make_article(session, status=status, topics=[topic.slug])
            make_event(session, status=status, topics=[topic.slug])
    (plan,) = _plans(api, "/api/v1/topics/walked/stream?preview=true", preview)
    for table in ("article", "event", "publication", "quote"):
        assert f"using ix_{table}_published_sort" in plan, plan
