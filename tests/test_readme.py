"""The README documents every setting (a new field without a row fails here)."""

from __future__ import annotations

import shlex
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.support import TestDatabases, backend_of, load_demo_into, make_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_configuration_table() -> None:
    text = README.read_text()
    table = text[text.index("## Configuration") :]
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in table, f"{name.upper()} is missing from README.md"


def test_quick_start_is_two_commands() -> None:
    text = README.read_text()
    quick_start = text[text.index("## Quick start") : text.index("## A short tour")]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def _tour_requests() -> list[tuple[str, str, dict[str, str], str | None]]:
    """The short tour's curl commands as (method, path and query, headers, body)."""
    text = README.read_text()
    tour = text[text.index("## A short tour") :]
    block = tour.split("```sh", 1)[1].split("```", 1)[0]
    commands: list[list[str]] = []
    for line in block.splitlines():
        if line.startswith("curl "):
            commands.append([line])
        elif line.startswith("  ") and commands:  # a continuation, inside the quotes
            commands[-1].append(line)
    requests = []
    for command in commands:
        argv = shlex.split("\n".join(command))
        url = next(arg for arg in argv if arg.startswith("http://127.0.0.1:8000/"))
        headers = dict(argv[i + 1].split(": ", 1) for i, arg in enumerate(argv) if arg == "-H")
        body = next((argv[i + 1] for i, arg in enumerate(argv) if arg == "-d"), None)
        requests.append(
            ("POST" if body else "GET", url.removeprefix("http://127.0.0.1:8000"), headers, body)
        )
    return requests


def test_the_short_tour_works_as_written(demo_client: TestClient) -> None:
    """Each request of the tour, sent as written, answers what its comment says."""
    answers = {}
    for method, path, headers, body in _tour_requests():
        response = demo_client.request(method, path, headers=headers, content=body)
        assert response.status_code == 200, (path, response.text)
        answers[path.split("?")[0]] = response
    assert set(answers) == {
        "/api/v1/events",
        "/api/v1/topics/kidnapping/stream",
        "/api/v1/search",
        "/graphql",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    # Events tagged Kidnapping, with compact references to speakers.
    events = answers["/api/v1/events"].json()["data"]
    speakers = [p["person"] for e in events for p in e["participants"] if p["role"] == "speaker"]
    assert speakers
    assert all(set(person) == {"id", "slug", "name"} for person in speakers)
    # The stream, searched, with each event's participants embedded as profiles.
    stream = answers["/api/v1/topics/kidnapping/stream"].json()["data"]
    embedded = [p for item in stream if item["type"] == "event" for p in item["participants"]]
    assert {p["role"] for p in embedded} >= {"speaker", "moderator"}
    assert all("bio" in p["person"] and "affiliations" in p["person"] for p in embedded)
    # Search across the types asked for, each hit's match marked.
    hits = answers["/api/v1/search"].json()["data"]
    assert hits
    assert {hit["type"] for hit in hits} <= {"article", "event"}
    assert all("<mark>" in hit["snippet"] for hit in hits)
    # GraphQL: the same events with every participant's profile and affiliations.
    graphql = answers["/graphql"].json()
    assert "errors" not in graphql
    nodes = [edge["node"] for edge in graphql["data"]["events"]["edges"]]
    assert [node["title"] for node in nodes] == [event["title"] for event in events]
    assert any(p["person"]["affiliations"] for node in nodes for p in node["participants"])


def _graphql_examples() -> list[str]:
    """The ```graphql blocks of "GraphQL for frontends"."""
    text = README.read_text()
    section = text[text.index("## GraphQL for frontends") : text.index("## Writing content")]
    return [block.split("```", 1)[0] for block in section.split("```graphql")[1:]]


def test_the_graphql_examples_run_as_written(
    demo_client: TestClient, database_url: str, test_databases: TestDatabases
) -> None:
    """Each example, sent as written (its variables' defaults), renders the seed page's
    parts: the topic's stream of every kind of item, an event's participants with their
    cards' lines, the article with its quotes placed and its resources' contacts, the
    publication with its citations. The
    fast path and graphql-core answer it alike."""
    examples = _graphql_examples()
    assert len(examples) == 3
    url = test_databases.shared(backend_of(database_url), "demo", load_demo_into)
    stock = create_app(make_settings(url, graphql_fast_path=False))
    answers = []
    try:
        with TestClient(stock) as stock_client:
            for query in examples:
                fast = demo_client.post("/graphql", json={"query": query})
                assert fast.status_code == 200, fast.text
                assert "errors" not in fast.json(), fast.json()
                assert fast.json() == stock_client.post("/graphql", json={"query": query}).json()
                answers.append(fast.json()["data"])
    finally:
        stock.state.engine.dispose()
    topic, article = answers[0]["topic"], answers[1]["article"]
    publication = answers[2]["publication"]
    assert publication["bibtex"].startswith("@article{magaloni2020living,")
    assert "AU  - Magaloni, Beatriz\r\n" in publication["ris"]
    stream = topic["stream"]
    kinds = {item["__typename"] for item in stream["nodes"]}
    assert kinds == {"Article", "Event", "Publication", "Quote"}
    assert stream["totalCount"] == len(stream["nodes"])
    assert not stream["pageInfo"]["hasNextPage"]
    seminar = next(i for i in stream["nodes"] if i["__typename"] == "Event" and i["participants"])
    assert {p["role"] for p in seminar["participants"]} == {"SPEAKER", "MODERATOR"}
    assert all(p["title"] for p in seminar["participants"])
    assert [q["afterBlock"] for q in article["quotes"]] == [8, 15, 26]
    contacts = [c["label"] for r in article["resources"] for c in r["contacts"]]
    assert "24/7 urgent support hotline" in contacts
    assert [r["isConfidential"] for r in article["resources"]].count(True) == 1
