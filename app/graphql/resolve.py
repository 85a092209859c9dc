"""What the root fields and connections resolve to — always through the query layer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import Enum
from typing import Any

import orjson
from strawberry.types import Info

from app.content.cursors import encode_token
from app.content.errors import QueryError
from app.content.nested import BATCHED, first_pages, first_stream_pages
from app.content.queries import Page, StreamPage, get_item, get_items, list_items, topic_stream
from app.content.search import Hit, search, search_position
from app.content.types import ALL_TYPES, BY_NAME, STREAM_TYPES, ContentType
from app.graphql.arguments import check_first, list_params, stream_params
from app.graphql.connections import ConnectionData, PageInfoData
from app.graphql.context import Context, context_of
from app.graphql.ids import parse_global_id

MAX_NODES = 100


def list_connection(
    info: Info[Any, Any],
    ctype: ContentType,
    filter: Any | None,
    sort: Enum | None,
    first: int,
    after: str | None,
    fixed: dict[str, Any] | None = None,
) -> ConnectionData:
    """A page of a collection: the same `list_items` call, with the same params, as REST."""
    context = context_of(info)
    params = list_params(ctype, filter, sort, first, after, fixed)
    page = list_items(
        context.session, ctype, params, context.viewer, context.secret, context.pool.projection
    )
    return _connection(context, ctype, page, after)


def nested_connection(
    info: Info[Any, Any],
    ctype: ContentType,
    filter: Any | None,
    sort: Enum | None,
    first: int,
    after: str | None,
    parent: Any,
    by: str,
) -> ConnectionData:
    """A parent's list (`by`: the filter its slug fills, e.g. a person's articles by
    `author`): `list_connection`'s page, the first pages of every parent in one query."""
    if after is not None or (ctype.collection, by) not in BATCHED:
        return list_connection(info, ctype, filter, sort, first, after, {by: parent.slug})
    context = context_of(info)
    params = list_params(ctype, filter, sort, first, None, {by: None})

    def fetch(parents: list[Any]) -> dict[int, Page]:
        pages = first_pages(
            context.session,
            ctype,
            params,
            by,
            [row.slug for row in parents],
            context.viewer,
            context.secret,
            context.pool.projection,
        )
        return {row.id: pages[row.slug] for row in parents}

    key = (ctype.name, by, repr(params))
    return _connection(context, ctype, context.page(parent, key, fetch, "slug"), after)


def _connection(
    context: Context, ctype: ContentType, page: Page, after: str | None
) -> ConnectionData:
    context.collections.update(page.collections)
    context.time_bound.append(page.changes_at)
    context.returned(ctype, page.items)
    return ConnectionData(
        page.items,
        lambda: page.total,
        page.next_cursor is not None,
        after is not None,
        page.cursor_at,
    )


def _key_of(ctype: ContentType, slug: str | None, id: str | None) -> str | None:
    """The `get_item` key for a slug or an id (a Relay global id, or a REST public id)."""
    if (slug is None) == (id is None):
        raise QueryError("slug", "give exactly one of `slug` and `id`")
    # An empty one names nothing, as an empty filter slug (`filter: {topic: ""}`) does not.
    if slug == "":
        raise QueryError("slug", "must be a slug")
    if id == "":
        raise QueryError("id", "must be an id")
    if slug is not None:
        return slug if ctype.parse_public_id(slug) is None else None
    assert id is not None
    parsed = parse_global_id(id)
    if parsed is not None:
        return parsed[1] if parsed[0] is ctype else None
    return id if ctype.parse_public_id(id) is not None else None


def single(
    info: Info[Any, Any], ctype: ContentType, slug: str | None, id: str | None
) -> Any | None:
    """One item by slug or id; None when unknown or not visible to this viewer."""
    key = _key_of(ctype, slug, id)
    context = context_of(info)
    # Named even when absent: creating the item must purge a cached "null".
    context.collections.add(ctype.collection)
    if key is None:
        return None
    row = get_item(context.session, ctype, key, context.viewer)
    if row is not None:
        context.returned(ctype, [row])
    return row


def nodes(info: Info[Any, Any], ids: list[str]) -> list[Any | None]:
    """Items by global id, in the order asked, None where unknown (one query per type)."""
    if len(ids) > MAX_NODES:
        raise QueryError("ids", f"at most {MAX_NODES} ids at a time")
    context = context_of(info)
    parsed = [parse_global_id(i) for i in ids]
    wanted: dict[str, list[str]] = {}
    for item in parsed:
        if item is not None:
            wanted.setdefault(item[0].name, []).append(item[1])
    found: dict[tuple[str, str], Any] = {}
    for type_name, keys in wanted.items():
        ctype = BY_NAME[type_name]
        context.collections.add(ctype.collection)
        rows = get_items(context.session, ctype, keys, context.viewer)
        context.returned(ctype, [r for r in rows.values() if r is not None])
        found.update({(type_name, k): r for k, r in rows.items()})
    return [found.get((p[0].name, p[1])) if p is not None else None for p in parsed]


def stream_connection(
    info: Info[Any, Any],
    topic: Any,
    first: int,
    after: str | None,
    types: list[Enum] | None,
    filter: Any | None = None,
    sort: Enum | None = None,
) -> ConnectionData:
    """A page of a topic's stream: `topic_stream`'s, with the parameters REST's stream
    takes; the first pages of every topic in one query (`first_stream_pages`), narrowed or
    not, the same for each topic of the batch."""
    context = context_of(info)
    kinds = [BY_NAME[str(t.value)] for t in types] if types else list(STREAM_TYPES)
    kinds = [t for t in STREAM_TYPES if t in kinds]  # the query layer's order: a stable scope
    check_first(first)
    params = stream_params(filter, sort)

    def fetch(topics: list[Any]) -> dict[int, StreamPage]:
        return first_stream_pages(
            context.session,
            topics,
            context.viewer,
            first,
            context.secret,
            kinds,
            context.pool.projection,
            params,
        )

    # The streams of a batch are those asked with the same arguments.
    key = ("stream", first, tuple(t.name for t in kinds), repr(params))
    page: StreamPage = (
        context.page(topic, key, fetch, "id")
        if after is None
        else topic_stream(
            context.session, topic, context.viewer, first, after, context.secret, kinds, params
        )
    )
    rows = []
    for ctype, row in page.items:
        context.pool.add(ctype, [row])
        rows.append(row)
    context.collections.update(t.collection for t in kinds)
    # Those its filters name (`topic`: topics) and, with `updatedSince`, those whose writes
    # show its items differently; and when time alone changes it.
    context.collections.update(page.collections)
    context.time_bound.append(page.changes_at)
    return ConnectionData(
        rows, lambda: page.total, page.next_cursor is not None, after is not None, page.cursor_at
    )


class SearchHitData:
    """The source of a search edge: the item plus its score and highlighted snippet."""

    __slots__ = ("_cursor_at", "index", "node", "score", "snippet", "type")

    def __init__(self, hit: Hit, row: Any, index: int, cursor_at: Callable[[int], str]) -> None:
        self.node = row
        self.score = hit.score
        self.snippet = hit.snippet
        self.type = hit.ctype.name
        self.index = index
        self._cursor_at = cursor_at

    @property
    def cursor(self) -> str:
        return self._cursor_at(self.index)


class SearchPageData:
    __slots__ = ("edges", "page_info", "total_count")

    def __init__(
        self, edges: list[SearchHitData], total: int, has_next: bool, has_previous: bool
    ) -> None:
        self.edges = edges
        self.total_count = total
        cursor_at = edges[0]._cursor_at if edges else (lambda i: "")
        self.page_info = PageInfoData(len(edges), has_next, has_previous, cursor_at)

    @property
    def nodes(self) -> list[Any]:
        return [edge.node for edge in self.edges]


def search_connection(
    info: Info[Any, Any], query: str, types: list[Enum] | None, first: int, after: str | None
) -> SearchPageData:
    """Ranked hits across types (best first), keyset-paginated on (score, type, id)."""
    context = context_of(info)
    check_first(first)
    kinds = [BY_NAME[str(t.value)] for t in types] if types else list(ALL_TYPES)
    kinds = [t for t in ALL_TYPES if t in kinds]
    blob = orjson.dumps([query, [t.name for t in kinds], context.viewer.preview])
    scope = "search:" + hashlib.sha256(blob).hexdigest()[:16]
    position = None
    if after is not None:
        position = search_position(context.secret, scope, after, "cursor")
    try:
        hits, total = search(context.session, query, kinds, context.viewer, first + 1, position)
    except QueryError as exc:
        if exc.parameter != "q":
            raise
        raise QueryError("query", exc.message) from None  # REST's `q` is `query` here
    has_next = len(hits) > first
    hits = hits[:first]
    rows: dict[tuple[str, int], Any] = {}
    for ctype in kinds:
        ids = [ctype.public_id(h.entity_id) for h in hits if h.ctype is ctype]
        if ids:
            found = [
                r for r in get_items(context.session, ctype, ids, context.viewer).values() if r
            ]
            context.returned(ctype, found)
            rows.update({(ctype.name, row.id): row for row in found})
    hits = [h for h in hits if (h.ctype.name, h.entity_id) in rows]
    # Every type's documents, not only those of `types`: the candidates are found across
    # all of them (MATCH_CAP), and SQLite's bm25 scores use every document's statistics.
    context.collections.update(t.collection for t in ALL_TYPES)

    def cursor_at(index: int) -> str:
        hit = hits[index]
        return encode_token(context.secret, scope, [hit.score, hit.ctype.name, hit.entity_id])

    edges = [
        SearchHitData(h, rows[(h.ctype.name, h.entity_id)], i, cursor_at)
        for i, h in enumerate(hits)
    ]
    return SearchPageData(edges, total, has_next, after is not None)
