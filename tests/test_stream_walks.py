"""A topic stream narrowed by what each item is best asked one at a time, as the topic's
public taggings come in order (`StreamPlan.asks_each`):

- SQLite (common words, a time most items changed since, other topics popular for the type)
  walks the topic's taggings and probes each item (`StreamPlan.walks_taggings`), not the
  type's items in order asking each for the tag: "Arms Control" (1% of the articles) with
  `q=anthology` took 78 ms a page at `large` (823 ms at `limit=100`), now 14 ms (46 ms).
- PostgreSQL (a time most items changed since, no rare words) asks each tagging's item in a
  subplan, not a semi-join it may hash: `q=security&updated_since=2020-01-01` at
  `limit=100` hashed every matching document, 1.2 s at `large`; now ~30 ms.

The same items, order, cursors and totals as the other plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries
from app.content.hints import PlanHints
from app.content.queries import ListParams, StreamPlan
from app.content.types import ARTICLE
from app.content.visibility import Viewer
from app.db import utcnow
from app.models import Topic
from tests.rest_factories import (
    PAST,
    make_article,
    make_event,
    make_publication,
    make_quote,
    make_topic,
    walk,
    writing,
)
from tests.support import count_queries, request_plans

NARROWINGS: list[dict[str, Any]] = [
    {"q": "hostage"},
    {"q": "hostage", "sort": "published_at"},
    {"updated_since": "2000-01-01T00:00:00Z"},
    {"topic": "shipping"},
    {"topic": "shipping", "q": "hostage", "sort": "published_at"},
    {"q": "hostage", "updated_since": "2000-01-01T00:00:00Z"},
]


def _seed(factory: sessionmaker[Session]) -> set[str]:
    """Items of every stream type tagged "piracy", some also "shipping", most with the word
    "hostage", the same time for several (ties broken by type and id); the public's items
    besides: untagged, a draft and a scheduled item with the word. Returns the titles
    (texts) of the public's piracy items."""
    public: set[str] = set()
    with writing(factory) as session:
        make_topic(session, "Piracy")
        make_topic(session, "Shipping")
        for i in range(9):
            topics = ["piracy", "shipping"] if i % 2 else ["piracy"]
            word = "convoy" if i % 3 == 0 else "hostage"
            when = PAST - timedelta(hours=i // 2)
            titles = [f"{kind} {word} {i}" for kind in ("Article", "Event", "Publication")]
            make_article(session, title=titles[0], topics=topics, published_at=when)
            make_event(session, title=titles[1], topics=topics, published_at=when)
            make_publication(session, title=titles[2], topics=topics, published_at=when)
            quote = f"Quote {word} {i}"
            make_quote(session, text=quote, topics=topics, published_at=when)
            public |= {*titles, quote}
        make_article(session, title="Untagged hostage")
        make_article(session, title="Draft hostage", topics=["piracy"], status="draft")
        make_event(
            session,
            title="Scheduled hostage",
            topics=["piracy"],
            published_at=utcnow() + timedelta(days=30),
        )
    return public


def _walked(api: TestClient, narrowing: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Every item of piracy's stream so narrowed, two a page; and each page's total and
    next cursor."""
    titles: list[str] = []
    pages: list[Any] = []
    params: dict[str, Any] = {**narrowing, "limit": 2}
    while True:
        response = api.get("/api/v1/topics/piracy/stream", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        titles += [item.get("title") or item["text"] for item in body["data"]]
        pages.append((body["meta"]["total"], body["meta"]["next_cursor"]))
        if body["meta"]["next_cursor"] is None:
            return titles, pages
        params["cursor"] = body["meta"]["next_cursor"]


def test_a_narrowed_stream_asks_each_tagged_item_and_finds_what_the_other_plan_finds(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    public = _seed(factory)
    sqlite = api.app.state.engine.dialect.name == "sqlite"  # type: ignore[attr-defined]
    # Piracy and shipping popular for every type (SQLite walks), the word common (and not
    # rare), most rows changed since any time (`_enough` is 0).
    monkeypatch.setattr(queries, "_is_popular", lambda *_: True)
    monkeypatch.setattr(queries, "words_are_common", lambda *_: True)
    monkeypatch.setattr(queries, "words_are_rare", lambda *_: False)
    monkeypatch.setattr(queries, "_WALK_FACTOR", 0)
    for narrowing in NARROWINGS:
        titles, pages = _walked(api, narrowing)
        wanted = {
            title
            for title in public
            if ("q" not in narrowing or "hostage" in title)
            and ("topic" not in narrowing or int(title.rsplit(" ", 1)[1]) % 2)
        }
        assert sorted(titles) == sorted(wanted), narrowing
        url = "/api/v1/topics/piracy/stream?" + urlencode(narrowing)
        (plan,) = request_plans(api, url, "AS rank")
        if sqlite:
            assert "ix_tagging_topic_type_public" in plan, plan
            for walked in ("article", "event", "publication", "quote"):
                assert f"SCAN {walked} USING INDEX" not in plan, plan
        elif "updated_since" in narrowing:
            # Each branch's taggings filtered by a subplan per row, not a semi-join.
            assert plan.count("Filter: (SubPlan") == 4, plan
        with monkeypatch.context() as other_plan:
            other_plan.setattr(StreamPlan, "asks_each", lambda *_: False)
            assert _walked(api, narrowing) == (titles, pages), narrowing


def test_a_narrowing_that_leaves_few_items_still_finds_them_first(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rare word, few changes since or (SQLite) a rare other topic: the few items are
    found first (the topic's taggings walked would be read to the end for a popular
    topic). PostgreSQL asks each item only with a time most items changed since."""
    _seed(factory)
    monkeypatch.setattr(queries, "_is_popular", lambda *_: True)
    monkeypatch.setattr(queries, "_WALK_FACTOR", 0)  # any change is many

    def asked(params: ListParams) -> list[bool]:
        plan = StreamPlan(session, Viewer(), params=params)
        return [plan.asks_each(ctype) for ctype in plan.types]

    wide = datetime(2000, 1, 1, tzinfo=UTC)
    with factory() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        monkeypatch.setattr(queries, "words_are_common", lambda *_: False)
        monkeypatch.setattr(queries, "words_are_rare", lambda *_: True)
        assert not any(asked(ListParams(q="hostage")))
        assert not any(asked(ListParams(q="hostage", updated_since=wide)))
        monkeypatch.setattr(queries, "words_are_common", lambda *_: True)
        monkeypatch.setattr(queries, "words_are_rare", lambda *_: False)
        assert all(asked(ListParams(q="hostage"))) == sqlite  # PostgreSQL: its semi-join
        assert all(asked(ListParams(q="hostage", updated_since=wide)))
        assert all(asked(ListParams(updated_since=wide)))
        recent = ListParams(updated_since=utcnow() + timedelta(days=1))
        assert not any(asked(recent))
        plan = StreamPlan(session, Viewer(), params=ListParams(q="hostage"))
        assert all(plan.walks_taggings(ctype) for ctype in plan.types) == sqlite
        preview = StreamPlan(session, Viewer(preview=True), params=ListParams(q="hostage"))
        assert not any(preview.walks_taggings(ctype) for ctype in preview.types)
        monkeypatch.setattr(queries, "_is_popular", lambda *_: False)
        assert not any(asked(ListParams(topics=["shipping"])))


def test_a_stream_narrowed_to_topics_tagging_fewer_items_reads_their_taggings(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL (`_reads_narrowing_first`): narrowed to other topics, a type's page is read
    from their taggings when they tag fewer of the type than the stream topic (each topic of
    a batch) and few enough for the page; else the stream topic's taggings are walked.
    Kidnapping narrowed to "Arms Control" (2,144 articles, counted popular for a list)
    walked 11,500 of kidnapping's articles for a page of 100: 200 ms at `large`, now 48."""
    with writing(factory) as session:
        for name in ("Big", "Mid", "Small"):
            make_topic(session, name)
        for i, topics in enumerate(
            [["big", "mid"]] * 3 + [["big"]] * 3 + [["mid", "small"], ["small"]]
        ):
            make_article(session, title=f"Tagged {i}", topics=topics)
        ids = {t.slug: t.id for t in session.scalars(select(Topic))}
    big, mid, small = ids["big"], ids["mid"], ids["small"]
    monkeypatch.setattr(queries, "_NARROWING", PlanHints())
    monkeypatch.setattr(queries, "_NARROWING_FACTOR", 10**6)  # few enough for any page

    def reads(narrowing: tuple[int, ...], topics: tuple[int, ...]) -> bool:
        with factory() as session:
            return queries._reads_narrowing_first(session, ARTICLE, narrowing, 21, topics)

    assert reads((mid,), (big,))  # Big tags 6 articles, Mid 4
    assert not reads((mid,), (mid,))
    assert not reads((mid,), (small,))
    assert not reads((mid,), (big, small))  # a batch: each topic must tag more
    assert not reads((mid, small), (big,))  # 4 + 2 taggings
    monkeypatch.setattr(queries, "_NARROWING", PlanHints())
    monkeypatch.setattr(queries, "_NARROWING_FACTOR", 0)  # none few enough
    assert not reads((mid,), (big,))
    monkeypatch.setattr(queries, "_NARROWING", PlanHints())
    monkeypatch.setattr(queries, "_NARROWING_FACTOR", 10**6)
    if api.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        return  # SQLite has no LATERAL: it walks (`walks_taggings`) or finds its items first
    engine = api.app.state.engine  # type: ignore[attr-defined]
    for stream, narrowing, read in (("big", "mid", 1), ("mid", "mid", 0), ("small", "mid", 0)):
        with count_queries(engine) as seen:
            walked = [
                item["title"]
                for item in walk(
                    api, f"/api/v1/topics/{stream}/stream", {"topic": narrowing, "limit": 2}
                )
            ]
        pages = [sql for sql in seen.statements if "UNION ALL" in sql]
        assert all(sql.count("FROM tagging AS narrowing") == read for sql in pages), pages
        tagged = {f"Tagged {i}" for i in (0, 1, 2, 6)}
        own = {"big": set(range(6)), "mid": {0, 1, 2, 6}, "small": {6, 7}}[stream]
        assert sorted(walked) == sorted(tagged & {f"Tagged {i}" for i in own})
    # Their items in order first, then each asked as it comes (a subplan above the sort):
    # asked before it, every one of them was (or a semi-join hashed every item passing).
    for narrowed in ({}, {"q": "tagged"}, {"updated_since": "2000-01-01T00:00:00Z"}):
        url = "/api/v1/topics/big/stream?" + urlencode({"topic": "mid", "limit": 2, **narrowed})
        (plan,) = request_plans(api, url, "AS rank")
        scan = plan.index("Subquery Scan on narrowed_article")
        assert "Filter: (SubPlan" in plan[scan:].splitlines()[1], plan
        titles = [item["title"] for item in walk(api, url)]
        assert sorted(titles) == ["Tagged 0", "Tagged 1", "Tagged 2"], narrowed
