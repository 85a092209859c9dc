"""Keyset pagination, cursors, visibility, preview, caching and query counts on generated data."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content import queries as queries_module
from app.content.writes import delete_item, update_item
from app.db import utcnow
from tests.rest_factories import (
    attach,
    make_article,
    make_event,
    make_key,
    make_organization,
    make_person,
    make_topic,
    walk,
    writing,
)
from tests.support import count_queries

PROBLEM = "application/problem+json"


def _hidden_events(session: Session) -> set[str]:
    """A draft, a scheduled event and a deleted one: none may ever be listed publicly."""
    draft = make_event(session, title="Draft event", status="draft")
    scheduled = make_event(
        session, title="Scheduled event", published_at=utcnow() + timedelta(days=3)
    )
    archived = make_event(session, title="Archived event", status="archived")
    deleted = make_event(session, title="Deleted event")
    delete_item(session, "events", deleted, "test")
    return {f"evt_{r.id}" for r in (draft, scheduled, archived, deleted)}


@pytest.mark.parametrize("sort", ["-starts_at", "title", "-updated_at"])
def test_walking_with_limit_1_visits_every_public_event_once_despite_inserts(
    api: TestClient, factory: sessionmaker[Session], sort: str
) -> None:
    base = utcnow()
    with writing(factory) as session:
        public = [
            make_event(session, starts_at=base + timedelta(days=i % 4), title=f"Same title {i % 3}")
            for i in range(9)
        ]
        hidden = _hidden_events(session)
    expected = {f"evt_{e.id}" for e in public}
    inserted: list[str] = []

    def insert_between_pages() -> None:
        n = len(inserted)
        with writing(factory) as session:
            # Some sort before the current position, some after, some tie with existing rows.
            event = make_event(
                session, starts_at=base + timedelta(days=(n % 7) - 3), title=f"Same title {n % 3}"
            )
        inserted.append(f"evt_{event.id}")

    items = walk(api, "/api/v1/events", {"limit": 1, "sort": sort}, between=insert_between_pages)
    seen = [item["id"] for item in items]
    assert len(seen) == len(set(seen)), "an event was listed twice"
    assert expected <= set(seen), "an event that existed all along was skipped"
    assert not hidden & set(seen)
    assert set(seen) <= expected | set(inserted)
    assert inserted, "the walk should have inserted events between pages"


def test_ties_are_broken_by_id_so_pages_neither_overlap_nor_skip(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    same_time = utcnow() + timedelta(days=2)
    with writing(factory) as session:
        events = [make_event(session, starts_at=same_time) for _ in range(7)]
    for limit in (1, 2, 3):
        ids = [
            item["id"]
            for item in walk(api, "/api/v1/events", {"limit": limit, "sort": "starts_at"})
        ]
        assert ids == [f"evt_{e.id}" for e in events]
    ids = [item["id"] for item in walk(api, "/api/v1/events", {"limit": 2})]
    assert ids == [f"evt_{e.id}" for e in reversed(events)]


def test_pages_of_one_kept_statement_get_their_own_topics_limits_cursors_and_time(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    """A list's page statement is built once per shape and kept: the topics, page size,
    cursor and clock of each request are bound values, never the first request's."""
    from app.content import queries

    with writing(factory) as session:
        red, blue = make_topic(session, "Red"), make_topic(session, "Blue")
        reds = [make_event(session, topics=[red.slug]) for _ in range(3)]
        blues = [make_event(session, topics=[blue.slug]) for _ in range(2)]
        soon = make_event(session, topics=[red.slug], published_at=utcnow() + timedelta(seconds=2))

    def listed(topic: str, limit: int) -> list[str]:
        first = api.get("/api/v1/events", params={"topic": topic, "limit": limit}).json()["data"]
        everything = [
            item["id"] for item in walk(api, "/api/v1/events", {"topic": topic, "limit": limit})
        ]
        assert [item["id"] for item in first] == everything[:limit]
        return everything

    newest_first = [f"evt_{e.id}" for e in reversed(reds)]
    assert listed(red.slug, 2) == newest_first
    kept = len(queries._STATEMENTS)
    assert listed(blue.slug, 1) == [f"evt_{e.id}" for e in reversed(blues)]
    assert listed(red.slug, 3) == newest_first
    assert listed("no-such-topic", 2) == []
    # The same shapes (first page, next pages; "no such topic" is one more): nothing new.
    assert len(queries._STATEMENTS) <= kept + 1

    time.sleep(2.1)  # the scheduled event is public now: the time is bound too
    assert listed(red.slug, 2) == [f"evt_{soon.id}", *newest_first]


def test_upcoming_filter_changes_the_default_sort(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with writing(factory) as session:
        past = make_event(session, starts_at=now - timedelta(days=5))
        soon = make_event(session, starts_at=now + timedelta(days=1))
        later = make_event(session, starts_at=now + timedelta(days=9))
    ids = lambda params: [i["id"] for i in api.get("/api/v1/events", params=params).json()["data"]]  # noqa: E731
    assert ids({"upcoming": "true"}) == [f"evt_{soon.id}", f"evt_{later.id}"]
    assert ids({"upcoming": "false"}) == [f"evt_{past.id}"]
    assert ids({}) == [f"evt_{later.id}", f"evt_{soon.id}", f"evt_{past.id}"]


@pytest.mark.parametrize(
    ("narrowed", "sort", "asks"),
    [
        ("upcoming", "title", "_many_upcoming"),
        ("upcoming", "-created_at", "_many_upcoming"),
        ("from", "title", "_many"),
        ("from", "-created_at", "_many"),
        ("to", "-title", "_many"),
    ],
)
def test_events_of_a_time_sorted_otherwise_page_the_same_few_or_many(
    api: TestClient,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    narrowed: str,
    sort: str,
    asks: str,
) -> None:
    """Upcoming events, or events `from` or `to` a time, sorted by something else than
    `starts_at`: SQLite reads few from their range of the `starts_at` index and sorts them,
    and many by walking the sort's index, checking each (`asks` says which). The same pages
    either way, drafts left out."""
    now = utcnow()
    with writing(factory) as session:
        for i in range(8):
            make_event(session, title=f"Event {i}", starts_at=now + timedelta(days=i - 4, hours=1))
        make_event(session, title="Event draft", starts_at=now + timedelta(days=2), status="draft")
    value = "true" if narrowed == "upcoming" else now.isoformat()
    few = _pages_for_few_and_many_changes(
        api, monkeypatch, "/api/v1/events", {narrowed: value, "sort": sort}, 4, asks
    )
    expected = [f"Event {i}" for i in (range(4) if narrowed == "to" else range(4, 8))]
    titles = [title for page in few for title in page]
    assert titles == (expected[::-1] if sort.startswith("-") else expected)


@pytest.mark.parametrize(
    ("narrowed", "sort"),
    [
        ({"from": 0}, "created_at"),
        ({"from": -2, "to": 2}, "-updated_at"),
        ({"upcoming": "true"}, "published_at"),
    ],
)
def test_events_of_a_time_sorted_by_another_against_it_page_in_order(
    api: TestClient, factory: sessionmaker[Session], narrowed: dict[str, Any], sort: str
) -> None:
    """The ranges read and sorted rather than walked (times go together, `list_items`): on
    PostgreSQL ordered by the time plus nothing, whose keyset must still page exactly."""
    now = utcnow()
    with writing(factory) as session:
        for i in range(8):
            when = now + timedelta(days=i - 4, hours=1)
            make_event(session, title=f"Event {i}", starts_at=when, published_at=now)
    params = {
        name: value if name == "upcoming" else (now + timedelta(days=value)).isoformat()
        for name, value in narrowed.items()
    }
    titles = [
        item["title"] for item in walk(api, "/api/v1/events", {**params, "sort": sort, "limit": 1})
    ]
    inside = range(4, 8) if "to" not in narrowed else range(2, 6)
    expected = [f"Event {i}" for i in inside]
    assert titles == (expected[::-1] if sort.startswith("-") else expected)


def test_total_counts_matches_across_pages(api: TestClient, factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        topic = make_topic(session, "Ransom")
        for i in range(5):
            make_event(session, topics=[topic.slug] if i % 2 == 0 else [])
        _hidden_events(session)
    body = api.get("/api/v1/events", params={"limit": 2, "topic": "ransom"}).json()
    assert body["meta"]["total"] == 3
    assert len(walk(api, "/api/v1/events", {"limit": 2, "topic": "ransom"})) == 3
    assert api.get("/api/v1/events").json()["meta"]["total"] == 5


# --- cursors --------------------------------------------------------------------------


@pytest.fixture
def events(factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        for _ in range(4):
            make_event(session, event_type="seminar")


def _next_cursor(api: TestClient, url: str, **params: Any) -> str:
    cursor = api.get(url, params={"limit": 1, **params}).json()["meta"]["next_cursor"]
    assert cursor
    return str(cursor)


def _tampered(cursor: str) -> list[str]:
    body, _, mac = cursor.partition(".")
    flip = lambda s, i: s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1 :]  # noqa: E731
    return [
        flip(body, len(body) // 2) + "." + mac,
        body + "." + flip(mac, 0),
        body,
        cursor + "x",
        "not-a-cursor",
        "." + mac,
        cursor[::-1],
        body + "." + "é" + mac[1:],  # non-ASCII: the MAC cannot be compared as text
        "é" + body[1:] + "." + mac,
    ]


@pytest.mark.usefixtures("events")
def test_tampered_cursors_are_400(api: TestClient) -> None:
    cursor = _next_cursor(api, "/api/v1/events")
    assert api.get("/api/v1/events", params={"limit": 1, "cursor": cursor}).status_code == 200
    for bad in _tampered(cursor):
        response = api.get("/api/v1/events", params={"limit": 1, "cursor": bad})
        assert response.status_code == 400, bad
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.usefixtures("events")
def test_cursors_from_another_list_are_400(api: TestClient, factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        topic = make_topic(session, "Hostages")
        for _ in range(3):
            make_event(session, topics=[topic.slug])
    events_cursor = _next_cursor(api, "/api/v1/events")
    foreign = [
        ("/api/v1/articles", {}),
        ("/api/v1/events", {"sort": "-title"}),
        ("/api/v1/events", {"sort": "starts_at"}),
        ("/api/v1/events", {"event_type": "seminar"}),
        ("/api/v1/events", {"topic": "hostages"}),
        ("/api/v1/events", {"q": "event"}),
        ("/api/v1/topics/hostages/stream", {}),
        ("/api/v1/search", {"q": "event"}),
    ]
    for url, params in foreign:
        response = api.get(url, params={**params, "cursor": events_cursor})
        assert response.status_code == 400, (url, params)
    filtered = _next_cursor(api, "/api/v1/events", event_type="seminar")
    assert api.get("/api/v1/events", params={"cursor": filtered}).status_code == 400
    stream = _next_cursor(api, "/api/v1/topics/hostages/stream")
    assert api.get("/api/v1/events", params={"cursor": stream}).status_code == 400
    # The same list with a different page size is the same list: the cursor is valid.
    assert (
        api.get("/api/v1/events", params={"cursor": events_cursor, "limit": 3}).status_code == 200
    )


# --- includes without N+1 -------------------------------------------------------------


def test_include_costs_the_same_number_of_queries_for_1_20_and_100_events(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    with writing(factory) as session:
        topic = make_topic(session, "Kidnapping")
        orgs = [make_organization(session).slug for _ in range(4)]
        people = [
            make_person(session, organizations=[orgs[i % 4], orgs[(i + 1) % 4]]).slug
            for i in range(8)
        ]
        for i in range(105):
            make_event(
                session,
                topics=[topic.slug],
                participants=[(people[i % 8], "speaker"), (people[(i + 3) % 8], "moderator")],
                sponsors=[orgs[i % 4]],
            )
    engine = api.app.state.engine  # type: ignore[attr-defined]
    # The total is counted once per content version (and the topic's popularity probed once).
    api.get("/api/v1/events", params={"topic": "kidnapping", "limit": 1})
    counts = {}
    for limit in (1, 20, 100):
        params = {
            "topic": "kidnapping",
            "include": "participants.person.affiliations",
            "limit": limit,
        }
        with count_queries(engine) as queries:
            response = api.get("/api/v1/events", params=params)
        assert response.status_code == 200
        data = response.json()["data"]
        assert len(data) == limit
        person = data[0]["participants"][0]["person"]
        assert len(person["affiliations"]) == 2
        assert "url" in person["affiliations"][0]["organization"]  # embedded, not compact
        counts[limit] = queries.count
    assert counts[1] == counts[20] == counts[100], counts
    assert counts[1] <= 15, counts


# --- preview --------------------------------------------------------------------------


def test_preview_needs_a_preview_key_and_the_flag(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    with writing(factory) as session:
        topic = make_topic(session, "Previewed")
        make_event(session, title="Public seminar", topics=[topic.slug])
        draft = make_event(session, title="Draft seminar", status="draft", topics=[topic.slug])
    draft_id = f"evt_{draft.id}"
    preview_key = {"Authorization": f"Bearer {make_key(factory, 'content:preview')}"}
    write_key = {"Authorization": f"Bearer {make_key(factory, 'content:write')}"}
    urls = [
        "/api/v1/events",
        f"/api/v1/events/{draft.slug}",
        "/api/v1/topics/previewed/stream",
        "/api/v1/search?q=seminar",
        "/api/v1/changes",
    ]

    def ids(response: Any) -> set[str]:
        body = response.json()
        return {i["id"] for i in body["data"]} if "data" in body else {body.get("id")}

    for url in urls:
        sep = "&" if "?" in url else "?"
        public = api.get(url)
        assert draft_id not in (ids(public) if public.status_code == 200 else set()), url
        assert api.get(url, headers=preview_key).status_code in (200, 404)
        assert draft_id not in (
            ids(r) if (r := api.get(url, headers=preview_key)).status_code == 200 else set()
        )
        assert api.get(url + sep + "preview=true").status_code == 401, url
        assert api.get(url + sep + "preview=true", headers=write_key).status_code == 403, url
        assert api.get(url + sep + "preview=maybe", headers=preview_key).status_code == 400, url
        previewed = api.get(url + sep + "preview=true", headers=preview_key)
        assert previewed.status_code == 200, (url, previewed.text)
        assert draft_id in ids(previewed), url
        assert previewed.headers["cache-control"] == "private, no-store"
        assert "surrogate-key" not in previewed.headers


# --- HTTP caching ---------------------------------------------------------------------


def test_etag_round_trip_and_change(api: TestClient, factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        event = make_event(session, title="Cached seminar")
    etags = {}
    for url in ("/api/v1/events", f"/api/v1/events/{event.slug}"):
        first = api.get(url)
        etag = etags[url] = first.headers["etag"]
        assert first.headers["cache-control"].startswith("public, max-age=")
        again = api.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert api.get(url, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
        assert api.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    with writing(factory) as session:
        update_item(session, "events", attach(session, event), {"title": "Renamed seminar"}, "test")
    for url, etag in etags.items():
        assert api.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_updated_since_for_partner_sync(api: TestClient, factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        old = make_event(session)
        make_event(session)
    mark = utcnow()
    with writing(factory) as session:
        update_item(
            session, "events", attach(session, old), {"title": "Updated after the mark"}, "test"
        )
    body = api.get("/api/v1/events", params={"updated_since": mark.isoformat()}).json()
    assert [i["id"] for i in body["data"]] == [f"evt_{old.id}"]
    zulu = mark.replace(tzinfo=None).isoformat() + "Z"
    assert api.get("/api/v1/events", params={"updated_since": zulu}).json()["meta"]["total"] == 1


@pytest.mark.parametrize("sort", ["-published_at", "title"])
def test_updated_since_pages_are_the_same_for_few_and_many_changes(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """SQLite reads a sync that found few changes through the `updated_at` index and one
    that found many by walking the sort index (`queries._changed_widely`): the same pages.
    An item scheduled before the mark that became public since is a change too (`Sync 09`),
    as `/changes` counts it: a partner syncing by `updated_since` missed it for good."""
    with writing(factory) as session:
        events = [make_event(session, title=f"Sync {i:02d}") for i in range(9)]
        live_at = utcnow() + timedelta(seconds=1)
        make_event(session, title="Sync 09", published_at=live_at)
    mark = utcnow()
    with writing(factory) as session:
        for event in events[::2]:
            update_item(session, "events", attach(session, event), {"summary": "changed"}, "test")
    before = api.get("/api/v1/events", params={"updated_since": mark.isoformat()}).text
    if utcnow() < live_at:  # else the writes above took that long (a loaded machine)
        assert "Sync 09" not in before
    time.sleep(max(0.0, (live_at - utcnow()).total_seconds()) + 0.05)

    few = _pages_for_few_and_many_changes(
        api, monkeypatch, "/api/v1/events", {"updated_since": mark.isoformat(), "sort": sort}, 6
    )
    assert sorted(title for page in few for title in page) == [
        f"Sync {i:02d}" for i in (0, 2, 4, 6, 8, 9)
    ]


def _pages_for_few_and_many_changes(
    api: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    params: dict[str, Any],
    total: int,
    asks: str = "_changed_widely",
) -> list[list[str]]:
    """The titles of `url`'s pages of two, walked as SQLite reads few rows (`asks`, e.g.
    `_changed_widely`, says so: the changes' ids from the `updated_at` index), then as it
    reads many (each row checked as the sort's index is walked). Both walks must give the
    same pages, each with `total`; SQLite must have taken both ways, and PostgreSQL too
    when `updated_since` is asked about (`few_changed_since` says few: the changes' ids
    first, an InitPlan's array; many: each row's times checked)."""

    def pages() -> list[list[str]]:
        asked: dict[str, Any] = {**params, "limit": 2}
        found = []
        while True:
            body = api.get(url, params=asked).json()
            found.append([item["title"] for item in body["data"]])
            assert body["meta"]["total"] == total
            if body["meta"]["next_cursor"] is None:
                return found
            asked["cursor"] = body["meta"]["next_cursor"]

    widely: list[bool] = []
    sqlite = api.app.state.engine.dialect.name == "sqlite"  # type: ignore[attr-defined]
    # PostgreSQL asks whether few rows changed, not whether many did.
    few_asked = asks == "_changed_widely" and not sqlite
    real = getattr(queries_module, "few_changed_since" if few_asked else asks)

    def spy(*args: Any) -> bool:
        answer: bool = real(*args)
        widely.append(not answer if few_asked else answer)
        return answer

    monkeypatch.setattr(queries_module, "few_changed_since" if few_asked else asks, spy)
    few = pages()
    monkeypatch.setattr(queries_module, "_WALK_FACTOR", 0)
    many = pages()
    assert few == many
    if sqlite or few_asked:
        assert False in widely
        assert True in widely
    return few


def test_a_popular_topics_stream_pages_the_same_for_few_and_many_changes(
    api: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A popular topic's stream, narrowed by `updated_since`: SQLite walks each type's
    `published_at` index. Few changes: their ids, from the `updated_at` index; many: each
    row checked as the walk reads it (`queries._changed_widely`, as for lists; gathering
    the ids of 200,000 changes took ~1 s a page at `large`). The same pages either way."""
    with writing(factory) as session:
        make_topic(session, "Widely read")
        items = [
            make_event(session, title=f"Wide {i:02d}", topics=["widely-read"]) for i in range(6)
        ]
        items += [
            make_article(session, title=f"Wide {i:02d}", topics=["widely-read"])
            for i in range(6, 9)
        ]
        make_event(session, title="Elsewhere")
    mark = utcnow()
    with writing(factory) as session:
        for row, collection in zip(items[::2], ["events"] * 3 + ["articles"] * 2, strict=True):
            update_item(
                session, collection, attach(session, row), {"title": f"{row.title}!"}, "test"
            )
    changed = sorted(f"{row.title}!" for row in items[::2])
    monkeypatch.setattr(queries_module, "_is_popular", lambda *_: True)  # SQLite walks
    few = _pages_for_few_and_many_changes(
        api,
        monkeypatch,
        "/api/v1/topics/widely-read/stream",
        {"updated_since": mark.isoformat()},
        len(changed),
    )
    assert sorted(title for page in few for title in page) == changed


def test_the_change_log_pages_with_cursor_as_every_list_does(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    """`meta.next_cursor` goes back as `cursor` (the same token as `since`), not a 400."""
    with writing(factory) as session:
        for n in range(6):
            make_event(session, title=f"Logged {n}")
    first = api.get("/api/v1/changes", params={"limit": 2}).json()
    token = first["meta"]["next_cursor"]
    assert token == first["meta"]["next_since"]
    by_cursor = api.get("/api/v1/changes", params={"limit": 2, "cursor": token})
    by_since = api.get("/api/v1/changes", params={"limit": 2, "since": token})
    assert by_cursor.status_code == 200, by_cursor.text
    assert by_cursor.json()["data"] == by_since.json()["data"] != []
    following = api.get(by_cursor.json()["links"]["next"])  # carries `since` alone
    assert following.status_code == 200, following.text
    both = api.get("/api/v1/changes", params={"cursor": token, "since": token})
    assert both.status_code == 400
    assert both.json()["errors"][0]["loc"] == ["query", "cursor"]
