"""An item that shows a reference to another is listed again when that other goes public.

An article shows its related items, quotes and resources, a quote its article, as compact
references; a reference to a draft, scheduled, archived or deleted item is not served. When
that item goes public (published, its scheduled time come, restored), or a quote moves
between articles, the showing item changes without a write of its own: `/api/v1/changes`
lists it then, and lists asked with `updated_since` count it as changed (`shown_change`,
written by triggers whoever writes: the API, an import, SQL)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries as queries_module
from app.content.queries import ListParams, changes, list_items, topic_stream
from app.content.types import ARTICLE, QUOTE
from app.content.visibility import Viewer
from app.content.writes import create_item, delete_item, update_item
from app.db import session_scope, utcnow
from app.models import Event, ShownChange, Topic
from app.transfer import import_records
from tests.graphql_support import post
from tests.rest_factories import (
    attach,
    make_article,
    make_event,
    make_quote,
    make_topic,
    writing,
)
from tests.support import count_queries, request_plans

SECRET = "test-secret"
Listed = list[tuple[str, str, str]]  # (action, type, slug)


def _poll(
    factory: sessionmaker[Session], token: str | None, now: datetime | None = None
) -> tuple[str, Listed]:
    """The log after `token`, read at `now` (default: a moment from now, settled), and
    the token that follows it."""
    viewer = Viewer(now=now or utcnow() + timedelta(seconds=1))
    with session_scope(factory) as session:
        page = changes(session, token, 100, viewer, SECRET)
        assert not page.has_more
        assert page.total == len(page.items)
        listed = [(c.action, c.ctype.name, c.slug) for c in page.items]
        return page.next_since, listed


def _kinds(listed: Listed) -> set[tuple[str, str]]:
    """(type, slug) of the changes but the topic every test makes; none of them a removal."""
    assert all(action != "deleted" for action, _, _ in listed), listed
    return {(kind, slug) for _, kind, slug in listed} - {("topic", "shown")}


def _synced(api: TestClient, collection: str, since: datetime) -> dict[str, set[str]]:
    """The slugs each surface that takes `updated_since` finds changed since `since`: the
    list, the list by topic, the topic's stream and GraphQL's filter (and their totals)."""
    mark = since.isoformat()
    found: dict[str, set[str]] = {}

    def slugs(url: str, kind: str | None = None, **params: Any) -> set[str]:
        body = api.get(url, params={"updated_since": mark, **params}).json()
        assert body["meta"]["total"] == len(body["data"]), body
        return {item["slug"] for item in body["data"] if kind in (None, item.get("type"))}

    kind = "article" if collection == "articles" else "quote"
    found["list"] = slugs(f"/api/v1/{collection}")
    found["list by topic"] = slugs(f"/api/v1/{collection}", topic="shown")
    found["stream"] = slugs("/api/v1/topics/shown/stream", kind)
    field = "articles" if collection == "articles" else "quotes"
    query = f'{{ {field}(filter: {{updatedSince: "{mark}"}}) {{ nodes {{ slug }} totalCount }} }}'
    data = post(api, query).json()["data"][field]
    assert data["totalCount"] == len(data["nodes"])
    found["graphql"] = {node["slug"] for node in data["nodes"]}
    return found


def _everywhere(found: dict[str, set[str]], slug: str) -> None:
    for surface, slugs in found.items():
        assert slug in slugs, (surface, slug, slugs)


def _nowhere(found: dict[str, set[str]], slug: str) -> None:
    for surface, slugs in found.items():
        assert slug not in slugs, (surface, slug, slugs)


@pytest.fixture
def shown_topic(factory: sessionmaker[Session]) -> str:
    with writing(factory) as session:
        make_topic(session, "Shown")
    return "shown"


def test_an_article_is_listed_when_its_related_draft_is_published(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    with writing(factory) as session:
        event = make_event(session, title="Draft seminar", status="draft")
        article = make_article(
            session,
            title="Reading list",
            topics=[shown_topic],
            related=[{"type": "event", "slug": event.slug}],
        )
    token, _ = _poll(factory, None)
    mark = utcnow()
    _nowhere(_synced(api, "articles", mark), "reading-list")
    with writing(factory) as session:
        update_item(session, "events", attach(session, event), {"status": "published"}, "t")
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("event", "draft-seminar"), ("article", "reading-list")}
    _everywhere(_synced(api, "articles", mark), "reading-list")
    shown = api.get(f"/api/v1/articles/{article.slug}").json()
    assert [item["slug"] for item in shown["related"]] == ["draft-seminar"]
    # Not written itself: listed at the moment the event went public.
    assert shown["updated_at"] < mark.isoformat()


def test_a_quote_is_listed_when_its_draft_article_is_published(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    with writing(factory) as session:
        article = make_article(session, title="Source interview", status="draft")
        make_quote(session, text="Said in a draft", topics=[shown_topic], article=article.slug)
    token, listed = _poll(factory, None)
    assert _kinds(listed) == {("quote", "said-in-a-draft")}
    mark = utcnow()
    with writing(factory) as session:
        update_item(session, "articles", attach(session, article), {"status": "published"}, "t")
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("article", "source-interview"), ("quote", "said-in-a-draft")}
    _everywhere(_synced(api, "quotes", mark), "said-in-a-draft")


def test_a_shown_change_noted_to_the_millisecond_is_not_missed_by_a_sync(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    """SQLite's triggers note a shown change at its clock, truncated to the millisecond: a
    change made just after a partner's `updated_since` was noted just before it, and every
    surface missed the article for good (seen as a flake: 1 run in 40 of the test above).
    PostgreSQL notes the statement's time to the microsecond."""
    if api.app.state.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("SQLite's clock")
    with writing(factory) as session:
        resource = _make_resource(session, "Hotline")
        article = make_article(
            session, title="Where to call", topics=[shown_topic], resources=[resource.slug]
        )
        article_id = article.id
    since = utcnow() + timedelta(seconds=5)  # after the article's own writes
    noted = since.replace(microsecond=since.microsecond // 1000 * 1000)  # as SQLite notes it
    if noted == since:
        noted -= timedelta(microseconds=300)
    with writing(factory) as session:
        session.add(ShownChange(item_type="article", item_id=article_id, at=noted))
    viewer_now = since + timedelta(seconds=1)
    with session_scope(factory) as session:
        page = list_items(
            session, ARTICLE, ListParams(updated_since=since), Viewer(now=viewer_now), SECRET
        )
        assert [row.slug for row in page.items] == ["where-to-call"]
        stream = topic_stream(
            session,
            session.scalars(select(Topic).where(Topic.slug == shown_topic)).one(),
            Viewer(now=viewer_now),
            10,
            None,
            SECRET,
            params=ListParams(updated_since=since),
        )
        assert [row.slug for _, row in stream.items] == ["where-to-call"]


def test_an_article_is_listed_when_its_archived_resource_is_published_again(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    with writing(factory) as session:
        resource = _make_resource(session, "Hotline")
        make_article(
            session, title="Where to call", topics=[shown_topic], resources=[resource.slug]
        )
    with writing(factory) as session:
        update_item(session, "resources", attach(session, resource), {"status": "archived"}, "t")
    token, listed = _poll(factory, None)
    assert ("deleted", "resource", "hotline") in listed
    mark = utcnow()
    with writing(factory) as session:
        update_item(session, "resources", attach(session, resource), {"status": "published"}, "t")
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("resource", "hotline"), ("article", "where-to-call")}
    _everywhere(_synced(api, "articles", mark), "where-to-call")


def test_an_item_is_listed_when_a_scheduled_item_it_shows_goes_public(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    """No write at all: the time comes. Linked while the target was scheduled, the showing
    item is listed at that time, not before."""
    soon = utcnow() + timedelta(minutes=10)
    with writing(factory) as session:
        event = make_event(session, title="Embargoed seminar", published_at=soon)
        make_article(
            session,
            title="Coming up",
            topics=[shown_topic],
            related=[{"type": "event", "slug": event.slug}],
        )
        scheduled = make_article(session, title="Embargoed interview", published_at=soon)
        make_quote(session, text="From the embargoed", topics=[shown_topic], article=scheduled.slug)
    token, listed = _poll(factory, None)
    assert _kinds(listed) == {("article", "coming-up"), ("quote", "from-the-embargoed")}
    mark = utcnow()
    assert _poll(factory, token, soon - timedelta(seconds=1))[1] == []
    later = soon + timedelta(seconds=1)
    viewer = Viewer(now=later)
    with session_scope(factory) as session:
        page = changes(session, token, 100, viewer, SECRET)
        at = {(c.ctype.name, c.slug): c.at for c in page.items}
        assert at == {
            ("event", "embargoed-seminar"): soon,
            ("article", "embargoed-interview"): soon,
            ("article", "coming-up"): soon,
            ("quote", "from-the-embargoed"): soon,
        }
        # Lists by `updated_since`, at that time (and, cached, not kept past it).
        for ctype, slug in ((ARTICLE, "coming-up"), (QUOTE, "from-the-embargoed")):
            params = ListParams(updated_since=mark)
            for when, expected in ((soon - timedelta(seconds=1), False), (later, True)):
                listed_page = list_items(session, ctype, params, Viewer(now=when), SECRET)
                assert (slug in {row.slug for row in listed_page.items}) is expected
            early = list_items(session, ctype, params, Viewer(now=mark), SECRET)
            assert early.changes_at() == soon
            topic = session.scalars(select(Topic)).one()
            stream = topic_stream(session, topic, viewer, 20, None, SECRET, params=params)
            assert slug in {row.slug for _, row in stream.items}
            assert stream.total == len(stream.items)


def test_articles_are_listed_when_a_quote_moves_between_them(
    api: TestClient, factory: sessionmaker[Session], shown_topic: str
) -> None:
    with writing(factory) as session:
        first = make_article(session, title="First home", topics=[shown_topic])
        make_article(session, title="Second home", topics=[shown_topic])
        quote = make_quote(session, text="Wandering words", article=first.slug)
    token, _ = _poll(factory, None)
    mark = utcnow()
    with writing(factory) as session:
        update_item(session, "quotes", attach(session, quote), {"article": "second-home"}, "t")
    token, listed = _poll(factory, token)
    assert _kinds(listed) == {
        ("quote", "wandering-words"),
        ("article", "first-home"),
        ("article", "second-home"),
    }
    found = _synced(api, "articles", mark)
    _everywhere(found, "first-home")
    _everywhere(found, "second-home")
    # Detached: the article it leaves is listed too.
    with writing(factory) as session:
        update_item(session, "quotes", attach(session, quote), {"article": None}, "t")
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("quote", "wandering-words"), ("article", "second-home")}


def test_an_edit_that_changes_no_ones_visibility_lists_nothing_more(
    factory: sessionmaker[Session],
) -> None:
    with writing(factory) as session:
        draft = make_event(session, title="Still a draft", status="draft")
        public = make_event(session, title="Already public")
        hidden_quote = make_quote(session, text="Unpublished words", status="draft")
        make_article(
            session,
            title="Links to both",
            related=[
                {"type": "event", "slug": draft.slug},
                {"type": "event", "slug": public.slug},
            ],
        )
    token, _ = _poll(factory, None)
    with writing(factory) as session:
        update_item(session, "events", attach(session, draft), {"title": "Still drafting"}, "t")
        update_item(session, "events", attach(session, public), {"title": "Renamed"}, "t")
        update_item(
            session, "quotes", attach(session, hidden_quote), {"article": "links-to-both"}, "t"
        )
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("event", "already-public")}
    with session_scope(factory) as session:
        assert session.scalars(select(ShownChange)).all() == []


def test_every_writer_notes_the_moment(factory: sessionmaker[Session]) -> None:
    """Triggers, not the API: an import, and SQL, publish an item an article shows."""
    with writing(factory) as session:
        by_import = make_event(session, title="Imported seminar", status="draft")
        by_sql = make_event(session, title="Published in SQL", status="draft")
        make_article(
            session,
            title="Imported links",
            related=[{"type": "event", "slug": by_import.slug}],
        )
        make_article(
            session,
            title="SQL links",
            related=[{"type": "event", "slug": by_sql.slug}],
        )
    token, _ = _poll(factory, None)
    line = {
        "type": "event",
        "data": {
            "slug": by_import.slug,
            "title": "Imported seminar",
            "starts_at": by_import.starts_at.isoformat(),
            "status": "published",
            "published_at": utcnow().isoformat(),
        },
    }
    with session_scope(factory) as session:
        import_records(session, [orjson.dumps(line)])
    token, listed = _poll(factory, token)
    assert _kinds(listed) == {("event", "imported-seminar"), ("article", "imported-links")}
    with session_scope(factory) as session:
        # Dated as the import dates its own changes, as it ends (`_stamp_at_the_end`).
        event = session.get(Event, by_import.id)
        noted = session.scalars(select(ShownChange)).one()
        assert event is not None
        assert noted.at == event.updated_at
    with session_scope(factory) as session:
        session.execute(
            text("UPDATE event SET status = 'published', published_at = :at WHERE id = :id"),
            {"at": utcnow() - timedelta(days=1), "id": by_sql.id},
        )
    _, listed = _poll(factory, token)
    # The event's own time is its last write's (SQL left `updated_at` alone): the article
    # is listed at the statement's.
    assert ("article", "sql-links") in _kinds(listed)


def test_the_whole_log_lists_each_item_once(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read from the beginning, page by page (and up to horizons), an item shown
    differently several times is listed once, at the latest moment that has passed."""
    soon = utcnow() + timedelta(minutes=10)
    with writing(factory) as session:
        drafts = [make_event(session, title=f"Draft {i}", status="draft") for i in range(3)]
        scheduled = make_event(session, title="Scheduled", published_at=soon)
        related = [{"type": "event", "slug": e.slug} for e in (*drafts, scheduled)]
        make_article(session, title="Shows them all", related=related)
        make_article(session, title="Shows the first", related=related[:1])
        for i in range(4):
            make_article(session, title=f"Bystander {i}")
    for draft in drafts:
        with writing(factory) as session:
            update_item(session, "events", attach(session, draft), {"status": "published"}, "t")

    def remaining(token: str | None, now: datetime, page: Any) -> int:
        if not page.has_more:
            return 0
        with session_scope(factory) as session:
            return len(changes(session, page.next_since, 100, Viewer(now=now), SECRET).items)

    def walk(limit: int, now: datetime) -> list[tuple[str, str, datetime]]:
        seen: list[tuple[str, str, datetime]] = []
        token = None
        with session_scope(factory) as session:
            while True:
                page = changes(session, token, limit, Viewer(now=now), SECRET)
                seen += [(c.ctype.name, c.slug, c.at) for c in page.items]
                # What is left after the token: this page and the rest (listed once).
                assert page.total == len(page.items) + remaining(token, now, page)
                if not page.has_more:
                    return seen
                token = page.next_since

    for now in (utcnow() + timedelta(seconds=1), soon + timedelta(seconds=1)):
        expected = walk(100, now)
        counts = Counter((kind, slug) for kind, slug, _ in expected)
        assert all(n == 1 for n in counts.values()), counts
        assert ("article", "shows-them-all") in counts
        monkeypatch.setattr(queries_module, "_HORIZON_START", 1)
        for limit in (1, 2, 5):
            assert walk(limit, now) == expected, limit
        monkeypatch.setattr(queries_module, "_HORIZON_START", 100)
        at = {(kind, slug): when for kind, slug, when in expected}
        last_draft = max(at[("event", f"draft-{i}")] for i in range(3))
        if now > soon:
            assert at[("article", "shows-them-all")] == soon
        else:
            assert at[("article", "shows-them-all")] <= last_draft
            assert at[("article", "shows-them-all")] > at[("article", "bystander-3")]
        assert at[("article", "shows-the-first")] <= at[("event", "draft-0")]
        with session_scope(factory) as session:
            total = changes(session, None, 1, Viewer(now=now), SECRET).total
        assert total == len(expected)


def test_a_sync_pages_the_same_for_few_and_many_changes(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reads a sync's changes as ids from the indexes (few) or checks each row as it
    walks the sort's index (many, `queries._changed_widely`): an article shown differently
    is found either way, on every page."""
    with writing(factory) as session:
        drafts = [make_event(session, title=f"Soon public {i}", status="draft") for i in range(3)]
        for i, draft in enumerate(drafts):
            make_article(
                session, title=f"Shows {i}", related=[{"type": "event", "slug": draft.slug}]
            )
        quiet = [make_article(session, title=f"Quiet {i}") for i in range(3)]
    mark = utcnow()
    for draft in drafts:
        with writing(factory) as session:
            update_item(session, "events", attach(session, draft), {"status": "published"}, "t")
    with writing(factory) as session:  # one edited too, which SQLite's choice counts
        update_item(session, "articles", attach(session, quiet[0]), {"title": "Edited"}, "t")
    from tests.test_rest_pagination import _pages_for_few_and_many_changes

    pages = _pages_for_few_and_many_changes(
        api, monkeypatch, "/api/v1/articles", {"updated_since": mark.isoformat()}, 4
    )
    titles = sorted(title for page in pages for title in page)
    assert titles == ["Edited", "Shows 0", "Shows 1", "Shows 2"]


def test_a_sync_and_a_poll_read_the_table_by_its_indexes(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    """`updated_since`: the table's ids by (type, moment), and on PostgreSQL the articles by
    primary key beside the other indexes (an `IN (subquery)` would filter every row). A
    poll: the table by (type, moment) over its window, and each row's later moment probed
    by its key."""
    with writing(factory) as session:
        draft = make_event(session, title="Published later", status="draft")
        make_article(session, title="Shows it", related=[{"type": "event", "slug": draft.slug}])
    with writing(factory) as session:
        update_item(session, "events", attach(session, draft), {"status": "published"}, "t")
    mark = (utcnow() - timedelta(hours=1)).isoformat()
    postgresql = api.app.state.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    for url in (
        f"/api/v1/articles?updated_since={mark}",
        f"/api/v1/articles?updated_since={mark}&sort=title",
    ):
        plans = request_plans(api, url.replace("+00:00", "Z"), "shown_change")
        plan = "\n".join(plans)
        assert "ix_shown_change_type_at" in plan, plan
        if postgresql:
            assert "pk_article" in plan, plan
            assert "Seq Scan on article" not in plan, plan
    token = api.get("/api/v1/changes").json()["meta"]["next_since"]
    with writing(factory) as session:
        make_article(session, title="Later")
    plans = request_plans(api, f"/api/v1/changes?since={token}", "shown_change")
    plan = "\n".join(plans)
    assert "ix_shown_change_type_at" in plan, plan
    probe = "pk_shown_change" if postgresql else "sqlite_autoindex_shown_change_1"
    assert probe in plan, plan


def test_a_sync_since_long_ago_looks_each_row_up_among_the_shown_changes(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, many rows changed since: each row's times are checked as it is read, and
    its id looked up among the shown changes in a hashed subplan. As an InitPlan's array,
    `= ANY` searched each row's id through every shown change (47,000 of them at `large`,
    for each row not changed otherwise): `articles?updated_since=2020-01-01` counted past
    the statement timeout, a 503. Few rows changed (`few_changed_since`): their ids first,
    an array."""
    if api.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's plans")
    with writing(factory) as session:
        draft = make_event(session, title="Published later", status="draft")
        make_article(session, title="Shows it", related=[{"type": "event", "slug": draft.slug}])
    with writing(factory) as session:
        update_item(session, "events", attach(session, draft), {"status": "published"}, "t")
    url = "/api/v1/articles?updated_since=2020-01-01T00:00:00Z&limit=1"
    for widely in (False, True):
        monkeypatch.setattr(queries_module, "few_changed_since", lambda *_, w=widely: not w)
        engine = api.app.state.engine  # type: ignore[attr-defined]
        with count_queries(engine) as queries:
            assert api.get(url).json()["meta"]["total"] == 1
        asked = [s for s in queries.statements if "shown_change.item_id" in s and "article" in s]
        assert asked, queries.statements
        for sql in asked:
            in_array = "any(array((SELECT" in sql
            assert in_array != widely, sql
            if widely:
                assert "IN (SELECT shown_change.item_id" in sql, sql


@pytest.mark.parametrize("how", ["shown differently", "went public"])
def test_few_edited_but_many_changed_since_is_many(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """PostgreSQL: a sync after which few articles were edited, but many were shown
    differently (an event they all relate to published) or went public (their scheduled
    time came), reads each row's times: the ids of every change, an array each row read was
    looked up in, made such a page 116 ms at `large` (50,000 shown differently; 14 ms
    now). The same page either way."""
    if api.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL's plans")
    with writing(factory) as session:
        draft = make_event(session, title="Published later", status="draft")
        related = [{"type": "event", "slug": draft.slug}]
        articles = [make_article(session, title=f"Shows it {i}", related=related) for i in range(3)]
    mark = utcnow()
    with writing(factory) as session:
        if how == "shown differently":
            update_item(session, "events", attach(session, draft), {"status": "published"}, "t")
        else:  # as a scheduled time comes: no edit
            for article in articles:
                session.execute(
                    text("UPDATE article SET published_at = :at WHERE id = :id"),
                    {"at": utcnow(), "id": article.id},
                )
    url = f"/api/v1/articles?updated_since={mark.isoformat().replace('+00:00', 'Z')}"
    engine = api.app.state.engine  # type: ignore[attr-defined]
    answers = []
    for factor in (10**9, 0):  # 3 changes are few, then many (any is)
        monkeypatch.setattr(queries_module, "_WALK_FACTOR", factor)
        with count_queries(engine) as queries:
            answers.append([item["title"] for item in api.get(url).json()["data"]])
        pages = [s for s in queries.statements if "LIMIT" in s and "FROM article" in s]
        assert pages, queries.statements
        assert any("any(array((SELECT" in sql for sql in pages) == (factor > 0), pages
    assert answers[0] == answers[1] == [f"Shows it {i}" for i in (2, 1, 0)]


def _make_resource(session: Session, name: str) -> Any:
    data = {"name": name, "status": "published", "published_at": "2020-01-01T00:00:00Z"}
    return create_item(session, "resources", data, "t")


def test_a_cached_sync_is_purged_when_an_item_it_may_show_goes_public(
    client: TestClient, writer: dict[str, str]
) -> None:
    """A list asked with `updated_since` names the collections whose writes can show its
    items differently (`Surrogate-Key`, and the versions its total is kept at), even when
    it renders none of their references (`fields`)."""
    event = client.post(
        "/api/v1/events",
        json={"title": "Cached draft", "starts_at": "2030-01-01T10:00:00Z", "status": "draft"},
        headers=writer,
    ).json()
    client.post(
        "/api/v1/articles",
        json={
            "title": "Cached reading",
            "status": "published",
            "published_at": "2020-01-01T00:00:00Z",
            "related": [{"type": "event", "slug": event["slug"]}],
        },
        headers=writer,
    )
    mark = utcnow().isoformat()
    url = "/api/v1/articles"
    for params in ({"updated_since": mark, "fields": "title"}, {"updated_since": mark}):
        first = client.get(url, params=params)
        assert first.json()["data"] == []
        assert "events" in first.headers["surrogate-key"].split()
    published = client.patch(
        f"/api/v1/events/{event['slug']}", json={"status": "published"}, headers=writer
    )
    assert published.status_code == 200, published.text
    for params in ({"updated_since": mark, "fields": "title"}, {"updated_since": mark}):
        body = client.get(url, params=params).json()
        assert [item["title"] for item in body["data"]] == ["Cached reading"]
        assert body["meta"]["total"] == 1


def test_an_article_is_listed_when_a_deleted_item_it_relates_to_is_restored(
    factory: sessionmaker[Session],
) -> None:
    """Restored by an import (a line naming a deleted item's slug), an event is public
    again, and so is the article's reference to it."""
    with writing(factory) as session:
        event = make_event(session, title="Restored seminar")
        make_article(session, title="Recap", related=[{"type": "event", "slug": event.slug}])
    with writing(factory) as session:
        delete_item(session, "events", attach(session, event), "t")
    token, listed = _poll(factory, None)
    assert ("deleted", "event", "restored-seminar") in listed
    line = {
        "type": "event",
        "data": {
            "slug": event.slug,
            "title": "Restored seminar",
            "starts_at": event.starts_at.isoformat(),
            "status": "published",
            "published_at": event.published_at.isoformat(),
        },
    }
    with session_scope(factory) as session:
        import_records(session, [orjson.dumps(line)])
    _, listed = _poll(factory, token)
    assert _kinds(listed) == {("event", "restored-seminar"), ("article", "recap")}
