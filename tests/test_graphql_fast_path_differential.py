"""The fast path against graphql-core over HTTP, on adversarial requests.

Two apps over one database, `GRAPHQL_FAST_PATH` on and off, get the same requests: the
status and the body must be byte for byte the same. The requests are the ones generators
rarely write: aliases over the same field with other arguments or named like another
field, fragments on interfaces and unions with type conditions that do not match,
`@skip`/`@include` on variables (true, false, null, missing), variables with defaults
and explicit nulls, input coercion (a single value for a list, an enum as a string, ints
out of range), `__typename` everywhere, introspection beside data, bad cursors, every
filter, operation selection, GET and POST, and the preview. The content includes what
the public must not see: drafts, a scheduled and an archived item, deleted ones, and
links to all of them (created through the REST admin API).

A request the fast path answers without errors must be its own work: no silent fallback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.graphql.execution import FAST
from tests.admin_helpers import Keys

FUTURE = "2099-01-01T00:00:00Z"
PAST = "2020-01-01T00:00:00Z"

# In creation order: every item is created before an item that refers to it.
ITEMS: list[tuple[str, dict[str, Any]]] = [
    ("organizations", {"slug": "gone-org", "name": "Gone", "parent": "stanford-university"}),
    (
        "people",
        {
            "slug": "gone-person",
            "name": "Gone Person",
            "photo": {"url": "https://example.org/p.jpg"},
            "affiliations": [{"organization": "gone-org", "role": "Head", "is_primary": True}],
        },
    ),
    (
        "people",
        {
            "slug": "former-staff",
            "name": "Former Staff",
            "affiliations": [
                {"organization": "hoover-institution", "role": "COO", "is_current": False},
                {"organization": "hoover-institution", "role": "Fellow", "end_year": 2009},
                {"organization": "stanford-university", "role": "Adviser"},
            ],
        },
    ),
    ("articles", {"slug": "draft-article", "title": "Draft", "authors": ["abbas-milani"]}),
    (
        "articles",
        {
            "slug": "scheduled-article",
            "title": "Soon",
            "status": "published",
            "published_at": FUTURE,
        },
    ),
    (
        "articles",
        {"slug": "archived-article", "title": "Old", "status": "archived", "published_at": PAST},
    ),
    (
        "articles",
        {
            "slug": "deleted-article",
            "title": "Gone",
            "status": "published",
            "published_at": PAST,
            "topics": ["kidnapping"],
        },
    ),
    (
        "events",
        {
            "slug": "draft-event",
            "title": "Draft event",
            "starts_at": "2030-01-01T10:00:00Z",
            "participants": [{"person": "abbas-milani", "role": "speaker"}],
            "topics": ["kidnapping"],
        },
    ),
    (
        "events",
        {
            "slug": "public-event",
            "title": "Public event",
            "status": "published",
            "published_at": PAST,
            "starts_at": "2098-01-01T10:00:00Z",
            "venue": {"name": "Room 1"},
            "attendance_mode": "hybrid",
            "online_platform": "Zoom",
            "hero_image": {"url": "/media/events/x.jpg", "credit": "Rod Searcey"},
            "participants": [
                {"person": "abbas-milani", "role": "speaker", "title": "Fellow"},
                {"person": "larry-diamond", "role": "moderator"},
                {"person": "gone-person", "role": "host"},
                {"person": "former-staff", "role": "panelist"},
            ],
            "sponsors": ["gone-org", "hoover-institution"],
            "topics": ["kidnapping", "israel"],
        },
    ),
    ("resources", {"slug": "draft-resource", "name": "Draft resource"}),
    (
        "resources",
        {
            "slug": "public-resource",
            "name": "Hotline",
            "status": "published",
            "published_at": PAST,
            "is_confidential": True,
            "phone": "650.736.6933",
            "hotline": "650.725.9955",
            "topics": ["kidnapping"],
        },
    ),
    (
        "resources",
        {
            "slug": "labelled-resource",
            "name": "Helpline",
            "status": "published",
            "published_at": PAST,
            "contacts": [
                {"label": "Helpline", "kind": "phone", "value": "866.742.5667 (SHALOM-7)"},
                {"label": "Write", "kind": "email", "value": "help@example.org"},
            ],
        },
    ),
    ("publications", {"slug": "draft-publication", "title": "Draft", "authors": ["abbas-milani"]}),
    (
        "publications",
        {
            "slug": "public-publication",
            "title": "Paper",
            "status": "published",
            "published_at": PAST,
            "year": 2020,
            "published_on": "2020-02-03",
            "authors": ["abbas-milani", "gone-person"],
            "topics": ["kidnapping"],
        },
    ),
    (
        "articles",
        {
            "slug": "public-article",
            "title": "Public",
            "status": "published",
            "published_at": PAST,
            "authors": ["abbas-milani", "gone-person", "larry-diamond"],
            "hero_image": {"url": "https://example.org/x.jpg", "caption": "A caption"},
            "body": "<p>One.</p><p>Two.</p>",
            "resources": ["draft-resource", "public-resource", "labelled-resource"],
            "related": [
                {"type": kind, "slug": slug}
                for kind, slug in [
                    ("article", "draft-article"),
                    ("article", "scheduled-article"),
                    ("article", "deleted-article"),
                    ("event", "draft-event"),
                    ("event", "public-event"),
                    ("publication", "draft-publication"),
                    ("publication", "public-publication"),
                    ("resource", "public-resource"),
                ]
            ],
            "topics": ["kidnapping", "israel"],
        },
    ),
    (
        "quotes",
        {
            "slug": "public-quote",
            "text": "Words.",
            "status": "published",
            "published_at": PAST,
            "speaker": "abbas-milani",
            "article": "public-article",
            "after_block": 1,
            "topics": ["kidnapping"],
        },
    ),
    ("quotes", {"slug": "draft-quote", "text": "Draft words.", "speaker": "larry-diamond"}),
    (
        "quotes",
        {
            "slug": "quote-of-a-draft",
            "text": "Of a draft.",
            "status": "published",
            "published_at": PAST,
            "speaker": "gone-person",
            "article": "draft-article",
            "after_block": 0,  # a place the public does not see, with the article
            "topics": ["kidnapping"],
        },
    ),
]
DELETED = [
    ("articles", "deleted-article"),
    ("people", "gone-person"),
    ("organizations", "gone-org"),
]


def _gid(type_name: str, public_id: str) -> str:
    return base64.b64encode(f"{type_name}:{public_id}".encode()).decode()


IDS = [
    _gid(name, f"{prefix}_{n}")
    for name, prefix in [("Article", "art"), ("Person", "per"), ("Event", "evt")]
    for n in (1, 2, 3, 4, 5)
] + [_gid("Topic", "top_1"), _gid("Nope", "x_1"), "bogus", "art_1", ""]
PROFILE = (
    "fragment Profile on Person { name slug photo { url } "
    "affiliations { role isCurrent organization { name parent { name } } } }"
)
NODES = json.dumps(IDS)

# Requests without variables or an operation name.
QUERIES: list[str] = [
    # Aliases: one field twice with other arguments, aliases named like other fields.
    "{ a: events(first: 1) { totalCount nodes { slug } } b: events(first: 2, sort: TITLE) { nodes { slug } } }",
    "{ events: articles { nodes { title: slug slug: title } } articles: events { nodes { slug } } }",
    '{ topic(slug: "kidnapping") { name: slug slug: name description: id } t: __typename }',
    "{ events { nodes { title } } events { nodes { slug } edges { cursor } } }",
    '{ person(slug: "abbas-milani") { a: articles(first: 1) { nodes { slug } } b: articles(sort: TITLE_DESC) { nodes { slug } } c: events(filter: {role: SPEAKER}) { totalCount } } }',
    '{ event(slug: "public-event") { speakers { name } s: speakers { slug } moderators { name } participants { role title person { ...Profile } } } } '
    + PROFILE,
    # Fragments on interfaces and unions; type conditions that do not match.
    "{ nodes(ids: "
    + NODES
    + ") { __typename ... on Node { id } ... on Article { title authors { ...Profile } } ...P } } fragment P on Person { name ... on Node { id } } "
    + PROFILE,
    "{ nodes(ids: "
    + NODES
    + ") { ... on Node { ... on Event { ... on Node { id } speakers { ... on Node { id } } } } } }",
    '{ topic(slug: "kidnapping") { ...N ... on Node { __typename ... on Article { title } } } } fragment N on Node { id ... on Topic { name } }',
    '{ article(slug: "public-article") { related { __typename ... on Node { id } ... on Article { slug status } ... on Event { slug speakers { slug } } ... on Publication { slug authors { slug } } ... on Resource { slug isConfidential contacts { kind label } } ... on ContentItem { __typename } } resources { slug phone contacts { label kind value } } authors { slug } heroImage { url alt caption } quotes { slug afterBlock position speaker { slug } } } }',
    '{ topic(slug: "kidnapping") { stream(first: 50) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { __typename ...A ...A ...C } } } } } fragment A on Article { title } fragment C on ContentItem { ... on Quote { text afterBlock article { slug } speaker { slug } } ... on Event { slug } }',
    # A quote's place without its article selected: the article is read all the same.
    "{ quotes(sort: SLUG) { nodes { slug afterBlock } } q: quotes { nodes { afterBlock article { title } } } }",
    '{ search(query: "Public") { totalCount edges { type cursor node { __typename ... on Node { id } ... on Article { title } } } } }',
    # Streams of every topic at once (first pages in one query), beside one topic's.
    '{ topics { nodes { slug stream(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { __typename ... on Node { id } ... on Quote { speaker { slug } } } } } s: stream(types: [QUOTE, ARTICLE]) { totalCount nodes { __typename ... on Article { title authors { slug } } } } } } topic(slug: "kidnapping") { stream(first: 2) { totalCount nodes { __typename } } } }',
    "{ topics { totalCount @skip(if: true) @include(if: true) nodes @skip(if: false) { slug } nodes { name } } }",
    # A stream narrowed and reordered as REST's stream parameters do, beside the plain one.
    '{ topics { nodes { slug stream(first: 2) { totalCount nodes { __typename } } old: stream(first: 2, sort: PUBLISHED_AT) { totalCount pageInfo { hasNextPage endCursor } nodes { __typename ... on Node { id } } } q: stream(filter: {q: "public", topics: ["kidnapping"]}, types: [ARTICLE, QUOTE]) { totalCount nodes { __typename ... on Article { title } ... on Quote { afterBlock article { slug } } } } } } }',
    '{ topic(slug: "kidnapping") { stream(filter: {topic: "", updatedSince: "0001-01-01T00:00:00Z"}) { totalCount } } }',
    # Input coercion: an enum as a string, a single value for a list, ints out of range.
    '{ events(sort: "TITLE") { totalCount } }',
    '{ search(query: "Public", types: ARTICLE) { totalCount } }',
    '{ topic(slug: "kidnapping") { stream(types: QUOTE) { nodes { __typename } } } }',
    "{ events(first: 2147483648) { totalCount } }",
    "{ publications(filter: {year: 2147483647}) { totalCount } }",
    # Pagination extremes and bad cursors.
    "{ organizations(first: 0) { totalCount } }",
    "{ organizations(first: 101) { totalCount } }",
    "{ organizations(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { cursor } } }",
    '{ organizations(after: "bogus") { totalCount } topics { totalCount } }',
    '{ organizations(after: "") { pageInfo { hasPreviousPage } nodes { slug } } }',
    '{ topic(slug: "kidnapping") { stream(after: "x") { totalCount } } }',
    '{ search(query: "Public", after: "x") { totalCount } }',
    # Filters of every type; empty results.
    '{ topics(filter: {q: "kidnapping"}) { nodes { slug } } organizations(filter: {topic: "nope"}) { totalCount pageInfo { startCursor } nodes { slug } } }',
    '{ people(filter: {organization: "hoover-institution", topics: ["kidnapping"]}) { nodes { slug } } }',
    '{ articles(filter: {articleType: NEWS, author: "abbas-milani", publishedAfter: "2019-01-01T00:00:00Z"}) { nodes { slug } } }',
    '{ events(filter: {upcoming: true, attendanceMode: IN_PERSON, person: "larry-diamond", role: MODERATOR}) { nodes { slug } } }',
    '{ publications(filter: {year: 2020, author: "abbas-milani"}) { nodes { slug } } quotes(filter: {speaker: "abbas-milani"}) { nodes { slug } } resources(filter: {resourceType: OTHER}) { nodes { slug } } }',
    '{ articles(filter: {topic: ""}) { totalCount } }',
    '{ articles(filter: {publishedAfter: "0001-01-01T00:00:00+14:00"}) { totalCount } }',
    # Hidden items: drafts, scheduled, archived, deleted; links to them.
    '{ a: article(slug: "draft-article") { slug } b: article(slug: "scheduled-article") { slug } c: article(slug: "archived-article") { slug } d: article(slug: "deleted-article") { slug } e: person(slug: "gone-person") { slug } }',
    '{ quote(slug: "quote-of-a-draft") { speaker { slug } article { slug } } publication(slug: "public-publication") { authors { slug } publishedOn } event(slug: "public-event") { sponsors { slug parent { slug } } venue { name address } heroImage { url alt caption credit } attendanceMode onlinePlatform } }',
    '{ person(slug: "abbas-milani") { affiliations { organization { slug } } articles { nodes { slug } } events { nodes { slug } } publications { nodes { slug } } quotes { nodes { slug } } feeds { rss ics } } }',
    # As deep as the limit allows, and one level more.
    '{ article(slug: "public-article") { related { ... on Event { participants { person { affiliations { organization { parent { parent { name } } } } } } } } } }',
    '{ article(slug: "public-article") { related { ... on Event { participants { person { affiliations { organization { parent { parent { topics { name } } } } } } } } } } }',
    # A resolver reading several columns, asked alone (the projection reads them all).
    "{ resources { nodes { contacts { label value } } } events { nodes { heroImage { url } } } }",
    # Bad single-item arguments.
    "{ event { slug } }",
    '{ event(slug: "x", id: "y") { slug } }',
    '{ event(id: "' + _gid("Article", "art_1") + '") { slug } }',
]
# Answered by graphql-core whatever the setting.
INTROSPECTION = [
    "{ __typename topics { totalCount } __schema { queryType { name } } }",
    '{ topics { totalCount } __type(name: "Topic") { name } }',
]
SKIP = "query($s: Boolean!, $i: Boolean = true) { topics { totalCount @skip(if: $s) nodes @include(if: $i) { slug } t: totalCount @include(if: $s) @skip(if: $i) } }"
FRAGMENT_SKIP = "query($i: Boolean!) { topics { ... @include(if: $i) { totalCount } ...F @skip(if: $i) } } fragment F on TopicConnection { nodes { slug } }"
FIRST = "query($first: Int = 2) { events(first: $first) { totalCount nodes { slug } } }"
FILTER = 'query($f: EventFilter = {topic: "israel"}) { events(filter: $f) { totalCount } }'
SORT = "query($s: EventSort) { events(sort: $s) { nodes { slug } } }"
IDS_QUERY = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
N = "query($n: Int!) { events(first: $n) { totalCount } }"
# Variables: true, false, null and missing; defaults and explicit nulls; coercion.
WITH_VARIABLES: list[tuple[str, dict[str, Any]]] = [
    (SKIP, {"s": True, "i": True}),
    (SKIP, {"s": False, "i": False}),
    (SKIP, {"s": False}),
    (SKIP, {"s": False, "i": None}),
    (SKIP, {"s": None}),
    (SKIP, {}),
    (FRAGMENT_SKIP, {"i": False}),
    (FIRST, {"first": None}),
    (FIRST, {}),
    (FILTER, {"f": None}),
    (FILTER, {"f": {"topic": None, "upcoming": True}}),
    (SORT, {"s": "TITLE_DESC"}),
    (SORT, {"s": "title"}),
    (IDS_QUERY, {"ids": _gid("Topic", "top_1")}),
    (IDS_QUERY, {"ids": [_gid("Topic", "top_1")] * 101}),
    (N, {"n": 2**31}),
    (N, {"n": 1.0}),
]
MULTI = "query A { topics { totalCount } } query B($n: Int!) { events(first: $n) { totalCount } }"
# Operation selection: (document, variables, operationName).
OPERATIONS: list[tuple[str, dict[str, Any] | None, str | None]] = [
    (MULTI, None, "A"),
    (MULTI, {"n": 1}, "B"),
    (MULTI, None, "B"),
    (MULTI, None, "C"),
    (MULTI, None, None),
    (MULTI + " fragment Unused on Topic { name }", None, "A"),
]
REQUESTS: list[tuple[str, dict[str, Any] | None, str | None]] = [
    *((query, None, None) for query in QUERIES + INTROSPECTION),
    *((query, variables, None) for query, variables in WITH_VARIABLES),
    *OPERATIONS,
]


class Pair:
    """A client of each app and a record of the requests the fast path gave up on."""

    def __init__(self, fast: TestClient, stock: TestClient, keys: Keys) -> None:
        self.fast = fast
        self.stock = stock
        self.keys = keys
        self.gave_up: list[BaseException] = []

    def compare(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        *,
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        answers = []
        for client in (self.fast, self.stock):
            if method == "POST":
                payload: dict[str, Any] = {"query": query}
                if variables is not None:
                    payload["variables"] = variables
                if operation_name is not None:
                    payload["operationName"] = operation_name
                response = client.post("/graphql", json=payload, headers=headers or {})
            else:
                params = {"query": query}
                if variables is not None:
                    params["variables"] = json.dumps(variables)
                if operation_name is not None:
                    params["operationName"] = operation_name
                response = client.get("/graphql", params=params, headers=headers or {})
            answers.append(response)
        fast, stock = answers
        assert (fast.status_code, fast.text) == (stock.status_code, stock.text), (
            method,
            headers,
            query,
            variables,
        )
        body: dict[str, Any] = stock.json()
        return body


@pytest.fixture
def pair(app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    fast_app = app_factory(graphql_fast_path=True, response_cache=False)
    stock_app = app_factory(graphql_fast_path=False, response_cache=False)
    keys = Keys(fast_app.state.session_factory, seed=True)
    with TestClient(fast_app) as fast, TestClient(stock_app) as stock:
        for collection, body in ITEMS:
            response = fast.post(f"/api/v1/{collection}", json=body, headers=keys.admin)
            assert response.status_code == 201, response.text
        for collection, slug in DELETED:
            response = fast.delete(f"/api/v1/{collection}/{slug}", headers=keys.admin)
            assert response.status_code == 204, response.text
        found = Pair(fast, stock, keys)
        original = FAST.execute

        def recording(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            except Exception as exc:
                found.gave_up.append(exc)
                raise

        monkeypatch.setattr(FAST, "execute", recording)
        yield found


def test_fast_path_and_graphql_core_answer_adversarial_requests_alike(pair: Pair) -> None:
    preview = {"X-Preview": "true", **pair.keys.previewer}
    for index, (query, variables, operation_name) in enumerate(REQUESTS):
        variants: list[tuple[str, dict[str, str] | None]] = [("POST", None)]
        # GET and the preview on every other request: the whole list stays a second's work.
        variants.append(("GET", preview) if index % 2 else ("GET", None))
        if index % 2 == 0:
            variants.append(("POST", preview))
        for method, headers in variants:
            pair.gave_up.clear()
            body = pair.compare(query, variables, operation_name, method=method, headers=headers)
            if "errors" not in body and query not in INTROSPECTION:
                assert pair.gave_up == [], (query, variables, pair.gave_up)
