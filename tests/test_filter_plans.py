"""Lists narrowed by a filter read their rows where the filter's index has them.

A publication's `year` is filtered as the year sort has it, `coalesce(year, 0)`, the
expression its indexes are on (migration 9d84df82911f): said of `year`, PostgreSQL walked
the sort's index from the latest year down to the one asked (50 ms at `bench` scale
`large`). SQLite, narrowed to few rows by an equality, sorts them after reading them by
their filter's index (`queries.list_items`): it walked the sort's index instead, reading
every publication published since the year asked (72 ms). Both databases use an
expression index only when the query's expression matches the index's: the plans below
check that it does.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries as queries_module
from app.content.types import ALL_TYPES
from app.db import utcnow
from tests.rest_factories import make_event, make_publication, walk, writing
from tests.support import request_plans


@pytest.fixture
def years(factory: sessionmaker[Session]) -> dict[int | None, list[str]]:
    """Publications of 2019, 2020 and 2021 and some without a year, by year, the titles
    in the order of publication."""
    base = utcnow() - timedelta(days=30)
    by_year: dict[int | None, list[str]] = {}
    with writing(factory) as session:
        for i in range(12):
            year = (2019, 2020, None, 2021)[i % 4]
            title = f"Paper {i:02d} of {year}"
            published = base + timedelta(hours=i)
            make_publication(session, title=title, year=year, published_at=published)
            by_year.setdefault(year, []).append(title)
    return by_year


@pytest.mark.parametrize("sort", [None, "-published_at", "published_at", "title", "year"])
def test_a_year_lists_that_years_publications_page_by_page(
    api: TestClient, years: dict[int | None, list[str]], sort: str | None
) -> None:
    params = {"year": 2020, "limit": 1, **({"sort": sort} if sort else {})}
    titles = [item["title"] for item in walk(api, "/api/v1/publications", params)]
    expected = years[2020]
    if sort == "-published_at":
        expected = expected[::-1]
    assert sorted(titles) == sorted(expected)
    if sort in ("-published_at", "published_at", "title"):
        assert titles == (sorted(expected) if sort == "title" else expected)
    total = api.get("/api/v1/publications", params=params).json()["meta"]["total"]
    assert total == len(expected)


def test_year_0_is_no_publications_year(
    api: TestClient, years: dict[int | None, list[str]]
) -> None:
    """The year sort gives 0 to a publication without a year; `year=0` does not find it."""
    body = api.get("/api/v1/publications", params={"year": 0}).json()
    assert body["data"] == []
    assert body["meta"]["total"] == 0
    assert len(api.get("/api/v1/publications").json()["data"]) == 12


def test_a_year_is_a_range_of_the_year_sorts_index(
    api: TestClient, years: dict[int | None, list[str]]
) -> None:
    """PostgreSQL. (SQLite, without statistics of a few rows, reads them by the visibility
    index; on the bench's `large` data, analyzed, it takes this range.)"""
    if api.app.state.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's planner")
    (plan,) = request_plans(api, "/api/v1/publications?year=2020", "coalesce(publication.year")
    assert "ix_publication_year_sort" in plan, plan
    assert "Index Cond: (COALESCE(year, 0) =" in plan, plan


def test_sqlite_reads_a_years_publications_by_their_index_then_sorts_them(
    api: TestClient, years: dict[int | None, list[str]]
) -> None:
    """Not by walking the index of the sort, `published_at`, which may read every
    publication published since. (PostgreSQL weighs both with its statistics.)"""
    if api.app.state.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("SQLite's planner")
    url = "/api/v1/publications?year=2021&sort=-published_at"
    (plan,) = request_plans(api, url, "coalesce(publication.year")
    assert "ix_publication_published_at" not in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" in plan, plan


def test_sqlite_reads_few_upcoming_events_by_their_time_and_walks_for_many(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`upcoming=true&sort=title`: few upcoming events are read from their range of the
    `starts_at` index, then sorted; many, by walking the title index and checking each.
    Either beats the visibility index and a sort of every public event (0.1 s at `large`;
    `upcoming=false`, 0.46 s)."""
    if api.app.state.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("SQLite's planner")
    now = utcnow()
    with writing(factory) as session:
        for i in range(6):
            make_event(session, starts_at=now + timedelta(days=i - 3, hours=1))
    url = "/api/v1/events?upcoming=true&sort=title"
    (few,) = request_plans(api, url, "AS sort_value")
    assert "ix_event_starts_at" in few, few
    assert "USE TEMP B-TREE FOR ORDER BY" in few, few
    monkeypatch.setattr(queries_module, "_WALK_FACTOR", 0)  # any upcoming event is many
    (many,) = request_plans(api, url, "AS sort_value")
    assert "SCAN event USING INDEX ix_event_title" in many, many
    # Another time, oldest first: the walk would read every event before the upcoming ones.
    newest_first = request_plans(api, url.replace("title", "-created_at"), "AS sort_value")
    assert "SCAN event USING INDEX ix_event_created_at" in newest_first[0], newest_first
    (oldest_first,) = request_plans(api, url.replace("title", "created_at"), "AS sort_value")
    assert "ix_event_created_at" not in oldest_first, oldest_first


def test_sqlite_reads_a_short_range_of_time_and_walks_a_long_one(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events from a time on, sorted by title: few are read from their range of the
    `starts_at` index, then sorted; many, by walking the title index and checking each.
    Sorted by another time, beginning where the range is not (the oldest first), the range
    is read and sorted however many: times go together, and the walk would read every
    event created before the range's first."""
    if api.app.state.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("SQLite's planner")
    now = utcnow()
    with writing(factory) as session:
        for i in range(6):
            make_event(session, starts_at=now + timedelta(days=i - 3))
    url = f"/api/v1/events?from={now.isoformat().replace('+', '%2B')}"
    (few,) = request_plans(api, url + "&sort=title", "AS sort_value")
    assert "ix_event_starts_at" in few, few
    assert "USE TEMP B-TREE FOR ORDER BY" in few, few
    monkeypatch.setattr(queries_module, "_WALK_FACTOR", 0)  # any event is many
    (many,) = request_plans(api, url + "&sort=title", "AS sort_value")
    assert "SCAN event USING INDEX ix_event_title" in many, many
    (newest_first,) = request_plans(api, url + "&sort=-created_at", "AS sort_value")
    assert "SCAN event USING INDEX ix_event_created_at" in newest_first, newest_first
    (oldest_first,) = request_plans(api, url + "&sort=created_at", "AS sort_value")
    assert "ix_event_created_at" not in oldest_first, oldest_first
    assert "USE TEMP B-TREE FOR ORDER BY" in oldest_first, oldest_first


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?from=2025-01-01T00:00:00Z&sort=created_at",
        "/api/v1/events?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&sort=-updated_at",
        "/api/v1/events?upcoming=true&sort=published_at",
        "/api/v1/articles?published_after=2025-06-01T00:00:00Z&sort=created_at",
    ],
)
def test_postgresql_reads_a_range_of_time_sorted_by_another_time_against_it(
    api: TestClient, url: str
) -> None:
    """Not by walking the other time's index from where the range is not: times go
    together, and the walk read every row before the range (0.22-0.25 s at `large`)."""
    if api.app.state.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's planner (SQLite: the tests above)")
    sort = url.rsplit("sort=", 1)[1].lstrip("-")
    (plan,) = request_plans(api, url, "AS sort_value")
    table = url.split("/")[3].split("?")[0][:-1]
    assert f"ix_{table}_{sort}" not in plan, plan


@pytest.mark.parametrize(
    ("collection", "sort"),
    [(ctype.collection, name) for ctype in ALL_TYPES for name in ctype.sorts],
)
def test_every_sort_a_list_offers_walks_an_index(
    api: TestClient, collection: str, sort: str
) -> None:
    """A page of a whole collection in any order it offers is read from an index in that
    order, not sorted from every row: the quotes' `position` had none (0.8 s at `large`
    with a common word, on SQLite)."""
    for direction in ("", "-"):
        (plan,) = request_plans(api, f"/api/v1/{collection}?sort={direction}{sort}", "sort_value")
        if api.app.state.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
            assert "USE TEMP B-TREE" not in plan.split("SCAN page")[0], plan
        else:
            assert not re.search(r"(^|->  )Sort ", plan), plan  # an Incremental Sort may be
