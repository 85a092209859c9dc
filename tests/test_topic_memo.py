"""A list by topic remembers the topic's id (one statement fewer), and never trusts it:
renamed, deleted or replaced topics are seen at once, caches off."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.content import queries as queries_module
from tests.support import count_queries


def _titles(api: TestClient, slug: str) -> list[str]:
    response = api.get("/api/v1/articles", params={"topic": slug, "fields": "title"})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["data"]]


def _article(api: TestClient, writer: dict[str, str], title: str, topic: str) -> None:
    body = {"title": title, "status": "published", "topics": [topic]}
    assert api.post("/api/v1/articles", json=body, headers=writer).status_code == 201


def test_the_second_list_by_a_topic_skips_looking_the_topic_up(
    api: TestClient, writer: dict[str, str]
) -> None:
    api.post("/api/v1/topics", json={"name": "Memo"}, headers=writer)
    _article(api, writer, "Tagged", "memo")
    engine = api.app.state.engine  # type: ignore[attr-defined]
    assert _titles(api, "memo") == ["Tagged"]  # SQLite also asks how popular the topic is
    queries_module._TOPIC_IDS.clear()
    counts = []
    for _ in range(2):
        with count_queries(engine) as queries:
            assert _titles(api, "memo") == ["Tagged"]
        counts.append(queries.count)
    assert counts[1] == counts[0] - 1, counts


def test_a_remembered_topic_is_checked_every_time(api: TestClient, writer: dict[str, str]) -> None:
    api.post("/api/v1/topics", json={"name": "First", "slug": "shifting"}, headers=writer)
    _article(api, writer, "Of the first", "shifting")
    assert _titles(api, "shifting") == ["Of the first"]  # now remembered

    # The slug moves to another topic: the list follows it.
    patched = api.patch("/api/v1/topics/shifting", json={"slug": "first"}, headers=writer)
    assert patched.status_code == 200, patched.text
    assert _titles(api, "shifting") == []
    api.post("/api/v1/topics", json={"name": "Second", "slug": "shifting"}, headers=writer)
    _article(api, writer, "Of the second", "shifting")
    assert _titles(api, "shifting") == ["Of the second"]
    assert _titles(api, "first") == ["Of the first"]

    # Deleted: nothing is tagged with it any more, remembered or not.
    assert _titles(api, "first") == ["Of the first"]
    assert api.delete("/api/v1/topics/first", headers=writer).status_code == 204
    assert _titles(api, "first") == []
    assert _titles(api, "shifting") == ["Of the second"]


def test_a_topic_with_nothing_tagged_is_an_empty_page_with_a_total(
    api: TestClient, writer: dict[str, str]
) -> None:
    api.post("/api/v1/topics", json={"name": "Lonely"}, headers=writer)
    for _ in range(2):
        body = api.get("/api/v1/events", params={"topic": "lonely"}).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0
