"""Exact totals of lists with words (`app.content.word_counts`).

On PostgreSQL a total with words alone is counted from the search documents, through the
GIN index of the type's documents (migration `search_index_per_type`), and the other
totals with words are planned without sequential scans: the totals must stay what the
pages hold, on both databases, for the public and in preview, whatever else narrows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries, word_counts
from app.content.hints import PlanHints
from app.content.queries import ListParams, list_items
from app.content.types import ARTICLE
from app.content.visibility import Viewer
from app.content.word_counts import COUNTING_WORDS
from tests.admin_helpers import PREVIEW, bearer
from tests.graphql_support import gql
from tests.rest_factories import (
    PAST,
    make_article,
    make_event,
    make_key,
    make_person,
    make_topic,
    walk,
    writing,
)
from tests.support import count_queries

WORD = "ransom"


@pytest.fixture
def seeded(api: TestClient, factory: sessionmaker[Session]) -> dict[str, Any]:
    """Articles and events with and without the word, on two topics, some hidden from the
    public (a draft, a scheduled article, a deleted one), some written by one person."""
    later = "2999-01-01T00:00:00Z"
    with writing(factory) as session:
        make_topic(session, "Kidnapping")
        make_topic(session, "Piracy")
        make_person(session, "Ann Writer")
        for i in range(5):
            topics = ["kidnapping", "piracy"] if i % 2 else ["kidnapping"]
            authors = ["ann-writer"] if i < 2 else []
            make_article(session, title=f"The {WORD} note {i}", topics=topics, authors=authors)
        make_article(session, title="Another story", topics=["kidnapping"])
        make_article(session, title=f"Draft {WORD}", status="draft", topics=["kidnapping"])
        make_article(session, title=f"Due {WORD}", published_at=None, topics=["kidnapping"])
        make_article(session, title=f"Gone {WORD}", slug="gone", topics=["kidnapping"])
        for i in range(3):
            make_event(session, title=f"A {WORD} seminar {i}", topics=["kidnapping"])
    writer = bearer(make_key(factory, "content:write"))
    scheduled = {"status": "published", "published_at": later}
    assert api.patch("/api/v1/articles/due-ransom", json=scheduled, headers=writer).is_success
    assert api.delete("/api/v1/articles/gone", headers=writer).status_code == 204
    return {"preview": bearer(make_key(factory, PREVIEW))}


def _total_is_what_the_pages_hold(
    api: TestClient, url: str, params: dict[str, Any], headers: dict[str, str] | None = None
) -> int:
    """The total of `url` (a page of one item, so it is counted), checked against the
    items its pages hold."""
    first = api.get(url, params={**params, "limit": 1}, headers=headers or {})
    assert first.status_code == 200, first.text
    total = first.json()["meta"]["total"]
    items = walk_with(api, url, {**params, "limit": 2}, headers or {})
    assert total == len(items), (url, params, total, [i.get("title") for i in items])
    return int(total)


def walk_with(
    api: TestClient, url: str, params: dict[str, Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    if not headers:
        return walk(api, url, params)
    items: list[dict[str, Any]] = []
    body = api.get(url, params=params, headers=headers).json()
    while True:
        items.extend(body["data"])
        if body["links"]["next"] is None:
            return items
        body = api.get(body["links"]["next"], headers=headers).json()


@pytest.mark.parametrize(
    ("url", "params", "public", "preview"),
    [
        ("/api/v1/articles", {"q": WORD}, 5, 7),
        ("/api/v1/articles", {"q": f"{WORD} note"}, 5, 5),
        ("/api/v1/articles", {"q": "nothing"}, 0, 0),
        ("/api/v1/articles", {"q": WORD, "topic": "piracy"}, 2, 2),
        ("/api/v1/articles", {"q": WORD, "author": "ann-writer"}, 2, 2),
        ("/api/v1/events", {"q": WORD}, 3, 3),
        ("/api/v1/topics/kidnapping/stream", {"q": WORD}, 8, 10),
        ("/api/v1/topics/kidnapping/stream", {"q": WORD, "topic": "piracy"}, 2, 2),
        ("/api/v1/topics/piracy/stream", {"q": WORD}, 2, 2),
    ],
)
@pytest.mark.parametrize("items", ["few", "many"])
def test_totals_with_words_are_what_the_pages_hold(
    api: TestClient,
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    items: str,
    url: str,
    params: dict[str, Any],
    public: int,
    preview: int,
) -> None:
    """PostgreSQL counts the matches among few items (a list's other conditions leave)
    as among many, by other statements: both are taken here."""
    if items == "many":
        monkeypatch.setattr(word_counts, "FEW_ITEMS", 0)
    assert _total_is_what_the_pages_hold(api, url, params) == public
    previewing = {**params, "preview": "true"}
    assert _total_is_what_the_pages_hold(api, url, previewing, seeded["preview"]) == preview


def test_graphql_total_counts_with_words_are_exact(api: TestClient, seeded: dict[str, Any]) -> None:
    data = gql(
        api,
        f"""{{ articles(first: 1, filter: {{q: "{WORD}"}}) {{ totalCount }}
        people(first: 5) {{ nodes {{ slug articles(first: 1, filter: {{q: "{WORD}"}}) {{
          totalCount }} }} }} }}""",
    )
    assert data["articles"]["totalCount"] == 5
    (ann,) = [p for p in data["people"]["nodes"] if p["slug"] == "ann-writer"]
    assert ann["articles"]["totalCount"] == 2


def test_the_transaction_plans_its_later_statements_as_before(
    api: TestClient, seeded: dict[str, Any], factory: sessionmaker[Session]
) -> None:
    """The planner settings of a count with words last for its statement only."""
    with factory() as session:
        before = {n: _setting(session, n) for n in COUNTING_WORDS}
        for params in (ListParams(q=WORD, limit=1), ListParams(q=WORD, limit=1, topics=["piracy"])):
            page = list_items(session, ARTICLE, params, Viewer(), "secret")
            assert page.total == (5 if not params.topics else 2)
            assert {n: _setting(session, n) for n in COUNTING_WORDS} == before


def _setting(session: Session, name: str) -> str | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(session.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar_one())


@pytest.fixture
def plans_as_run(api: TestClient) -> Iterator[Callable[..., list[tuple[str, str]]]]:
    """`plans(*avoid)`: from then on, the (SQL, EXPLAIN) of each SELECT sent to the
    database, explained right after it ran, in its transaction: with the planner settings
    it ran with, and `avoid`'s plan kinds turned off as well (`nestloop`)."""
    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    seen: list[tuple[str, str]] = []
    avoided: list[str] = []

    def explain(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith(("SELECT", "WITH")):
            return
        with conn.connection.dbapi_connection.cursor() as cursor:
            for kind in avoided:
                cursor.execute(f"SELECT set_config('enable_{kind}', 'off', true)")
            cursor.execute("EXPLAIN " + statement, parameters)
            seen.append((statement, "\n".join(row[0] for row in cursor.fetchall())))
            for kind in avoided:
                cursor.execute(f"SELECT set_config('enable_{kind}', 'on', true)")

    def plans(*avoid: str) -> list[tuple[str, str]]:
        avoided.extend(avoid)
        event.listen(engine, "after_cursor_execute", explain)
        return seen

    yield plans
    if event.contains(engine, "after_cursor_execute", explain):
        event.remove(engine, "after_cursor_execute", explain)


@pytest.mark.parametrize(
    ("url", "avoid"),
    [
        (f"/api/v1/articles?q={WORD}&limit=1", ()),
        (f"/api/v1/topics/kidnapping/stream?q={WORD}&limit=1", ("nestloop",)),
    ],
)
def test_a_count_of_words_reads_the_types_gin_index(
    api: TestClient,
    seeded: dict[str, Any],
    plans_as_run: Callable[..., list[tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    avoid: tuple[str, ...],
) -> None:
    """PostgreSQL: counted from the documents, the words' matches come from a bitmap of
    the type's GIN index, not from a scan of the documents that reads every vector, nor
    from the type's documents read whole by their (type, item) index. The stream's items
    are taken for many (else their documents may be probed one by one), and nested loops
    are off as well: on a handful of rows the planner would rather look each document up
    by item (at `large`, for a common word, it joins the index's matches to the items)."""
    monkeypatch.setattr(word_counts, "FEW_ITEMS", 1)
    seen = plans_as_run(*avoid)
    assert api.get(url).json()["meta"]["total"] > 1
    counts = [(sql, plan) for sql, plan in seen if sql.startswith("SELECT count(*)")]
    articles = [(sql, plan) for sql, plan in counts if "'article'" in sql]
    assert articles, counts
    for sql, plan in articles:
        assert "(search_document.entity_type = 'article') IS true" in sql, sql
        assert "search_document.entity_type = %(" not in sql, sql  # no other type condition
        assert "Bitmap Index Scan on ix_search_document_tsv_article" in plan, plan
        assert "Seq Scan" not in plan, plan


def test_pages_with_words_are_the_same_whichever_way_they_start(
    api: TestClient, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL starts a page with rare words from their matches (`rare_matches`), with
    common ones from the sort's index: the same items, in the same order, either way (and
    on SQLite, where neither applies)."""
    cases = [
        ("/api/v1/articles", {"q": WORD}, 5),
        ("/api/v1/articles", {"q": WORD, "sort": "title"}, 5),
        ("/api/v1/articles", {"q": WORD, "topic": "piracy"}, 2),
        ("/api/v1/events", {"q": WORD}, 3),
        ("/api/v1/topics/kidnapping/stream", {"q": WORD}, 8),
    ]
    found: dict[int, list[list[str]]] = {}
    for rare_up_to in (0, word_counts.RARE_MATCHES):
        monkeypatch.setattr(word_counts, "_WORD_MATCHES", PlanHints())
        monkeypatch.setattr(word_counts, "RARE_MATCHES", rare_up_to)
        monkeypatch.setattr(word_counts, "SPARSE_MATCHES", rare_up_to)
        found[rare_up_to] = [
            [item["slug"] for item in walk(api, url, {**params, "limit": 2})]
            for url, params, _ in cases
        ]
    assert found[0] == found[word_counts.RARE_MATCHES]
    assert [len(slugs) for slugs in found[0]] == [public for _, _, public in cases]


def test_a_page_with_a_rare_word_starts_from_its_matches(
    api: TestClient, seeded: dict[str, Any], plans_as_run: Callable[..., list[tuple[str, str]]]
) -> None:
    """PostgreSQL: a rare word's matches are found once, by the type's GIN index predicate,
    before the page (an InitPlan), not asked of each item the sort's index gives: at
    `large`, `articles?q=hamas&limit=1` walked 186,000 articles, each document's vector
    detoasted (3-5 s, a 503); now ~20 ms."""
    seen = plans_as_run()
    assert api.get("/api/v1/articles", params={"q": WORD, "limit": 1}).status_code == 200
    pages = [(sql, plan) for sql, plan in seen if "ORDER BY" in sql and "search_document" in sql]
    assert pages, seen
    for sql, plan in pages:
        assert "article.id = any(array((SELECT search_document.entity_id" in sql, sql
        assert "(search_document.entity_type = 'article') IS true" in sql, sql
        assert "InitPlan" in plan, plan


@pytest.mark.parametrize(
    "params",
    [{"q": WORD}, {"topic": "piracy"}, {"q": WORD, "sort": "published_at"}],
    ids=["words", "topic", "words-oldest-first"],
)
def test_a_narrowed_stream_is_the_stream_narrowed(
    api: TestClient, seeded: dict[str, Any], params: dict[str, Any]
) -> None:
    """The public's stream narrowed by words or another topic holds the items of the whole
    stream that pass, in the same order, page by page (PostgreSQL reads it from the
    topic's taggings, as the whole stream: `topic_stream`)."""
    url = "/api/v1/topics/kidnapping/stream"
    if "topic" in params:
        passing = {i["slug"] for i in walk(api, "/api/v1/topics/piracy/stream", {"limit": 50})}
    else:
        passing = {i["slug"] for i in walk(api, url, {"q": WORD, "limit": 50})}
        # The words are in these items' titles (or a quote's text), and in no other's.
        stream = walk(api, url, {"limit": 50})
        assert passing == {i["slug"] for i in stream if WORD in (i.get("title") or i["text"])}
    order = {"sort": params["sort"]} if "sort" in params else {}
    whole = [i["slug"] for i in walk(api, url, {**order, "limit": 2}) if i["slug"] in passing]
    narrowed = [i["slug"] for i in walk(api, url, {**params, "limit": 2})]
    assert narrowed == whole
    assert len(narrowed) >= 2


def test_a_narrowed_public_stream_reads_the_topics_taggings(
    api: TestClient, seeded: dict[str, Any], plans_as_run: Callable[..., list[tuple[str, str]]]
) -> None:
    """PostgreSQL: each type's page of the public's narrowed stream walks the topic's
    public taggings of the type in order and asks each item whether it passes, as the
    whole stream does. From the items, the planner walked the type's sort index asking
    each whether it was tagged: for a topic on 1.6% of the publications, most of them
    old, 61,000 publications for a page at `large` (290 ms; now 10 ms)."""
    seen = plans_as_run()
    response = api.get("/api/v1/topics/kidnapping/stream", params={"q": WORD, "limit": 1})
    assert response.status_code == 200
    pages = [sql for sql, _ in seen if "UNION ALL" in sql]
    assert pages, seen
    for sql in pages:
        assert sql.count("tagging.public_at AS published") == 4, sql
        assert "tagging.entity_id IN (SELECT article.id" in sql, sql


@pytest.mark.parametrize("newest_have_it", [False, True])
def test_a_page_with_a_word_the_newest_items_lack_starts_from_its_matches(
    api: TestClient,
    seeded: dict[str, Any],
    factory: sessionmaker[Session],
    plans_as_run: Callable[..., list[tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
    newest_have_it: bool,
) -> None:
    """PostgreSQL: a word with more than `RARE_MATCHES` matches, but none among the
    newest items (an archive's word of the past), starts from its matches as a rare one
    does; walked from the newest, each item checked, a page read every item newer than
    its matches. A word the newest items have is walked."""
    with writing(factory) as session:
        for i in range(12):
            title = f"Newer {WORD} story {i}" if newest_have_it else f"Newer story {i}"
            later = PAST + timedelta(days=1 + i)
            make_article(session, title=title, published_at=later, topics=["kidnapping"])
    monkeypatch.setattr(word_counts, "_WORD_MATCHES", PlanHints())
    monkeypatch.setattr(word_counts, "RARE_MATCHES", 1)
    monkeypatch.setattr(word_counts, "SPARSE_SAMPLE", 10)
    monkeypatch.setattr(word_counts, "PAGE_ROWS", 1)  # a handful of matches is "many" here
    seen = plans_as_run()
    assert api.get("/api/v1/articles", params={"q": WORD, "limit": 1}).status_code == 200
    pages = [sql for sql, _ in seen if sql.startswith("SELECT article.") and "ORDER BY" in sql]
    assert pages, seen
    for sql in pages:
        from_matches = "article.id = any(array((SELECT search_document.entity_id" in sql
        assert from_matches != newest_have_it, sql


def test_a_popular_topics_page_with_a_word_the_newest_items_have_starts_from_its_matches(
    api: TestClient,
    seeded: dict[str, Any],
    factory: sessionmaker[Session],
    plans_as_run: Callable[..., list[tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: a word the newest items have is walked from the newest, but a page of a
    topic's items walks as many more as the topic is rarer than the type (`_rare_for_page`):
    where that is more than the word's matches to read, and the topic tags more items than
    they are, the page starts from the matches (a topic on 30% of the quotes with a word in
    2.8% of them, a page of 100: 52 -> 16-20 ms at `large`). A topic on fewer items than
    the matches is left to the planner, which reads its taggings. The same pages either
    way (`test_pages_with_words_are_the_same_whichever_way_they_start`)."""
    with writing(factory) as session:
        make_topic(session, "Harbours")
        for i in range(30):  # older than the seeded articles, the word in three
            title = f"Harbour {WORD} {i}" if i < 3 else f"Harbour {i}"
            earlier = PAST - timedelta(days=1 + i)
            make_article(session, title=title, published_at=earlier, topics=["harbours"])
        for i in range(12):  # the newest, all with the word
            later = PAST + timedelta(days=1 + i)
            make_article(session, title=f"Newer {WORD} {i}", published_at=later)
    monkeypatch.setattr(word_counts, "_WORD_MATCHES", PlanHints())
    monkeypatch.setattr(queries, "_TOPIC_REACH", PlanHints())
    monkeypatch.setattr(word_counts, "RARE_MATCHES", 1)
    monkeypatch.setattr(word_counts, "SPARSE_SAMPLE", 10)
    # The word is in 23 articles' documents (5 + 3 seeded, 3 + 12 here), of some 55 rows;
    # Harbours tags 30. A page of 4 walks 4 newest articles for as many matches (4 x 4 = 16
    # matches' worth: fewer than 23), or 4 x 55 / 30 of Harbours' (~29: more).
    monkeypatch.setattr(word_counts, "WALK_COST", 4)
    # A topic on fewer items than the matches (piracy: 2 articles) is judged as a default
    # page of all the items is, here of one row: 1 x 4 matches' worth, fewer than 23.
    monkeypatch.setattr(word_counts, "PAGE_ROWS", 1)
    cases = {"harbours": True, None: False, "piracy": False}
    seen = plans_as_run()
    for topic, from_matches in cases.items():
        params = {"q": WORD, "limit": 3, **({"topic": topic} if topic else {})}
        assert api.get("/api/v1/articles", params=params).status_code == 200
        pages = [sql for sql, _ in seen if sql.startswith("SELECT article.") and "ORDER BY" in sql]
        assert pages, seen
        for sql in pages:
            started = "article.id = any(array((SELECT search_document.entity_id" in sql
            assert started == from_matches, (topic, sql)
        seen.clear()


@pytest.fixture
def narrowing_topics(api: TestClient, factory: sessionmaker[Session]) -> None:
    """A stream (Hostages) whose items carry other topics (Ransom, Piracy), some both."""
    with writing(factory) as session:
        for name in ("Hostages", "Ransom", "Piracy"):
            make_topic(session, name)
        for i, others in enumerate([["ransom"], ["piracy"], ["ransom", "piracy"], [], ["ransom"]]):
            make_article(session, title=f"Story {i}", topics=["hostages", *others])
        make_article(session, title="Elsewhere", topics=["ransom", "piracy"])
        make_event(session, title="Talk", topics=["hostages", "ransom", "piracy"])
        make_event(session, title="Other talk", topics=["hostages"])


@pytest.mark.parametrize("narrowing", [["ransom"], ["ransom", "piracy"]], ids=["one", "two"])
def test_a_stream_narrowed_to_rare_topics_is_read_from_their_taggings(
    api: TestClient,
    narrowing_topics: None,
    monkeypatch: pytest.MonkeyPatch,
    narrowing: list[str],
) -> None:
    """PostgreSQL: a stream narrowed to topics that tag few items of a type (fewer than the
    stream topic: `_reads_narrowing_first`) reads that type's page from their taggings,
    each item looked up among the stream topic's
    (`_from_narrowing_taggings`), not the stream topic's taggings walked asking each item
    for one of them: under the generic plan PostgreSQL keeps for a statement prepared by
    psycopg, that walk read a popular topic's every tagging (0.46-1.4 s at `large`). Either
    way the same items, in the same order, each once, with the same total, page by page;
    on both databases."""
    url = "/api/v1/topics/hostages/stream"
    passing = set()
    for slug in narrowing:
        passing |= {i["slug"] for i in walk(api, f"/api/v1/topics/{slug}/stream")}
    whole = [i["slug"] for i in walk(api, url, {"limit": 2}) if i["slug"] in passing]
    params = {"topic": narrowing}
    found = {}
    for popular in (False, True):
        monkeypatch.setattr(queries, "_POPULARITY", PlanHints())
        monkeypatch.setattr(queries, "_SMALL_TOPIC", 0 if popular else queries._SMALL_TOPIC)
        # Read from the other topics' taggings or walk the stream topic's (the rule's own
        # test: `test_stream_walks`).
        monkeypatch.setattr(queries, "_reads_narrowing_first", lambda *_, read=not popular: read)
        engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
        with count_queries(engine) as seen:
            found[popular] = [i["slug"] for i in walk(api, url, {**params, "limit": 1})]
            total = api.get(url, params={**params, "limit": 1}).json()["meta"]["total"]
            one_page = api.get(url, params={**params, "limit": 10}).json()["data"]
        assert total == len(whole)
        assert [i["slug"] for i in one_page] == whole
        pages = [sql for sql in seen.statements if "UNION ALL" in sql]
        assert pages
        read = engine.dialect.name == "postgresql" and not popular
        for sql in pages:
            assert (sql.count("FROM tagging AS narrowing") == 4) is read, sql
            assert (sql.count("JOIN LATERAL") == 4) is read, sql
    assert found[False] == found[True] == whole
    assert len(whole) == (4 if narrowing == ["ransom"] else 5)
