"""Drafts, scheduled, archived and deleted items never reach a public surface.

One dataset per backend (built once, then only read): public items tagged "kidnapping"
with Abbas Milani as author/speaker/participant, and beside them, for every publishable
type, a draft, a scheduled (future `published_at`), an archived and a deleted item wired
the same way — plus a deleted person, topic and organization linked from public items.
Every hidden item's slug and title contain "hidden"; nothing public does. Every public
surface is then read and must never mention one: lists (with every include and the
filters that reach them), detail, search, the topic stream, feeds, calendars, GraphQL,
`/changes` (deleted items only as tombstones) and `Surrogate-Key` headers.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.content.types import BY_COLLECTION, BY_NAME
from app.content.writes import upsert_item
from app.db import make_engine, make_session_factory, session_scope
from app.main import create_app
from app.migrations import upgrade_to_head
from tests.admin_helpers import bearer, make_key
from tests.support import TestDatabases, backend_of, make_settings

PAST = "2024-01-01T12:00:00Z"
PUBLISHABLE = ("articles", "events", "publications", "quotes", "resources")
VARIANTS = ("draft", "scheduled", "archived", "deleted")
HIDDEN = re.compile("hidden", re.IGNORECASE)
INCLUDES = {
    "topics": "",
    "organizations": "parent,topics",
    "people": "affiliations,topics",
    "articles": "authors.affiliations,quotes.speaker,resources,related,topics",
    "quotes": "speaker.affiliations,article.related,topics",
    "events": "participants.person.affiliations,sponsors.parent,topics",
    "publications": "authors.affiliations,topics",
    "resources": "topics",
}
FILTERS = {
    "articles": [
        "topic=kidnapping",
        "author=abbas-milani",
        "q=kidnapping",
        "updated_since=2000-01-01T00:00:00Z",
    ],
    "events": [
        "topic=kidnapping",
        "person=abbas-milani",
        "upcoming=true",
        "role=speaker",
        "q=kidnapping",
    ],
    "publications": ["topic=kidnapping", "author=abbas-milani", "q=kidnapping"],
    "quotes": ["topic=kidnapping", "speaker=abbas-milani", "article=public-article"],
    "resources": ["topic=kidnapping", "q=kidnapping"],
    "people": ["topic=kidnapping", "organization=hoover-institution", "q=hidden"],
    "organizations": ["topic=kidnapping"],
    "topics": ["q=hidden"],
}


@dataclass
class Matrix:
    client: TestClient
    preview: dict[str, str]
    hidden_ids: set[str] = field(default_factory=set)  # public ids of every hidden item
    deleted_ids: set[str] = field(default_factory=set)  # of those, the deleted ones
    hidden_slugs: dict[str, list[str]] = field(default_factory=dict)  # collection -> slugs


def _record(
    collection: str, slug: str, title: str, starts: str, extra: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {"slug": slug, "topics": ["kidnapping", "hidden-topic"], **extra}
    if collection in ("articles", "events", "publications"):
        body["title"] = title
    if collection == "articles":
        body.update(authors=["abbas-milani", "hidden-person"], body=f"<p>{title}</p>")
    elif collection == "events":
        body.update(
            starts_at=starts,
            participants=[
                {"person": "abbas-milani", "role": "speaker"},
                {"person": "hidden-person", "role": "host"},
            ],
            sponsors=["hoover-institution", "hidden-org"],
        )
    elif collection == "publications":
        body.update(authors=["abbas-milani", "hidden-person"], year=2024)
    elif collection == "quotes":
        body.update(text=title, speaker="abbas-milani", article="public-article")
    elif collection == "resources":
        body.update(name=title, description=title)
    return body


def _build(url: str) -> None:
    """The dataset, written through the write layer and (for deletions) the API."""
    upgrade_to_head(url)
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    upcoming = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:

            def put(collection: str, data: dict[str, Any]) -> None:
                upsert_item(session, collection, data, "matrix")

            put("topics", {"slug": "kidnapping", "name": "Kidnapping"})
            put("topics", {"slug": "hidden-topic", "name": "Hidden topic"})
            put("organizations", {"slug": "hidden-org", "name": "Hidden Org"})
            put(
                "organizations",
                {
                    "slug": "hoover-institution",
                    "name": "Hoover Institution",
                    "parent": "hidden-org",
                    "topics": ["kidnapping", "hidden-topic"],
                },
            )
            affiliations = [
                {"organization": "hoover-institution", "role": "Fellow"},
                {"organization": "hidden-org", "role": "Hidden role"},
            ]
            put(
                "people",
                {
                    "slug": "abbas-milani",
                    "name": "Abbas Milani",
                    "affiliations": affiliations,
                    "topics": ["kidnapping", "hidden-topic"],
                },
            )
            put(
                "people",
                {"slug": "hidden-person", "name": "Hidden Person", "topics": ["kidnapping"]},
            )
            public = {"status": "published", "published_at": PAST}
            put(
                "articles",
                _record(
                    "articles", "public-article", "Public kidnapping article", upcoming, public
                ),
            )
            for collection in PUBLISHABLE:
                name = BY_COLLECTION[collection].name
                put(
                    collection,
                    _record(
                        collection, f"public-{name}", f"Public kidnapping {name}", upcoming, public
                    ),
                )
                for variant in VARIANTS:
                    status = (
                        "draft" if variant == "draft" else "published"
                    )  # archived below, via the API
                    when = {"draft": None, "scheduled": future}.get(variant, PAST)
                    extra = {"status": status, "published_at": when}
                    title = f"Hidden {variant} kidnapping {name}"
                    put(
                        collection,
                        _record(collection, f"hidden-{variant}-{name}", title, upcoming, extra),
                    )
            related = [
                {"type": BY_COLLECTION[c].name, "slug": f"{p}-{BY_COLLECTION[c].name}"}
                for c in PUBLISHABLE
                for p in ("public", *(f"hidden-{v}" for v in VARIANTS))
                if (c, p) != ("articles", "public")
            ]
            resources = ["public-resource", *(f"hidden-{v}-resource" for v in VARIANTS)]
            put(
                "articles",
                _record(
                    "articles",
                    "public-article",
                    "Public kidnapping article",
                    upcoming,
                    {**public, "related": related, "resources": resources},
                ),
            )
        app = create_app(make_settings(url))
        writer = bearer(make_key(app.state.session_factory, "matrix-writer", "content:write"))
        with TestClient(app) as client:
            doomed = [
                ("people", "hidden-person"),
                ("topics", "hidden-topic"),
                ("organizations", "hidden-org"),
            ]
            doomed += [(c, f"hidden-deleted-{BY_COLLECTION[c].name}") for c in PUBLISHABLE]
            for collection, slug in doomed:
                assert (
                    client.delete(f"/api/v1/{collection}/{slug}", headers=writer).status_code == 204
                )
            for collection in PUBLISHABLE:  # published once, then archived: gone from public view
                url = f"/api/v1/{collection}/hidden-archived-{BY_COLLECTION[collection].name}"
                assert (
                    client.patch(url, json={"status": "archived"}, headers=writer).status_code
                    == 200
                )
        app.state.engine.dispose()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def matrix(database_url: str, test_databases: TestDatabases) -> Iterator[Matrix]:
    url = test_databases.shared(backend_of(database_url), "visibility-matrix", _build)
    app = create_app(make_settings(url))
    preview = bearer(
        make_key(app.state.session_factory, f"matrix-preview-{id(app)}", "content:preview")
    )
    with TestClient(app) as client:
        found = Matrix(client, preview)
        for collection in BY_COLLECTION:
            listed = client.get(
                f"/api/v1/{collection}?preview=true&limit=100", headers=preview
            ).json()["data"]
            slugs = [item["slug"] for item in listed if HIDDEN.search(item["slug"])]
            found.hidden_slugs[collection] = slugs
            found.hidden_ids |= {item["id"] for item in listed if HIDDEN.search(item["slug"])}
        with app.state.session_factory() as session:
            for ctype in BY_NAME.values():
                deleted = select(ctype.model.id).where(ctype.model.deleted_at.is_not(None))  # type: ignore[call-overload, union-attr]
                for pk in session.scalars(deleted):
                    found.hidden_ids.add(ctype.public_id(pk))
                    found.deleted_ids.add(ctype.public_id(pk))
        yield found
    app.state.engine.dispose()


def _check(matrix: Matrix, response: Any, *, allow_tombstones: bool = False) -> str:
    assert response.status_code == 200, response.text
    text = response.text
    keys = set(response.headers.get("Surrogate-Key", "").split())
    if not allow_tombstones:
        assert not keys & matrix.hidden_ids, (
            f"Surrogate-Key names hidden items: {keys & matrix.hidden_ids}"
        )
        assert not HIDDEN.search(text), (
            f"hidden item in {response.url}: ...{text[max(0, HIDDEN.search(text).start() - 200) :][:400]}"
        )  # type: ignore[union-attr]
        for hidden_id in matrix.hidden_ids:
            assert not re.search(rf'"{hidden_id}"', text), f"{hidden_id} in {response.url}"
    assert "public" in text.lower() or "abbas" in text.lower() or "kidnapping" in text.lower(), (
        "surface is empty"
    )
    return text


def _list_total_matches(body: dict[str, Any]) -> None:
    if body["meta"].get("next_cursor") is None:
        assert body["meta"]["total"] == len(body["data"]), "total counts hidden items"


def test_the_dataset_has_hidden_items(matrix: Matrix) -> None:
    for collection in PUBLISHABLE:
        assert len(matrix.hidden_slugs[collection]) == 3, (
            matrix.hidden_slugs
        )  # draft, scheduled, archived
    assert len(matrix.deleted_ids) == len(PUBLISHABLE) + 3
    # The preview shows the draft, scheduled and archived ones (never the deleted one).
    response = matrix.client.get(
        "/api/v1/articles/hidden-draft-article?preview=true", headers=matrix.preview
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Surrogate-Key" not in response.headers
    assert (
        matrix.client.get(
            "/api/v1/articles/hidden-deleted-article?preview=true", headers=matrix.preview
        ).status_code
        == 404
    )


# -- REST -----------------------------------------------------------------------------


@pytest.mark.parametrize("collection", list(INCLUDES))
def test_rest_lists_with_every_include(matrix: Matrix, collection: str) -> None:
    include = INCLUDES[collection]
    for query in ["", *FILTERS[collection]]:
        url = f"/api/v1/{collection}?limit=100&{query}" + (f"&include={include}" if include else "")
        response = matrix.client.get(url)
        if query == "q=hidden":
            assert response.json()["meta"]["total"] == 0, url
            continue
        _check(matrix, response)
        _list_total_matches(response.json())
    # A preview key without ?preview=true sees what the public sees.
    _check(matrix, matrix.client.get(f"/api/v1/{collection}?limit=100", headers=matrix.preview))


def test_filters_naming_a_hidden_item_find_nothing(matrix: Matrix) -> None:
    """A filter by a deleted organization, person or topic matches nothing, as the item's
    own URL is a 404 (Abbas Milani's affiliation to the deleted organization is current)."""
    for url in (
        "/api/v1/people?organization=hidden-org",
        "/api/v1/people?topic=hidden-topic",
        "/api/v1/events?person=hidden-person",
        "/api/v1/articles?author=hidden-person",
        "/api/v1/quotes?speaker=hidden-person",
        "/api/v1/organizations?topic=hidden-topic",
    ):
        body = matrix.client.get(url).json()
        assert body["data"] == [], url
        assert body["meta"]["total"] == 0, url


@pytest.mark.parametrize("collection", list(INCLUDES))
def test_rest_detail_is_404(matrix: Matrix, collection: str) -> None:
    listed = matrix.client.get(
        f"/api/v1/{collection}?preview=true&limit=100", headers=matrix.preview
    ).json()["data"]
    hidden = [item for item in listed if HIDDEN.search(item["slug"])]
    prefix = BY_COLLECTION[collection].id_prefix
    deleted = [i for i in matrix.deleted_ids if i.startswith(prefix + "_")]
    assert hidden or deleted
    missing = matrix.client.get(f"/api/v1/{collection}/no-such-item")
    for ref in [*(i["slug"] for i in hidden), *(i["id"] for i in hidden), *deleted]:
        response = matrix.client.get(f"/api/v1/{collection}/{ref}")
        assert response.status_code == 404, (collection, ref)
        # Indistinguishable from an item that never existed.
        assert response.text.replace(ref, "?") == missing.text.replace("no-such-item", "?")
        assert response.headers.get("Cache-Control") == missing.headers.get("Cache-Control")


@pytest.mark.parametrize(
    "path",
    [
        "articles/public-article",
        "events/public-event",
        "publications/public-publication",
        "quotes/public-quote",
        "people/abbas-milani",
        "organizations/hoover-institution",
        "topics/kidnapping",
    ],
)
def test_rest_detail_embeddings(matrix: Matrix, path: str) -> None:
    collection = path.split("/")[0]
    include = INCLUDES[collection]
    _check(matrix, matrix.client.get(f"/api/v1/{path}"))
    if include:
        _check(matrix, matrix.client.get(f"/api/v1/{path}?include={include}"))


def test_rest_search(matrix: Matrix) -> None:
    for query in (
        "q=kidnapping",
        "q=kidnapping&type=article,event,publication,quote,resource",
        "q=kidnapping&limit=100",
    ):
        response = matrix.client.get(f"/api/v1/search?{query}")
        _check(matrix, response)
        _list_total_matches(response.json())
    for query in ("q=hidden", "q=hidden&type=person,topic,organization"):
        assert matrix.client.get(f"/api/v1/search?{query}").json()["meta"]["total"] == 0


def test_rest_topic_stream(matrix: Matrix) -> None:
    response = matrix.client.get("/api/v1/topics/kidnapping/stream?limit=100")
    _check(matrix, response)
    _list_total_matches(response.json())
    assert {i["type"] for i in response.json()["data"]} == {
        "article",
        "event",
        "publication",
        "quote",
    }
    assert matrix.client.get("/api/v1/topics/hidden-topic/stream").status_code == 404


def test_rest_changes(matrix: Matrix) -> None:
    """Drafts and scheduled items never appear; items that were public and left (deleted,
    archived) appear only as `deleted` tombstones, which partners need to unpublish them."""
    response = matrix.client.get("/api/v1/changes?limit=100")
    _check(matrix, response, allow_tombstones=True)
    changes = response.json()["data"]
    never_public = {
        s for slugs in matrix.hidden_slugs.values() for s in slugs if "archived" not in s
    }
    assert never_public
    assert not never_public & {c["slug"] for c in changes}
    keys = set(response.headers.get("Surrogate-Key", "").split())
    for change in changes:
        if change["id"] in matrix.hidden_ids or HIDDEN.search(change["slug"]):
            assert change["action"] == "deleted", change
            assert change["id"] in matrix.deleted_ids or "archived" in change["slug"], change
    tombstones = {c["id"] for c in changes if c["action"] == "deleted"}
    assert not (keys & matrix.hidden_ids) - tombstones
    assert len(tombstones) == len(matrix.deleted_ids) + len(
        PUBLISHABLE
    )  # every deleted and archived item


def test_rest_citation(matrix: Matrix) -> None:
    for slug in matrix.hidden_slugs["publications"] + ["hidden-deleted-publication"]:
        assert (
            matrix.client.get(f"/api/v1/publications/{slug}/citation?format=bibtex").status_code
            == 404
        )
    assert (
        matrix.client.get(
            "/api/v1/publications/public-publication/citation?format=bibtex"
        ).status_code
        == 200
    )


# -- Feeds and calendars ----------------------------------------------------------------

FEEDS = [
    *(f"/feeds/topics/kidnapping.{f}" for f in ("rss", "atom", "json")),
    *(
        f"/feeds/{c}.{f}"
        for c in ("articles", "events", "publications")
        for f in ("rss", "atom", "json")
    ),
    *(f"/feeds/people/abbas-milani.{f}" for f in ("rss", "atom", "json")),
    "/calendar/topics/kidnapping.ics",
    "/calendar/events.ics",
]


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_and_calendars(matrix: Matrix, url: str) -> None:
    _check(matrix, matrix.client.get(url))


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/topics/hidden-topic.rss",
        "/feeds/people/hidden-person.atom",
        "/calendar/topics/hidden-topic.ics",
    ],
)
def test_feeds_of_deleted_items_are_404(matrix: Matrix, url: str) -> None:
    assert matrix.client.get(url).status_code == 404


# -- GraphQL ----------------------------------------------------------------------------

PERSON = "slug name affiliations { role organization { slug name parent { slug } } } topics { slug name }"
ARTICLE = (
    "slug title authors { " + PERSON + " } topics { slug } resources { slug name } "
    "quotes { slug text speaker { slug } } related { __typename "
    "... on Article { slug title } ... on Event { slug title } ... on Publication { slug title } "
    "... on Quote { slug text } ... on Resource { slug name } }"
)
EVENT = (
    "slug title participants { role person { "
    + PERSON
    + " } } speakers { slug } sponsors { slug parent { slug } } topics { slug }"
)
PUBLICATION = "slug title authors { slug name } topics { slug }"
QUOTE = "slug text speaker { slug name } article { slug title } topics { slug }"
RESOURCE = "slug name topics { slug }"
STREAM_ITEM = (
    "__typename ... on Article { " + ARTICLE + " } ... on Event { " + EVENT + " } "
    "... on Publication { " + PUBLICATION + " } ... on Quote { " + QUOTE + " }"
)

GRAPHQL_QUERIES = {
    "lists": (
        "{ articles(first: 100) { totalCount edges { node { " + ARTICLE + " } } } "
        "events(first: 100) { totalCount edges { node { " + EVENT + " } } } "
        "publications(first: 100) { totalCount edges { node { " + PUBLICATION + " } } } "
        "quotes(first: 100) { totalCount edges { node { " + QUOTE + " } } } "
        "resources(first: 100) { totalCount edges { node { " + RESOURCE + " } } } "
        "people(first: 100) { totalCount edges { node { " + PERSON + " } } } "
        "organizations(first: 100) { totalCount edges { node { slug name parent { slug } topics { slug } } } } "
        "topics(first: 100) { totalCount edges { node { slug name } } } }"
    ),
    "filtered": (
        '{ events(filter: {topic: "kidnapping", upcoming: true}, first: 100) { totalCount edges { node { '
        + EVENT
        + " } } } "
        'articles(filter: {author: "abbas-milani"}, first: 100) { totalCount edges { node { slug } } } '
        'quotes(filter: {speaker: "abbas-milani"}, first: 100) { totalCount edges { node { slug } } } }'
    ),
    "stream": '{ topic(slug: "kidnapping") { slug stream(first: 100) { totalCount edges { node { '
    + STREAM_ITEM
    + " } } } } }",
    "person": (
        '{ person(slug: "abbas-milani") { ' + PERSON + " "
        "articles(first: 100) { totalCount edges { node { slug title } } } "
        "events(first: 100) { totalCount edges { node { slug title } } } "
        "publications(first: 100) { totalCount edges { node { slug title } } } "
        "quotes(first: 100) { totalCount edges { node { slug text } } } } }"
    ),
    "search": (
        '{ search(query: "kidnapping", first: 100) { totalCount edges { type snippet node { __typename '
        "... on Article { slug title } ... on Event { slug title } ... on Publication { slug title } "
        "... on Quote { slug text } ... on Resource { slug name } ... on Person { slug name } } } } }"
    ),
}


def _graphql(matrix: Matrix, query: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = matrix.client.post("/graphql", json={"query": query}, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body["errors"]
    return body


def _connections_consistent(value: Any) -> None:
    """Every connection's totalCount equals its edges (all lists here fit one page)."""
    if isinstance(value, dict):
        if "totalCount" in value and "edges" in value:
            assert value["totalCount"] == len(value["edges"]), "totalCount counts hidden items"
        for child in value.values():
            _connections_consistent(child)
    elif isinstance(value, list):
        for child in value:
            _connections_consistent(child)


@pytest.mark.parametrize("name", list(GRAPHQL_QUERIES))
def test_graphql(matrix: Matrix, name: str) -> None:
    body = _graphql(matrix, GRAPHQL_QUERIES[name])
    text = str(body)
    assert not HIDDEN.search(text), text[max(0, HIDDEN.search(text).start() - 300) :][:600]  # type: ignore[union-attr]
    assert "abbas" in text.lower() or "public" in text.lower()
    _connections_consistent(body)
    # A preview key without the X-Preview header sees what the public sees.
    assert not HIDDEN.search(str(_graphql(matrix, GRAPHQL_QUERIES[name], matrix.preview)))


def test_graphql_search_for_hidden_finds_nothing(matrix: Matrix) -> None:
    body = _graphql(matrix, '{ search(query: "hidden", first: 100) { totalCount edges { type } } }')
    assert body["data"]["search"] == {"totalCount": 0, "edges": []}


def _global_id(public_id: str) -> str:
    prefix = public_id.split("_")[0]
    ctype = next(t for t in BY_NAME.values() if t.id_prefix == prefix)
    return base64.b64encode(f"{ctype.name.capitalize()}:{public_id}".encode()).decode()


def test_graphql_single_items_and_nodes_are_null(matrix: Matrix) -> None:
    fields = {
        "articles": "article",
        "events": "event",
        "publications": "publication",
        "quotes": "quote",
        "resources": "resource",
        "people": "person",
        "topics": "topic",
        "organizations": "organization",
    }
    parts = []
    for collection, slugs in matrix.hidden_slugs.items():
        for i, slug in enumerate(slugs):
            parts.append(
                f'{fields[collection]}_{i}: {fields[collection]}(slug: "{slug}") {{ slug }}'
            )
    for n, public_id in enumerate(sorted(matrix.hidden_ids)):
        collection = next(
            c for c, t in BY_COLLECTION.items() if public_id.startswith(t.id_prefix + "_")
        )
        parts.append(f'node_{n}: node(id: "{_global_id(public_id)}") {{ id }}')
        parts.append(f'by_id_{n}: {fields[collection]}(id: "{_global_id(public_id)}") {{ slug }}')
    body = _graphql(matrix, "{ " + " ".join(parts) + " }")
    assert len(body["data"]) == len(parts)
    assert all(value is None for value in body["data"].values()), body["data"]
    ids = [f'"{_global_id(i)}"' for i in sorted(matrix.hidden_ids)]
    nodes = _graphql(matrix, "{ nodes(ids: [" + ", ".join(ids) + "]) { id } }")
    assert nodes["data"]["nodes"] == [None] * len(ids)


def test_graphql_preview_shows_drafts(matrix: Matrix) -> None:
    query = '{ article(slug: "hidden-draft-article") { slug status } }'
    assert _graphql(matrix, query)["data"]["article"] is None
    shown = _graphql(matrix, query, {**matrix.preview, "X-Preview": "true"})
    assert shown["data"]["article"] == {"slug": "hidden-draft-article", "status": "DRAFT"}
    response = matrix.client.get(
        "/graphql", params={"query": query}, headers={**matrix.preview, "X-Preview": "true"}
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Surrogate-Key" not in response.headers
    assert matrix.client.post(
        "/graphql", json={"query": query}, headers={"X-Preview": "true"}
    ).status_code in (401, 403)


def test_the_checks_can_fail(matrix: Matrix) -> None:
    """What the editor's preview shows would fail every check above."""
    preview = matrix.client.get(
        "/api/v1/articles?preview=true&include=related", headers=matrix.preview
    )
    with pytest.raises(AssertionError, match="hidden"):
        _check(matrix, preview)
    graphql = _graphql(matrix, GRAPHQL_QUERIES["lists"], {**matrix.preview, "X-Preview": "true"})
    assert HIDDEN.search(str(graphql))
