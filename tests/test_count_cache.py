"""Exact totals are kept per content version (`app.content.counts`): they must follow every
write — through the API or behind its back — and the clock, and never cost a scan twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.content.queries import ListParams, list_items, topic_stream
from app.content.types import ARTICLE, EVENT
from app.content.visibility import Viewer
from app.models import Topic
from tests.admin_helpers import bearer, make_key
from tests.support import count_queries


def _total(client: TestClient, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, response.text
    total: int = response.json()["meta"]["total"]
    return total


def _counts(statements: list[str]) -> list[str]:
    return [s for s in statements if "count(" in s.lower()]


def test_totals_follow_writes_through_the_api_and_behind_its_back(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(response_cache=False)
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "writer", "content:write"))
        client.post("/api/v1/topics", json={"name": "Counted", "slug": "counted"}, headers=writer)
        for i in range(3):
            created = client.post(
                "/api/v1/articles",
                json={"title": f"Counted {i}", "status": "published", "topics": ["counted"]},
                headers=writer,
            )
            assert created.status_code == 201, created.text
        lists = ["/api/v1/articles?limit=1", "/api/v1/articles?topic=counted&limit=1"]
        stream = "/api/v1/topics/counted/stream?limit=1"
        assert [_total(client, u) for u in [*lists, stream]] == [3, 3, 3]

        # Asked again: no count query runs.
        with count_queries(app.state.engine) as queries:
            assert [_total(client, u) for u in [*lists, stream]] == [3, 3, 3]
        assert not _counts(queries.statements), queries.statements

        client.post(
            "/api/v1/articles",
            json={"title": "Counted 3", "status": "published", "topics": ["counted"]},
            headers=writer,
        )
        assert [_total(client, u) for u in [*lists, stream]] == [4, 4, 4]

        # Behind the API's back (psql, a script): the triggers bump the version all the same.
        with app.state.engine.begin() as connection:
            connection.execute(text("UPDATE article SET status = 'draft' WHERE slug = 'counted-0'"))
        assert [_total(client, u) for u in [*lists, stream]] == [3, 3, 3]
        with app.state.engine.begin() as connection:
            topic_id = connection.scalar(text("SELECT id FROM topic WHERE slug = 'counted'"))
            connection.execute(
                text("DELETE FROM tagging WHERE topic_id = :t AND entity_type = 'article'"),
                {"t": topic_id},
            )
        assert [_total(client, u) for u in lists] == [3, 0]

        assert client.delete("/api/v1/articles/counted-1", headers=writer).status_code == 204
        assert _total(client, lists[0]) == 2


def test_a_scheduled_item_counts_from_its_time_on(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(response_cache=False)
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "writer", "content:write"))
        client.post("/api/v1/topics", json={"name": "Soon", "slug": "soon"}, headers=writer)
        at = datetime.now(UTC) + timedelta(hours=1)
        for i, when in enumerate([None, None, at.isoformat()]):
            body: dict[str, Any] = {"title": f"Soon {i}", "status": "published", "topics": ["soon"]}
            if when:
                body["published_at"] = when
            assert client.post("/api/v1/articles", json=body, headers=writer).status_code == 201

    def totals(now: datetime, preview: bool = False) -> tuple[int, int]:
        viewer = Viewer(preview=preview, now=now)
        with app.state.session_factory() as session:
            page = list_items(session, ARTICLE, ListParams(limit=1), viewer, "secret")
            topic = session.query(Topic).filter_by(slug="soon").one()
            stream = topic_stream(session, topic, viewer, 1, None, "secret")
            return page.total, stream.total

    before, after = at - timedelta(minutes=1), at + timedelta(minutes=1)
    assert totals(before) == (2, 2)
    assert totals(before) == (2, 2)  # kept
    assert totals(after) == (3, 3)  # its time came: counted again
    assert totals(before, preview=True) == (3, 3)  # a preview counts scheduled items


def test_upcoming_totals_are_kept_until_an_event_ends(app_factory: Callable[..., FastAPI]) -> None:
    """`upcoming` lists are bounded on `starts_at` by the longest event (so the index finds
    them at a million rows) and their totals are kept until the next event ends; both must
    come out exactly as the plain condition, whatever the clock says."""
    app = app_factory(response_cache=False)
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    events = {  # title: (starts, ends)
        "long ago": (t0 - timedelta(days=400), None),
        "yesterday": (t0 - timedelta(days=1), t0 - timedelta(hours=20)),
        "week-long, under way": (t0 - timedelta(days=5), t0 + timedelta(days=2)),
        "ends in an hour": (t0 - timedelta(hours=1), t0 + timedelta(hours=1)),
        "tomorrow": (t0 + timedelta(days=1), None),
        "next month": (t0 + timedelta(days=30), t0 + timedelta(days=30, hours=2)),
    }
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "writer", "content:write"))
        for title, (starts, ends) in events.items():
            body: dict[str, Any] = {
                "title": title,
                "status": "published",
                "starts_at": starts.isoformat(),
            }
            if ends is not None:
                body["ends_at"] = ends.isoformat()
            assert client.post("/api/v1/events", json=body, headers=writer).status_code == 201

    def listed(now: datetime, upcoming: bool) -> tuple[list[str], int]:
        params = ListParams(limit=2, filters={"upcoming": upcoming})
        with app.state.session_factory() as session:
            pages, cursor, total = [], None, -1
            while True:
                params.cursor = cursor
                page = list_items(session, EVENT, params, Viewer(now=now), "secret")
                pages += [row.title for row in page.items]
                if total == -1:
                    total = page.total
                cursor = page.next_cursor
                if cursor is None:
                    return pages, total

    def expected(now: datetime, upcoming: bool) -> list[str]:
        ended = {t: (e or s) < now for t, (s, e) in events.items()}
        chosen = [t for t in events if ended[t] != upcoming]
        return sorted(chosen, key=lambda t: events[t][0], reverse=not upcoming)

    for now in [
        t0,
        t0,  # kept
        t0 + timedelta(minutes=59),
        t0 + timedelta(hours=1, seconds=1),  # "ends in an hour" has ended
        t0 + timedelta(days=1, minutes=1),  # "tomorrow" (no end) has started, so ended
        t0 + timedelta(days=2, seconds=1),  # the week-long one has ended
        t0 + timedelta(days=31),
    ]:
        for upcoming in (True, False):
            titles, total = listed(now, upcoming)
            assert titles == expected(now, upcoming), (now, upcoming)
            assert total == len(titles), (now, upcoming, total)


def _recounts(client: TestClient, url: str) -> int:
    """How many count statements answering `url` runs (0: its total was kept)."""
    with count_queries(client.app.state.engine) as queries:  # type: ignore[attr-defined]
        _total(client, url)
    return len(_counts(queries.statements))


def test_a_write_recounts_only_the_totals_it_can_change(
    app_factory: Callable[..., FastAPI],
) -> None:
    """Totals are kept per content type: editing a person leaves the totals of articles and
    events alone; editing an event recounts events (and the events of the topic streams
    holding them, one statement of four) but not articles; renaming a topic recounts the
    lists filtered by topic only."""
    app = app_factory(response_cache=False)
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "writer", "content:write"))
        assert (
            client.post(
                "/api/v1/topics", json={"name": "Typed", "slug": "typed"}, headers=writer
            ).status_code
            == 201
        )
        assert (
            client.post(
                "/api/v1/people", json={"name": "Pat Typed", "slug": "pat-typed"}, headers=writer
            ).status_code
            == 201
        )
        for i in range(2):
            for collection, extra in (
                ("articles", {}),
                ("events", {"starts_at": f"2030-01-0{i + 1}T10:00:00Z"}),
            ):
                body = {
                    "title": f"Typed {collection} {i}",
                    "slug": f"typed-{collection}-{i}",
                    "status": "published",
                    "topics": ["typed"],
                    **extra,
                }
                created = client.post(f"/api/v1/{collection}", json=body, headers=writer)
                assert created.status_code == 201, created.text
        articles, events = "/api/v1/articles?limit=1", "/api/v1/events?limit=1"
        by_topic, stream = (
            "/api/v1/articles?topic=typed&limit=1",
            "/api/v1/topics/typed/stream?limit=1",
        )
        urls = [articles, events, by_topic, stream]
        assert [_total(client, u) for u in urls] == [2, 2, 2, 4]
        assert [_recounts(client, u) for u in urls] == [0, 0, 0, 0]

        def edit(path: str, body: dict[str, Any]) -> None:
            response = client.patch(path, json=body, headers=writer)
            assert response.status_code == 200, response.text

        edit("/api/v1/people/pat-typed", {"bio": "A new bio."})
        assert [_recounts(client, u) for u in urls] == [0, 0, 0, 0]

        edit("/api/v1/events/typed-events-0", {"title": "Typed events, renamed"})
        assert [_recounts(client, u) for u in urls] == [0, 1, 0, 1]
        assert [_recounts(client, u) for u in urls] == [0, 0, 0, 0]

        edit("/api/v1/topics/typed", {"name": "Typed, renamed"})
        assert [_recounts(client, u) for u in urls] == [0, 0, 1, 0]

        # The totals still follow the rows: a withdrawn article leaves every list it was in.
        edit("/api/v1/articles/typed-articles-1", {"status": "draft"})
        assert [_total(client, u) for u in urls] == [1, 2, 1, 3]


def test_type_versions_follow_the_types_of_the_rows_written(
    client: TestClient, writer: dict[str, str]
) -> None:
    """The triggers bump the types a statement's rows belong to, whoever writes (here raw
    SQL): `tagging` and `search_document` by each row's `entity_type`."""
    assert (
        client.post(
            "/api/v1/topics", json={"name": "Versioned", "slug": "versioned"}, headers=writer
        ).status_code
        == 201
    )
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def versions() -> dict[str, int]:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT name, version FROM type_version"))
            return {name: version for name, version in rows}

    def bumped(*statements: str) -> set[str]:
        before = versions()
        with engine.begin() as connection:
            topic = connection.scalar(text("SELECT id FROM topic WHERE slug = 'versioned'"))
            for statement in statements:
                connection.execute(text(statement), {"topic": topic})
        after = versions()
        assert set(after) == {
            "topic",
            "organization",
            "person",
            "article",
            "quote",
            "event",
            "publication",
            "resource",
        }
        return {name for name in after if after[name] != before[name]}

    tag = "INSERT INTO tagging (topic_id, entity_type, entity_id, position) VALUES (:topic, '{}', {}, 0)"
    assert bumped(tag.format("event", 1), tag.format("event", 2)) == {"event"}
    assert bumped(
        "UPDATE tagging SET entity_type = 'article' WHERE entity_id = 1 AND topic_id = :topic"
    ) == {"event", "article"}
    assert bumped("DELETE FROM tagging WHERE topic_id = :topic") == {"event", "article"}
    assert bumped("DELETE FROM tagging WHERE topic_id = -1") == set()  # no row, no type
    assert bumped(
        "INSERT INTO search_document (entity_type, entity_id, title, body) "
        "VALUES ('quote', 7, 'Seven', '')"
    ) == {"quote"}
    assert bumped("UPDATE topic SET name = 'Versioned again' WHERE id = :topic") == {"topic"}
    if engine.dialect.name == "postgresql":
        assert len(bumped("TRUNCATE search_document")) == 8  # a truncate says nothing of types


def test_a_total_filtered_by_an_item_follows_that_item(app_factory: Callable[..., FastAPI]) -> None:
    """A list filtered by another item reads that item's type too (`reads`): when the slug
    `cited` passes from one article to another, the quotes of `cited` are counted again,
    though no quote changed."""
    app = app_factory(response_cache=False)
    with TestClient(app) as client:
        writer = bearer(make_key(app.state.session_factory, "writer", "content:write"))
        for slug, quotes in (("cited", 2), ("other", 3)):
            article = {"title": slug, "slug": slug, "status": "published"}
            assert client.post("/api/v1/articles", json=article, headers=writer).status_code == 201
            for i in range(quotes):
                quote = {"text": f"{slug} {i}", "article": slug, "status": "published"}
                assert client.post("/api/v1/quotes", json=quote, headers=writer).status_code == 201
        url = "/api/v1/quotes?article=cited&limit=1"
        assert _total(client, url) == 2
        assert _recounts(client, url) == 0
        for slug, new in (("cited", "was-cited"), ("other", "cited")):
            moved = client.patch(f"/api/v1/articles/{slug}", json={"slug": new}, headers=writer)
            assert moved.status_code == 200, moved.text
        assert _total(client, url) == 3
