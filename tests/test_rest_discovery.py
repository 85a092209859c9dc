"""Search, the topic stream and the change log, on generated data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.writes import delete_item, update_item
from app.db import utcnow
from tests.rest_factories import (
    attach,
    make_article,
    make_event,
    make_person,
    make_publication,
    make_quote,
    make_topic,
    walk,
    writing,
)

PROBLEM = "application/problem+json"


def _status(api: TestClient, url: str, **params: Any) -> int:
    response = api.get(url, params=params or None)
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
    return response.status_code


# --- search ---------------------------------------------------------------------------


FILLER = "A report on the governance of cities, their budgets, their courts and their schools."


@pytest.fixture
def corpus(factory: sessionmaker[Session]) -> dict[str, str]:
    with writing(factory) as session:
        strong = make_article(
            session,
            title="Ransom payments and ransom economics",
            body=f"<p>Why ransom works: ransom, ransom and more ransom. {FILLER}</p>",
        )
        weak = make_article(
            session, title="Budgets of cities", body=f"<p>{FILLER} One ransom case.</p>"
        )
        event = make_event(session, title="Seminar on ransom negotiation", summary=FILLER)
        person = make_person(session, name="Rana Kidd", title="Hostage negotiator")
        draft = make_article(
            session, title="Ransom draft", status="draft", body="<p>ransom ransom</p>"
        )
        unrelated = make_publication(session, title="Courts and schools", abstract=FILLER)
    return {
        "strong": f"art_{strong.id}",
        "weak": f"art_{weak.id}",
        "event": f"evt_{event.id}",
        "person": f"per_{person.id}",
        "draft": f"art_{draft.id}",
        "unrelated": f"pub_{unrelated.id}",
    }


def test_search_ranks_highlights_and_hides_drafts(api: TestClient, corpus: dict[str, str]) -> None:
    body = api.get("/api/v1/search", params={"q": "ransom"}).json()
    hits = body["data"]
    found = [h["id"] for h in hits]
    assert found[0] == corpus["strong"]
    assert found.index(corpus["strong"]) < found.index(corpus["weak"])
    assert corpus["event"] in found
    assert corpus["draft"] not in found
    assert corpus["unrelated"] not in found
    assert body["meta"]["total"] == len(hits)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for hit in hits:
        assert "<mark>" in hit["snippet"], hit
        assert "</mark>" in hit["snippet"], hit
        assert "ransom" in hit["snippet"].lower()
    first = hits[0]
    assert set(first) == {"type", "id", "slug", "title", "score", "snippet"}
    assert first["type"] == "article"
    assert first["title"] == "Ransom payments and ransom economics"
    event = next(h for h in hits if h["type"] == "event")
    assert event["title"] == "Seminar on ransom negotiation"


def test_search_types_and_errors(api: TestClient, corpus: dict[str, str]) -> None:
    def only(**p: Any) -> list[str]:
        found = api.get("/api/v1/search", params={"q": "ransom", **p}).json()["data"]
        return [h["type"] for h in found]

    assert set(only(type="event")) == {"event"}
    assert set(only(type="article,event")) == {"article", "event"}
    assert set(only(type=["article", "event"])) == {"article", "event"}
    assert only(type="resource") == []
    assert _status(api, "/api/v1/search") == 400
    for bad in ("", "   ", "!!!"):
        assert _status(api, "/api/v1/search", q=bad) == 400, bad
    bad_type = api.get("/api/v1/search", params={"q": "ransom", "type": "article,colour"})
    assert bad_type.status_code == 400
    assert "colour" in bad_type.json()["detail"]
    assert _status(api, "/api/v1/search", q="ransom", type="events") == 400
    assert _status(api, "/api/v1/search", q="ransom", limit="0") == 400
    assert _status(api, "/api/v1/search", q="ransom", page="2") == 400


def test_search_pages_with_a_signed_cursor(api: TestClient, corpus: dict[str, str]) -> None:
    everything = [
        h["id"]
        for h in api.get("/api/v1/search", params={"q": "ransom", "limit": 100}).json()["data"]
    ]
    paged = walk(api, "/api/v1/search", {"q": "ransom", "limit": 1})
    assert [h["id"] for h in paged] == everything
    scores = [h["score"] for h in paged]
    assert scores == sorted(scores, reverse=True)
    cursor = api.get("/api/v1/search", params={"q": "ransom", "limit": 1}).json()["meta"][
        "next_cursor"
    ]
    assert _status(api, "/api/v1/search", q="ransom", cursor=cursor) == 200
    assert _status(api, "/api/v1/search", q="payments", cursor=cursor) == 400
    assert _status(api, "/api/v1/search", q="ransom", type="article", cursor=cursor) == 400
    assert _status(api, "/api/v1/search", q="ransom", cursor=cursor[:-2] + "xx") == 400
    assert _status(api, "/api/v1/events", cursor=cursor) == 400


def test_collection_q_uses_the_same_index(api: TestClient, corpus: dict[str, str]) -> None:
    body = api.get("/api/v1/articles", params={"q": "ransom"}).json()
    assert {a["id"] for a in body["data"]} == {corpus["strong"], corpus["weak"]}
    people = api.get("/api/v1/people", params={"q": "negotiator"}).json()
    assert [p["id"] for p in people["data"]] == [corpus["person"]]


# --- the topic stream -----------------------------------------------------------------


def test_stream_is_typed_newest_first_and_public_only(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with writing(factory) as session:
        topic = make_topic(session, "Kidnapping")
        other = make_topic(session, "Elsewhere")
        tagged = [topic.slug]
        article = make_article(session, topics=tagged, published_at=now - timedelta(days=1))
        event = make_event(session, topics=tagged, published_at=now - timedelta(days=3))
        publication = make_publication(session, topics=tagged, published_at=now - timedelta(days=2))
        quote = make_quote(session, topics=tagged, published_at=now - timedelta(days=4))
        make_article(session, topics=tagged, status="draft")
        make_event(session, topics=tagged, published_at=now + timedelta(days=1))
        make_article(session, topics=[other.slug], published_at=now)
        gone = make_quote(session, topics=tagged, published_at=now)
        delete_item(session, "quotes", gone, "test")
    response = api.get("/api/v1/topics/kidnapping/stream")
    assert response.status_code == 200
    body = response.json()
    assert [(i["type"], i["id"]) for i in body["data"]] == [
        ("article", f"art_{article.id}"),
        ("publication", f"pub_{publication.id}"),
        ("event", f"evt_{event.id}"),
        ("quote", f"quo_{quote.id}"),
    ]
    assert body["meta"] == {"next_cursor": None, "total": 4}
    assert "participants" not in body["data"][2]
    assert "topics" not in body["data"][0]
    assert body["data"][2]["starts_at"]
    assert body["data"][3]["text"]
    keys = response.headers["surrogate-key"].split()
    assert f"top_{topic.id}" in keys
    assert "articles" in keys
    by_id = api.get(f"/api/v1/topics/top_{topic.id}/stream").json()
    assert by_id["data"] == body["data"]
    paged = walk(api, "/api/v1/topics/kidnapping/stream", {"limit": 1})
    assert [i["id"] for i in paged] == [i["id"] for i in body["data"]]


def test_stream_ties_and_errors(api: TestClient, factory: sessionmaker[Session]) -> None:
    same = utcnow() - timedelta(hours=1)
    with writing(factory) as session:
        topic = make_topic(session, "Hostages")
        for _ in range(3):
            make_article(session, topics=[topic.slug], published_at=same)
            make_event(session, topics=[topic.slug], published_at=same)
            make_quote(session, topics=[topic.slug], published_at=same)
    everything = api.get("/api/v1/topics/hostages/stream", params={"limit": 100}).json()["data"]
    # At one instant: articles, then events, then quotes (an article before the quotes taken
    # from it, which carry its time), each type newest id first.
    assert [i["type"] for i in everything] == ["article"] * 3 + ["event"] * 3 + ["quote"] * 3
    ids = [int(i["id"].split("_")[1]) for i in everything]
    assert all(ids[k] > ids[k + 1] for k in (0, 1, 3, 4, 6, 7))
    for limit in (1, 2, 4):
        paged = walk(api, "/api/v1/topics/hostages/stream", {"limit": limit})
        assert [(i["type"], i["id"]) for i in paged] == [(i["type"], i["id"]) for i in everything]
    assert _status(api, "/api/v1/topics/nothing/stream") == 404
    assert "nothing" in api.get("/api/v1/topics/nothing/stream").json()["detail"]
    assert _status(api, "/api/v1/topics/hostages/stream", limit="101") == 400
    assert _status(api, "/api/v1/topics/hostages/stream", cursor="garbage") == 400
    assert _status(api, "/api/v1/topics/hostages/stream", sort="title") == 400


def test_stream_takes_the_list_parameters(api: TestClient, factory: sessionmaker[Session]) -> None:
    """API.md: `sort`, `topic`, `q`, `updated_since`, `include` and `fields` apply to "all
    lists and the topic stream"; each narrows the stream as it narrows a list, pages walk
    without gaps, and a cursor only continues the stream it came from."""
    now = utcnow()
    with writing(factory) as session:
        topic = make_topic(session, "Hostages")
        ransom = make_topic(session, "Ransom")
        speaker = make_person(session, "Ada Negotiator")
        both = [topic.slug, ransom.slug]
        old = make_article(
            session, title="Ransom economics", topics=both, published_at=now - timedelta(days=9)
        )
        event = make_event(
            session,
            title="A seminar on ransom",
            topics=both,
            published_at=now - timedelta(days=7),
            participants=[(speaker.slug, "speaker")],
        )
        quote = make_quote(
            session,
            text="Never pay a ransom.",
            topics=[topic.slug],
            published_at=now - timedelta(days=5),
        )
        plain = make_article(
            session,
            title="Hostage diplomacy",
            topics=[topic.slug],
            published_at=now - timedelta(days=3),
        )
        make_publication(
            session, title="Elsewhere", topics=[ransom.slug], published_at=now - timedelta(days=1)
        )
    url = "/api/v1/topics/hostages/stream"

    def ids(**params: Any) -> list[str]:
        response = api.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found = [item["id"] for item in body["data"]]
        assert body["meta"]["total"] == len(found)
        return found

    newest_first = [f"art_{plain.id}", f"quo_{quote.id}", f"evt_{event.id}", f"art_{old.id}"]
    assert ids() == newest_first
    assert ids(sort="-published_at") == newest_first
    assert ids(sort="published_at") == newest_first[::-1]
    assert ids(topic="ransom") == [f"evt_{event.id}", f"art_{old.id}"]
    assert ids(topic=["ransom", "hostages"]) == newest_first
    assert ids(topic="nothing") == []
    assert ids(q="ransom") == [f"quo_{quote.id}", f"evt_{event.id}", f"art_{old.id}"]
    assert ids(q="ransom", topic="ransom", sort="published_at") == [
        f"art_{old.id}",
        f"evt_{event.id}",
    ]
    with writing(factory) as session:
        update_item(
            session, "quotes", attach(session, quote), {"attribution": "A negotiator"}, "test"
        )
    since = api.get(url).json()["data"][1]["updated_at"]
    assert ids(updated_since=since) == [f"quo_{quote.id}"]
    assert ids(updated_since=(now + timedelta(days=1)).isoformat()) == []

    # Pages walk in both orders, narrowed, totals counted past the first page.
    for params in (
        {"sort": "published_at"},
        {"q": "ransom"},
        {"topic": "ransom", "sort": "published_at"},
    ):
        full = ids(**params)
        for limit in (1, 2):
            first = api.get(url, params={**params, "limit": limit}).json()
            assert first["meta"]["total"] == len(full)
            assert [i["id"] for i in walk(api, url, {**params, "limit": limit})] == full
    cursor = api.get(url, params={"limit": 1, "q": "ransom"}).json()["meta"]["next_cursor"]
    assert _status(api, url, cursor=cursor) == 400
    assert _status(api, url, cursor=cursor, q="hostage") == 400
    assert _status(api, url, cursor=cursor, q="ransom", sort="published_at") == 400
    assert _status(api, url, cursor=cursor, q="ransom") == 200

    # `fields` and `include`: flat objects by default; a field or relation applies to the
    # types that have it, `id` and `type` always come.
    by_id = {i["id"]: i for i in api.get(url).json()["data"]}
    assert "participants" not in by_id[f"evt_{event.id}"]
    assert "topics" not in by_id[f"art_{old.id}"]
    thin = {i["id"]: i for i in api.get(url, params={"fields": "title"}).json()["data"]}
    assert thin[f"art_{old.id}"] == {
        "type": "article",
        "id": f"art_{old.id}",
        "title": "Ransom economics",
    }
    assert thin[f"quo_{quote.id}"] == {"type": "quote", "id": f"quo_{quote.id}"}
    compact = {i["id"]: i for i in api.get(url, params={"fields": "title,topics"}).json()["data"]}
    assert {t["slug"] for t in compact[f"evt_{event.id}"]["topics"]} == {"hostages", "ransom"}
    assert set(compact[f"evt_{event.id}"]["topics"][0]) == {"id", "slug", "name"}
    full = {
        i["id"]: i for i in api.get(url, params={"include": "participants.person"}).json()["data"]
    }
    seminar = full[f"evt_{event.id}"]
    assert seminar["participants"][0]["role"] == "speaker"
    assert seminar["participants"][0]["person"]["name"] == "Ada Negotiator"
    assert {"sort_name", "bio", "affiliations"} <= set(
        seminar["participants"][0]["person"]
    )  # full, not compact
    assert seminar["summary"] == by_id[f"evt_{event.id}"]["summary"]
    assert "participants" not in full[f"art_{old.id}"]
    assert "topics" not in seminar
    keys = api.get(url, params={"include": "participants.person"}).headers["surrogate-key"].split()
    assert f"per_{speaker.id}" in keys
    assert "topics" in api.get(url, params={"topic": "ransom"}).headers["surrogate-key"].split()
    for bad in (
        {"sort": "title"},
        {"include": "nothing"},
        {"include": "participants.person.nothing"},
        {"fields": "nothing"},
        {"updated_since": "yesterday"},
        {"colour": "red"},
    ):
        assert _status(api, url, **bad) == 400, bad


# --- the change log -------------------------------------------------------------------


def _changes(api: TestClient, since: str | None = None, **params: Any) -> dict[str, Any]:
    response = api.get("/api/v1/changes", params={**({"since": since} if since else {}), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_changes_log_creates_updates_and_deletes_but_never_drafts(
    api: TestClient, factory: sessionmaker[Session]
) -> None:
    start = _changes(api)
    assert start["data"] == []
    assert start["meta"]["next_since"]
    with writing(factory) as session:
        topic = make_topic(session, "Kidnapping")
        event = make_event(session, topics=[topic.slug])
        draft = make_article(session, title="Secret draft", status="draft")
        scheduled = make_article(
            session, title="Tomorrow", published_at=utcnow() + timedelta(days=1)
        )
    first = _changes(api, start["meta"]["next_since"])
    assert [(c["action"], c["type"], c["id"]) for c in first["data"]] == [
        ("created", "topic", f"top_{topic.id}"),
        ("created", "event", f"evt_{event.id}"),
    ]
    assert set(first["data"][1]) == {"action", "type", "id", "slug", "updated_at"}
    assert first["data"][1]["slug"] == event.slug
    token = first["meta"]["next_since"]
    assert _changes(api, token)["data"] == []
    assert _changes(api, token)["meta"]["next_since"] == token
    with writing(factory) as session:
        update_item(session, "events", attach(session, event), {"title": "Renamed"}, "test")
        update_item(session, "articles", attach(session, draft), {"title": "Still a draft"}, "test")
    second = _changes(api, token)
    assert [(c["action"], c["id"]) for c in second["data"]] == [("updated", f"evt_{event.id}")]
    with writing(factory) as session:
        delete_item(session, "events", attach(session, event), "test")
        delete_item(session, "articles", attach(session, draft), "test")
    third = _changes(api, second["meta"]["next_since"])
    assert [(c["action"], c["id"]) for c in third["data"]] == [("deleted", f"evt_{event.id}")]
    everything = {c["id"] for c in _changes(api, limit=100)["data"]}
    assert f"art_{draft.id}" not in everything
    assert f"art_{scheduled.id}" not in everything


def test_changes_pagination_and_errors(api: TestClient, factory: sessionmaker[Session]) -> None:
    with writing(factory) as session:
        created = [make_topic(session) for _ in range(5)]
    page = _changes(api, limit=2)
    assert page["meta"]["total"] == 5
    assert page["meta"]["next_cursor"] == page["meta"]["next_since"]
    assert page["links"]["next"].endswith("since=" + page["meta"]["next_since"])
    seen = [c["id"] for c in walk(api, "/api/v1/changes", {"limit": 2})]
    assert seen == [f"top_{t.id}" for t in created]
    last = _changes(api, limit=100)
    assert last["meta"]["next_cursor"] is None
    assert last["links"]["next"] is None
    for bad in ("garbage", last["meta"]["next_since"][:-3] + "abc", "a.b"):
        response = api.get("/api/v1/changes", params={"since": bad})
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"] == ["query", "since"]
    cursor = api.get("/api/v1/topics", params={"limit": 1}).json()["meta"]["next_cursor"]
    assert _status(api, "/api/v1/changes", since=cursor) == 400
    assert _status(api, "/api/v1/changes", cursor="x") == 400
    # A bad token is named by the parameter that carried it (`cursor` is `since` by another
    # name, as on every list).
    by_cursor = api.get("/api/v1/changes", params={"cursor": "garbage"}).json()
    assert by_cursor["errors"][0]["loc"] == ["query", "cursor"]
    assert _status(api, "/api/v1/changes", limit="1000") == 400
