"""First pages of a list for many parents at once: a nested connection's batch.

`people(first: 100) { nodes { articles(first: 5) { ... } } }` asks for the list of
articles by author once per person. Asked one at a time, that is a page statement per
person (and a count per person with `totalCount`). Here the first page of every parent is
one statement — each item numbered within its parent by `ROW_NUMBER() OVER (PARTITION BY
parent ORDER BY sort, id)`, kept up to the page size plus one — and the totals one
`GROUP BY parent`. Each parent's page is exactly what `list_items` returns for it (the
same conditions from `base_conditions`, the same order, the same cursors, whose scope
names the parent), so its `endCursor` continues through `list_items` itself.

A topic's stream is such a list too (`topics { nodes { stream(first: 5) { ... } } }`):
`first_stream_pages` is `topic_stream`'s first page for many topics in one statement, the
rows in one more per type, the totals one `GROUP BY topic` per type; narrowed (other topics,
words, a time, the order), the public's on PostgreSQL as well (`_first_narrowed_pages`).

Only first pages: a page after a cursor is one parent's, and costs one statement anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    exists,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from app.content.counts import cached_counts, cached_totals_by_type
from app.content.cursors import encode_token
from app.content.kept import run
from app.content.queries import (
    BY_STREAM_RANK,
    STREAM_RANK,
    ListParams,
    Page,
    StreamPage,
    StreamPlan,
    base_conditions,
    check_limit,
    few_changed_since,
    list_changes_at,
    list_collections,
    list_scope,
    popular_topics,
    public_counts_by_topic,
    public_order,
    public_tagged,
    sort_expression,
    sort_of,
    stream_rows,
    stream_scope,
    stream_token,
    topic_stream,
    visible_topic_ids,
)
from app.content.rows import Projection, shape
from app.content.search import words_are_common
from app.content.types import BY_COLLECTION, STREAM_TYPES, ContentType
from app.content.visibility import Viewer, visible
from app.content.word_counts import counting_words
from app.models import (
    ArticleAuthor,
    EventParticipant,
    Person,
    PublicationAuthor,
    Quote,
    Tagging,
    Topic,
)

# The lists a parent's filter selects, by (collection, filter): those whose pairs
# (parent slug, item id) `_pairs` can list for many parents at once.
_LINKS: dict[tuple[str, str], tuple[Any, str]] = {
    ("articles", "author"): (ArticleAuthor, "article_id"),
    ("publications", "author"): (PublicationAuthor, "publication_id"),
    ("events", "person"): (EventParticipant, "event_id"),
}
BATCHED = frozenset({*_LINKS, ("quotes", "speaker")})


def _pairs(
    collection: str, by: str, filters: dict[str, Any], slugs: list[str], viewer: Viewer
) -> tuple[Any, set[str]]:
    """(parent slug, item id) of the items the filter `by` selects for each slug — what
    `app.content.filters` says of one slug — and the other filters it answered as well."""
    parent: Any = col(Person.slug).label("parent")
    person = [col(Person.slug).in_(slugs), visible(Person, viewer)]
    if (collection, by) == ("quotes", "speaker"):
        pairs = (
            select(parent, col(Quote.id).label("item_id"))
            .join(Person, col(Person.id) == Quote.speaker_id)
            .where(*person)
        )
        return pairs, set()
    link, item = _LINKS[collection, by]
    pairs = (
        select(parent, getattr(link, item).label("item_id"))
        .join(Person, col(Person.id) == link.person_id)
        .where(*person)
    )
    if collection != "events":
        return pairs, set()  # one link per (item, person): no duplicates
    # A person may take part in an event in several roles: once per event. With `role`,
    # the person in that role (`filter_conditions`: `person` and `role` together).
    pairs = pairs.distinct()
    role = filters.get("role")
    if role is None:
        return pairs, set()
    return pairs.where(col(EventParticipant.role) == role), {"role"}


def first_pages(
    session: Session,
    ctype: ContentType,
    params: ListParams,
    by: str,
    parents: Sequence[str],
    viewer: Viewer,
    secret: str,
    projection: Projection | None = None,
) -> dict[str, Page]:
    """For each slug of `parents`, the page `list_items` returns for `params` with the
    filter `by` set to that slug (`params.cursor`: none; `(collection, by)` in BATCHED)."""
    check_limit(params.limit)
    assert params.cursor is None
    slugs = list(dict.fromkeys(parents))
    if not slugs:
        return {}
    model = ctype.model
    sort_name, descending = sort_of(ctype, params)
    sort_expr = sort_expression(ctype, sort_name, viewer)
    others = {name: value for name, value in params.filters.items() if name != by}
    topic_ids = visible_topic_ids(session, params.topics, viewer) if params.topics else None
    # SQLite, common words: each parent's items asked whether they match, not every match
    # gathered first (`people { articles(filter: {q: "security"}) }` at `large`: 0.7 s).
    words_each = bool(
        params.q
        and session.get_bind().dialect.name == "sqlite"
        and words_are_common(session, ctype, params.q)
    )
    few_changed = few_changed_since(session, ctype, params, viewer)  # once: page, count

    def matching(chosen: list[str], for_count: bool) -> tuple[Any, list[Any]]:
        """The pairs subquery and the conditions of every other filter, visibility first."""
        pairs, answered = _pairs(ctype.collection, by, others, chosen, viewer)
        rest = {name: value for name, value in others.items() if name not in answered}
        shared = replace(params, filters=rest)
        conditions = base_conditions(
            session,
            ctype,
            shared,
            viewer,
            topic_ids,
            for_count,
            few_changed=few_changed,
            words_each=words_each,
            # The parents' items only: each asked whether it was shown differently since
            # (`people(first: 20) { articles(filter: {updatedSince}) }` read every article
            # at `large`: 82-98 ms).
            shown_each=True,
        )
        return pairs.subquery("parents"), conditions

    pairs, conditions = matching(slugs, for_count=False)
    order = [c.desc() if descending else c.asc() for c in (sort_expr, model.id)]
    position = func.row_number().over(partition_by=pairs.c.parent, order_by=order)
    ranked = (
        select(
            pairs.c.parent,
            model.id.label("id"),
            sort_expr.label("sort_value"),
            position.label("position"),
        )
        .join_from(model, pairs, model.id == pairs.c.item_id)
        .where(*conditions)
        .subquery("ranked")
    )
    rows_shape = shape(model, projection)
    stmt = (
        select(*rows_shape.columns, ranked.c.sort_value, ranked.c.parent)
        .join_from(model, ranked, model.id == ranked.c.id)
        .where(ranked.c.position <= params.limit + 1)
        .order_by(ranked.c.parent, ranked.c.position)
    )
    build = rows_shape.builder()
    at = rows_shape.width  # the sort value, then the parent, follow the row's columns
    found: dict[str, list[tuple[Any, Any]]] = {slug: [] for slug in slugs}
    for result in run(session, stmt, {}):
        found[result[at + 1]].append((build(result), result[at]))

    collections = list_collections(ctype, params, viewer)
    named = [BY_COLLECTION[c] for c in collections[1:]]
    changes_at = list_changes_at(session, ctype, params, viewer)
    ends = None if changes_at is None else _once(changes_at)
    scopes = {
        slug: list_scope(ctype, replace(params, filters={**params.filters, by: slug}), viewer)
        for slug in slugs
    }
    has_next = {slug for slug, entries in found.items() if len(entries) > params.limit}

    def count_of(chosen: list[str]) -> dict[str, int]:
        pairs, conditions = matching(chosen, for_count=True)
        counted = (
            select(pairs.c.parent, func.count())
            .join_from(model, pairs, model.id == pairs.c.item_id)
            .where(*conditions)
            .group_by(pairs.c.parent)
        )
        with counting_words(session, bool(params.q)):
            return {parent: total for parent, total in run(session, counted, {})}

    # Counted on first use, for every parent whose list goes past its first page.
    totals = _once(
        lambda: cached_counts(
            session,
            {slug: scopes[slug] for slug in slugs if slug in has_next},
            [ctype],
            viewer,
            count_of,
            ends,
            reads=named,
        )
    )

    def page_of(slug: str) -> Page:
        entries = found[slug][: params.limit]
        scope = scopes[slug]

        def cursor_at(index: int) -> str:
            row, sort_value = entries[index]
            return encode_token(secret, scope, [sort_value, row.id])

        rows = [row for row, _ in entries]
        more = slug in has_next
        return _first_page(Page, rows, more, cursor_at, lambda: totals()[slug], collections, ends)

    return {slug: page_of(slug) for slug in slugs}


def first_stream_pages(
    session: Session,
    topics: Sequence[Topic],
    viewer: Viewer,
    limit: int,
    secret: str,
    types: Sequence[ContentType] = STREAM_TYPES,
    projection: Projection | None = None,
    params: ListParams | None = None,
) -> dict[int, StreamPage]:
    """For each topic, by id, the page `topic_stream` returns for it with no cursor (`types`
    in STREAM_TYPES' order, as its scope has them); `params`: what narrows the streams, as
    `topic_stream` takes it (`_first_narrowed_pages`).

    Nothing narrowing the streams:
    Each type's items of each topic, newest first (published, then id), kept up to the page
    size plus one as `topic_stream`'s branch of that type has them; merged per topic by
    (published, rank, id), its order and tie-breaks. A topic's items of a type are found as
    `topic_stream` finds them on SQLite — and here on PostgreSQL too, whose one plan for
    every topic of a statement cannot tell a popular topic from a rare one: for a topic
    popular for the type (`popular_topics`), by walking the index of the type's published_at
    sort (a preview's, on coalesce(published_at, created_at), its own: 0.27 s -> 0.18 s for
    50 topics on SQLite at `large`), probing each item for the tag; otherwise from the
    topic's taggings. Either way the same items."""
    check_limit(limit)
    if params is not None:
        return _first_narrowed_pages(
            session, topics, viewer, limit, secret, types, projection, params
        )
    topic_ids = list(dict.fromkeys(topic.id for topic in topics if topic.id is not None))
    if not topic_ids:
        return {}
    sqlite = session.get_bind().dialect.name == "sqlite"
    if viewer.preview:
        branches = _preview_branches(session, types, topic_ids, viewer, limit, sqlite)
    else:  # the public's: from the taggings alone (`Tagging.public_at`)
        branches = [_public_branch(ctype, topic_ids, viewer, limit, sqlite) for ctype in types]
    found, rows = _merged_pages(session, branches, topic_ids, limit, True, projection)
    scopes = {topic_id: stream_scope(topic_id, types, viewer) for topic_id in topic_ids}

    def totals(wanted: list[int]) -> dict[int, int]:
        # Each type's part kept at that type's version, under the scope `topic_stream`
        # keeps it.
        counts = partial(_stream_counts, session, viewer)
        keys = {topic_id: scopes[topic_id] for topic_id in wanted}
        return cached_totals_by_type(session, keys, types, viewer, counts)

    return _stream_pages(found, rows, limit, secret, scopes.__getitem__, totals)


def _first_narrowed_pages(
    session: Session,
    topics: Sequence[Topic],
    viewer: Viewer,
    limit: int,
    secret: str,
    types: Sequence[ContentType],
    projection: Projection | None,
    params: ListParams,
) -> dict[int, StreamPage]:
    """`first_stream_pages` of streams narrowed by `params` (other topics, words, a time,
    the order). The public's, on PostgreSQL: each type's page of each topic is
    `topic_stream`'s branch of that type (`StreamPlan.branch`) read per topic in a LATERAL
    subquery, the topic a column of the outer row; the branches merged per topic by
    (published, rank, id) in the stream's order; the rows in one more statement per type.
    What narrows them is worked out once (the other topics' ids and whether their taggings
    are read first, how widely the items changed since), not once per topic; the totals, each type's part
    kept under the key `topic_stream` keeps it, counted for the topics not kept. A preview
    (its branches walk items, not taggings) and SQLite (no LATERAL): each topic's own
    `topic_stream`."""
    unique = list({topic.id: topic for topic in topics if topic.id is not None}.values())
    if viewer.preview or session.get_bind().dialect.name == "sqlite":
        return {
            topic.id or 0: topic_stream(session, topic, viewer, limit, None, secret, types, params)
            for topic in unique
        }
    topic_ids = [topic.id or 0 for topic in unique]
    if not topic_ids:
        return {}
    plan = StreamPlan(session, viewer, types, params)
    # A topic narrowed to itself among others is not narrowed (`StreamPlan.for_topic`): its
    # branches are the plain stream's, in the same statement. (Its total is the narrowed
    # plan's, the same number, counted with the others'.)
    plain = [t for t in topic_ids if plan.narrows_itself(t)]
    narrowed = [t for t in topic_ids if t not in plain]
    topic = col(Topic.id)
    branches = [
        _each_topic(of.branch(ctype, topic, limit, None, ids).lateral(f"{name}_{ctype.name}"), ids)
        for name, of, ids in (
            ("page", plan, narrowed),
            ("itself", plan.for_topic(plain[0]) if plain else None, plain),
        )
        if of is not None and ids
        for ctype in types
    ]
    found, rows = _merged_pages(session, branches, topic_ids, limit, plan.descending, projection)
    rest = (plan.collections, plan.changes_at)
    return _stream_pages(found, rows, limit, secret, plan.scope, plan.totals, *rest)


def _stream_pages(
    found: dict[int, list[tuple[int, int, datetime]]],
    rows: dict[tuple[int, int], Any],
    limit: int,
    secret: str,
    scope_of: Callable[[int], str],
    totals_of: Callable[[list[int]], Mapping[int, int]],
    *rest: Any,
) -> dict[int, StreamPage]:
    """Each topic's first page from `_merged_pages`' entries and rows: cursors under
    `scope_of(topic)`, and totals `totals_of` the topics whose streams go past their first
    page, counted on first use, once for all of them; `rest`: the pages' collections and
    time of change (`StreamPage`)."""
    has_next = [topic_id for topic_id, entries in found.items() if len(entries) > limit]
    totals = _once(lambda: totals_of(has_next))

    def page_of(topic_id: int) -> StreamPage:
        entries = found[topic_id][:limit]
        scope = scope_of(topic_id)

        def cursor_at(index: int) -> str:
            rank, item_id, published = entries[index]
            return stream_token(secret, scope, published, rank, item_id)

        items = [(BY_STREAM_RANK[rank], rows[rank, item_id]) for rank, item_id, _ in entries]

        def total() -> int:
            return int(totals()[topic_id])

        return _first_page(StreamPage, items, topic_id in has_next, cursor_at, total, *rest)

    return {topic_id: page_of(topic_id) for topic_id in found}


def _merged_pages(
    session: Session,
    branches: list[Any],
    topic_ids: list[int],
    limit: int,
    descending: bool,
    projection: Projection | None,
) -> tuple[dict[int, list[tuple[int, int, datetime]]], dict[tuple[int, int], Any]]:
    """The branches (each type's items per topic: topic, rank, id, published) merged per
    topic in the stream's order, (published, rank, id), up to `limit + 1` a topic, in one
    statement; and the rows of the first `limit` of each, read in one more per type. By
    topic: (rank, id, published) in order; the rows by (rank, id)."""
    merged = union_all(*branches).subquery("merged")
    keys = (merged.c.published, merged.c.rank, merged.c.id)
    order = [c.desc() if descending else c.asc() for c in keys]
    position = func.row_number().over(partition_by=merged.c.topic, order_by=order)
    numbered = select(merged, position.label("position")).subquery("numbered")
    stmt = (
        select(numbered.c.topic, numbered.c.rank, numbered.c.id, numbered.c.published)
        .where(numbered.c.position <= limit + 1)
        .order_by(numbered.c.topic, numbered.c.position)
    )
    found: dict[int, list[tuple[int, int, datetime]]] = {topic_id: [] for topic_id in topic_ids}
    for topic_id, rank, item_id, published in run(session, stmt, {}):
        found[topic_id].append((rank, item_id, published))
    shown = [(rank, item_id) for entries in found.values() for rank, item_id, _ in entries[:limit]]
    return found, stream_rows(session, shown, projection)


def _tagged_items(
    session: Session,
    ctype: ContentType,
    topic: Any,
    viewer: Viewer,
    columns: Sequence[Any],
    for_count: bool = False,
) -> Any:
    """`columns` of each (topic, item) of the visible items of `ctype` tagged with `topic`
    (a condition on `Tagging.topic_id`), found from the taggings. Visibility is what
    `topic_stream` has (`base_conditions`, nothing else narrowing); on SQLite, on unindexed
    columns: given the visibility index, SQLite reads every visible item and probes its
    tags (for each topic of an IN list) instead."""
    model = ctype.model
    tagging = and_(col(Tagging.entity_type) == ctype.name, col(Tagging.entity_id) == model.id)
    walk = session.get_bind().dialect.name == "sqlite"
    conditions = base_conditions(session, ctype, ListParams(), viewer, None, for_count, walk=walk)
    return select(*columns).join_from(Tagging, model, tagging).where(topic, *conditions)


def _stream_columns(ctype: ContentType, viewer: Viewer) -> tuple[Any, Any]:
    """The rank, id and published time of `ctype`'s stream items, and their order within
    the type (newest first, then the highest id, as `topic_stream`'s branch)."""
    model = ctype.model
    published = sort_expression(ctype, "published_at", viewer)
    columns = (
        literal(STREAM_RANK[ctype.name], Integer()).label("rank"),
        model.id.label("id"),
        published.label("published"),
    )
    return columns, (published.desc(), model.id.desc())


def _read_branch(
    session: Session, ctype: ContentType, topic_ids: list[int], viewer: Viewer, limit: int
) -> Any:
    """(topic, rank, id, published) of the first `limit + 1` items of `ctype` of each
    topic, on PostgreSQL: every item the topics' taggings name, numbered per topic (what a
    topic with few items costs anyway)."""
    columns, order = _stream_columns(ctype, viewer)
    topic = col(Tagging.topic_id)
    position = func.row_number().over(partition_by=topic, order_by=order)
    numbered = _tagged_items(
        session,
        ctype,
        topic.in_(topic_ids),
        viewer,
        [topic.label("topic"), *columns, position.label("n")],
    ).subquery(f"read_{ctype.name}")
    kept = [numbered.c.topic, numbered.c.rank, numbered.c.id, numbered.c.published]
    return select(*kept).where(numbered.c.n <= limit + 1)


def _preview_branches(
    session: Session,
    types: Sequence[ContentType],
    topic_ids: list[int],
    viewer: Viewer,
    limit: int,
    sqlite: bool,
) -> list[Any]:
    """A preview's branches, per type: the topics popular for it walk the index of its
    sort (`popular_topics`), the others read their taggings."""
    popular = popular_topics(session, types, topic_ids)
    branches = []
    for ctype in types:
        walked = popular.get(ctype.name, set())
        read = [topic_id for topic_id in topic_ids if topic_id not in walked]
        for chosen, walk in ((read, False), (sorted(walked), True)):
            if not chosen:
                continue
            if sqlite:
                branch = _sqlite_branch(session, ctype, chosen, viewer, limit, walk)
            else:
                branch = (_walk_branch if walk else _read_branch)(
                    session, ctype, chosen, viewer, limit
                )
            branches.append(branch)
    return branches


def _public_branch(
    ctype: ContentType, topic_ids: list[int], viewer: Viewer, limit: int, sqlite: bool
) -> Any:
    """(topic, rank, id, published) of the first `limit + 1` public items of `ctype` of
    each topic, from the taggings alone: each topic's range of `ix_tagging_topic_type_public`,
    newest first. PostgreSQL reads it per topic in a LATERAL subquery; SQLite, which has
    none, in a subquery correlated with the topic's row (`tagging.rowid IN (...)`, run once
    per topic)."""
    rank = literal(STREAM_RANK[ctype.name], Integer()).label("rank")
    if not sqlite:
        page = (
            select(
                rank, col(Tagging.entity_id).label("id"), col(Tagging.public_at).label("published")
            )
            .where(col(Tagging.topic_id) == Topic.id, *public_tagged(ctype, viewer))
            .order_by(*public_order())
            .limit(limit + 1)
            .lateral(f"public_{ctype.name}")
        )
        return _each_topic(page, topic_ids)
    inner = aliased(Tagging, name="page_tagging")  # the same table inside and out
    rowids: Any = (
        select(literal_column("page_tagging.rowid"))
        .where(col(inner.topic_id) == Topic.id, *public_tagged(ctype, viewer, inner))
        .order_by(*public_order(inner))
        .limit(limit + 1)
        .correlate(Topic)
    )
    # By rowid, the page's rows only: joined on (topic, type, id IN page), SQLite read
    # every tagging of the topic and ran the page's subquery again for each (0.18 s for
    # 20 topics at `large`).
    shown = literal_column("tagging.rowid").in_(rowids)
    return (
        select(
            col(Topic.id).label("topic"),
            rank,
            col(Tagging.entity_id).label("id"),
            col(Tagging.public_at).label("published"),
        )
        .select_from(Topic)
        .join(Tagging, shown)
        .where(col(Topic.id).in_(topic_ids))
    )


def _probe(ctype: ContentType) -> Any:
    """Whether the item is tagged with the topic of the enclosing query's row."""
    return (
        select(literal(1))
        .where(
            col(Tagging.entity_type) == ctype.name,
            col(Tagging.entity_id) == ctype.model.id,
            col(Tagging.topic_id) == Topic.id,
        )
        .correlate(ctype.model, Topic)
    )


def _walk_branch(
    session: Session, ctype: ContentType, topic_ids: list[int], viewer: Viewer, limit: int
) -> Any:
    """`_read_branch`'s rows for popular topics, on PostgreSQL: per topic (LATERAL), the
    type's items walked newest first, each probed for the tag, until the page is full.
    OFFSET 0 keeps the probe a probe: turned into a semi-join, a plan made for any topic
    may read a popular topic's every tagging instead."""
    columns, order = _stream_columns(ctype, viewer)
    conditions = base_conditions(session, ctype, ListParams(), viewer, None)
    page = (
        select(*columns)
        .where(*conditions, exists(_probe(ctype).offset(0)))
        .order_by(*order)
        .limit(limit + 1)
        .lateral(f"walk_{ctype.name}")
    )
    return _each_topic(page, topic_ids)


def _each_topic(page: Any, topic_ids: list[int]) -> Any:
    """(topic, rank, id, published) of `page`, a LATERAL subquery correlated with the
    topic's row, for each of `topic_ids` (PostgreSQL)."""
    return (
        select(col(Topic.id).label("topic"), page.c.rank, page.c.id, page.c.published)
        .select_from(Topic)
        .join(page, true())
        .where(col(Topic.id).in_(topic_ids))
    )


def _sqlite_branch(
    session: Session,
    ctype: ContentType,
    topic_ids: list[int],
    viewer: Viewer,
    limit: int,
    walk: bool,
) -> Any:
    """`_read_branch`'s rows (`walk`: `_walk_branch`'s) on SQLite, which has no LATERAL:
    each topic's page is the ids of a subquery correlated with the topic's row (`id IN
    (...)`, run once per topic), `topic_stream`'s plan for one topic. Its visibility is
    on unindexed columns, so that SQLite reads the topic's taggings or (`walk`, a popular
    topic) walks the index of the published_at sort, probing each item's tags."""
    columns, order = _stream_columns(ctype, viewer)
    model = ctype.model
    if walk:
        conditions = base_conditions(session, ctype, ListParams(), viewer, None, walk=True)
        ids = select(model.id).where(*conditions, exists(_probe(ctype)))
    else:
        ids = _tagged_items(session, ctype, col(Tagging.topic_id) == Topic.id, viewer, [model.id])
    # The same table inside and out: inside, its name is the subquery's own row.
    page = ids.order_by(*order).limit(limit + 1).correlate(Topic)
    return (
        select(col(Topic.id).label("topic"), *columns)
        .select_from(Topic)
        .join(model, model.id.in_(page))
        .where(col(Topic.id).in_(topic_ids))
    )


def _stream_counts(
    session: Session, viewer: Viewer, ctype: ContentType, topic_ids: list[int]
) -> dict[int, int]:
    """How many visible items of `ctype` each topic has: one GROUP BY topic (the public's
    from the taggings alone)."""
    if not viewer.preview:
        return public_counts_by_topic(session, ctype, viewer, topic_ids)
    topic = col(Tagging.topic_id)
    columns = [topic, func.count()]
    counted = _tagged_items(session, ctype, topic.in_(topic_ids), viewer, columns, True)
    return {topic_id: total for topic_id, total in run(session, counted.group_by(topic), {})}


def _first_page(
    make: Callable[..., Any],
    items: list[Any],
    more: bool,
    cursor_at: Callable[[int], str],
    total: Callable[[], int],
    *rest: Any,
) -> Any:
    """A parent's first page (`make`: Page or a subclass): a next cursor if there is `more`,
    and then its `total`, otherwise no cursor and the items are the whole list."""
    next_cursor = cursor_at(len(items) - 1) if more else None
    return make(items, next_cursor, total if more else lambda: len(items), cursor_at, *rest)


def _once(compute: Callable[[], Any]) -> Callable[[], Any]:
    """`compute()`, worked out on the first call only (shared by the parents' pages)."""
    kept: list[Any] = []

    def value() -> Any:
        if not kept:
            kept.append(compute())
        return kept[0]

    return value


__all__ = ["BATCHED", "first_pages", "first_stream_pages"]
