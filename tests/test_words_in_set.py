"""SQLite, a rare topic's items and words few items hold but many more than the topic tags
(`queries._words_from_set`): each of the topic's items is looked up among the words'
matches (`search.matches_in_set`), not each match read for its item and then its tag.
At `large`, a topic on 844 articles with `q=israel` (7,500 articles): 19 -> 6 ms a page;
`topics(first: 10) { stream(filter: {q}) }` 160 -> 100 ms on a slow machine. And a topic's
public stream with such words, if enough items hold them (`queries._words_dense`), walks
the topic's taggings, each item looked up among the matches: kidnapping's with `q=israel`
178-242 -> 36 ms there.

The same items, order, cursors and totals as the other plan, lists and streams."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries
from app.content.hints import PlanHints
from app.content.queries import ListParams, StreamPlan
from app.content.types import ARTICLE, QUOTE
from app.content.visibility import Viewer
from app.models import Topic
from tests.rest_factories import make_article, make_quote, make_topic, writing
from tests.support import explained, request_plans


def _seed(factory: sessionmaker[Session]) -> int:
    """Piracy tags 4 articles and 3 quotes, most with "hostage"; 12 untagged articles and
    8 untagged quotes have the word, a draft tagged piracy too; "convoy" is only in
    piracy's. Returns piracy's id."""
    with writing(factory) as session:
        make_topic(session, "Piracy")
        for i in range(4):
            word = "convoy" if i == 0 else "hostage"
            make_article(session, title=f"Tagged {word} {i}", topics=["piracy"])
        for i in range(3):
            make_quote(session, text=f"Tagged quote hostage {i}", topics=["piracy"])
        for i in range(12):
            make_article(session, title=f"Untagged hostage {i}")
        for i in range(8):
            make_quote(session, text=f"Untagged quote hostage {i}")
        make_article(session, title="Draft hostage", topics=["piracy"], status="draft")
        return session.scalars(select(Topic.id).where(Topic.slug == "piracy")).one()


def _pages(api: TestClient, url: str, params: dict[str, Any]) -> list[Any]:
    """Every page at `limit=2`: each one's titles (texts), total and next cursor."""
    pages: list[Any] = []
    params = {**params, "limit": 2}
    while True:
        response = api.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        titles = [item.get("title") or item["text"] for item in body["data"]]
        pages.append((titles, body["meta"]["total"], body["meta"]["next_cursor"]))
        if body["meta"]["next_cursor"] is None:
            return pages
        params["cursor"] = body["meta"]["next_cursor"]


def _statements(api: TestClient, url: str) -> list[str]:
    """The SQL of the statements of the request to `url` that match words."""
    found = explained(
        api.app.state.engine,  # type: ignore[attr-defined]
        lambda: api.get(url).raise_for_status(),
        lambda sql: "search_fts MATCH" in sql,
    )
    return [" ".join(sql.split()) for sql, _ in found]


def test_the_rule_looks_up_a_rare_topics_items_among_many_more_matches(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    piracy = _seed(factory)
    monkeypatch.setattr(queries, "_WORDS_SET", PlanHints())
    with factory() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's plan: its full-text index counts the matches")
        # 16 articles have "hostage" (a draft among them), piracy tags 5 articles (the
        # draft too): more than twice as many.
        assert queries._words_from_set(session, ARTICLE, "hostage", [piracy])
        assert queries._words_from_set(session, QUOTE, "hostage", [piracy])  # 11 > 2 x 3
        assert not queries._words_from_set(session, ARTICLE, "convoy", [piracy])  # 1
        assert not queries._words_from_set(session, ARTICLE, "nowhere", [piracy])
        monkeypatch.setattr(queries, "_WORDS_SET_FACTOR", 4)  # 16 <= 4 x 5
        monkeypatch.setattr(queries, "_WORDS_SET", PlanHints())
        assert not queries._words_from_set(session, ARTICLE, "hostage", [piracy])
        monkeypatch.setattr(queries, "_WORDS_SET_FACTOR", 2)
        monkeypatch.setattr(queries, "_SMALL_TOPIC", 4)  # a popular topic: too many items
        monkeypatch.setattr(queries, "_WORDS_SET", PlanHints())
        assert not queries._words_from_set(session, ARTICLE, "hostage", [piracy])


@pytest.mark.parametrize(
    "url",
    ["/api/v1/articles", "/api/v1/quotes", "/api/v1/topics/piracy/stream"],
    ids=["articles", "quotes", "stream"],
)
def test_a_rare_topics_items_looked_up_among_the_matches_are_what_the_matches_give(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    _seed(factory)
    sqlite = api.app.state.engine.dialect.name == "sqlite"  # type: ignore[attr-defined]
    monkeypatch.setattr(queries, "_WORDS_SET", PlanHints())
    monkeypatch.setattr(queries, "words_are_common", lambda *_: False)  # the words are rare
    params = {"q": "hostage"} if url.endswith("stream") else {"q": "hostage", "topic": "piracy"}
    for sort in (None, "published_at"):
        if sort:
            params["sort"] = sort
        pages = _pages(api, url, params)
        titles = sorted(t for page in pages for t in page[0])
        articles = [f"Tagged hostage {i}" for i in (1, 2, 3)]
        quotes = [f"Tagged quote hostage {i}" for i in (0, 1, 2)]
        wanted = {"articles": articles, "quotes": quotes, "stream": articles + quotes}
        assert titles == sorted(wanted[url.rsplit("/", 1)[1]])
        assert {page[1] for page in pages} == {len(titles)}
        if sqlite:
            # Each item's document looked up by (type, item) among the matches (a list
            # built once), not each match's document read for its item.
            sent = " ".join(_statements(api, f"{url}?{urlencode(params)}"))
            kinds = {"articles": ["article"], "quotes": ["quote"], "stream": ["article", "quote"]}
            for kind in kinds[url.rsplit("/", 1)[1]]:
                looked_up = f"document.entity_id = {kind}.id AND document.id IN (SELECT rowid"
                assert looked_up in sent, sent
                assert f"{kind}.id IN (SELECT search_document.entity_id" not in sent, sent
        with monkeypatch.context() as other_plan:
            other_plan.setattr(queries, "_words_from_set", lambda *_: False)
            assert _pages(api, url, params) == pages


def test_the_rule_walks_a_popular_topic_for_words_many_items_hold(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(factory)
    with factory() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's plan: its full-text index counts the matches")
        # 17 articles (ids up to 17), 16 with "hostage": 16² >= 15 x 17, not >= 16 x 17.
        for page, dense in ((15, True), (16, False)):
            monkeypatch.setattr(queries, "_DENSE_WORDS", PlanHints())
            monkeypatch.setattr(queries, "_DENSE_PAGE", page)
            assert queries._words_dense(session, ARTICLE, "hostage") is dense
        assert not queries._words_dense(session, ARTICLE, "convoy")


@pytest.mark.parametrize("sort", [None, "published_at"])
def test_a_popular_topics_stream_walks_its_taggings_for_words_many_items_hold(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, sort: Any
) -> None:
    """SQLite: kidnapping's stream with `q=israel` (7,500 articles, 8,000 events at
    `large`) read each match for its item and its tag: 180-240 ms on a slow machine; its
    taggings walked, each item looked up among the matches, 36 ms."""
    _seed(factory)
    sqlite = api.app.state.engine.dialect.name == "sqlite"  # type: ignore[attr-defined]
    monkeypatch.setattr(queries, "_is_popular", lambda *_: True)
    monkeypatch.setattr(queries, "words_are_common", lambda *_: False)  # rare words
    monkeypatch.setattr(queries, "_words_dense", lambda *_: True)  # but dense enough
    params = {"q": "hostage", **({"sort": sort} if sort else {})}
    pages = _pages(api, "/api/v1/topics/piracy/stream", params)
    titles = sorted(t for page in pages for t in page[0])
    articles = [f"Tagged hostage {i}" for i in (1, 2, 3)]
    assert titles == sorted(articles + [f"Tagged quote hostage {i}" for i in (0, 1, 2)])
    if sqlite:
        url = f"/api/v1/topics/piracy/stream?{urlencode(params)}"
        sent = " ".join(_statements(api, url))
        (plan,) = request_plans(api, url, "AS rank")
        assert "ix_tagging_topic_type_public" in plan, plan  # the taggings walked
        for kind in ("article", "event", "publication", "quote"):
            assert f"SCAN {kind} USING INDEX" not in plan, plan
            looked_up = f"document.entity_id = {kind}.id AND document.id IN (SELECT rowid"
            assert looked_up in sent, sent
    with monkeypatch.context() as other_plan:
        other_plan.setattr(queries, "_words_dense", lambda *_: False)
        assert _pages(api, "/api/v1/topics/piracy/stream", params) == pages


def test_a_preview_stream_does_not_walk_the_sort_index_for_words_many_items_hold(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preview walks the type's sort index for a popular topic, each item asked for the
    tag: with words, that walk is longer by the topic's share of the type ("Arms Control",
    1.4% of the articles at `large`: 290 ms a list page walked so). It reads the matches
    first; the public's stream, which walks the topic's taggings, looks each up."""
    piracy = _seed(factory)
    monkeypatch.setattr(queries, "_is_popular", lambda *_: True)
    monkeypatch.setattr(queries, "words_are_common", lambda *_: False)
    monkeypatch.setattr(queries, "_words_dense", lambda *_: True)
    with factory() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's plan")

        def sql(viewer: Viewer) -> str:
            plan = StreamPlan(session, viewer, params=ListParams(q="hostage"))
            branch = plan.branch(ARTICLE, piracy, 20, None)
            return " ".join(str(branch.compile(session.get_bind())).split())

        looked_up = "document.entity_id = article.id AND document.id IN (SELECT rowid"
        assert looked_up in sql(Viewer())
        assert looked_up not in sql(Viewer(preview=True))
