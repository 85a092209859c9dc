"""First pages of a list for many parents at once: a nested connection's batch.

`people(first: 100) { nodes { articles(first: 5) { ... } } }` asks for the list of
articles by author once per person. Asked one at a time, that is a page statement per
person (and a count per person with `totalCount`). Here the first page of every parent is
one statement — each item numbered within its parent by `ROW_NUMBER() OVER (PARTITION BY
parent ORDER BY sort, id)`, kept up to the page size plus one — and the totals one
`GROUP BY parent`. Each parent's page is exactly what `list_items` returns for it (the
same conditions from `base_conditions`, the same order, the same cursors, whose scope
names the parent), so its `endCursor` continues through `list_items` itself.

Only first pages: a page after a cursor is one parent's, and costs one statement anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.counts import cached_counts
from app.content.cursors import encode_token
from app.content.filters import referenced_collections
from app.content.kept import run
from app.content.queries import (
    ListParams,
    Page,
    base_conditions,
    check_limit,
    list_scope,
    next_event_end,
    sort_expression,
    sort_of,
    visible_topic_ids,
)
from app.content.rows import Projection, shape
from app.content.types import BY_COLLECTION, ContentType
from app.content.visibility import Viewer, visible
from app.models import ArticleAuthor, EventParticipant, Person, PublicationAuthor, Quote

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

    def matching(chosen: list[str], for_count: bool) -> tuple[Any, list[Any]]:
        """The pairs subquery and the conditions of every other filter, visibility first."""
        pairs, answered = _pairs(ctype.collection, by, others, chosen, viewer)
        rest = {name: value for name, value in others.items() if name not in answered}
        shared = replace(params, filters=rest)
        conditions = base_conditions(session, ctype, shared, viewer, topic_ids, for_count)
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

    collections = (
        ctype.collection,
        *referenced_collections(ctype.collection, params.filters, topics=bool(params.topics)),
    )
    named = [BY_COLLECTION[c] for c in collections[1:]]
    ends = _once(lambda: next_event_end(session, viewer)) if "upcoming" in params.filters else None
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

        next_cursor = cursor_at(len(entries) - 1) if slug in has_next else None
        rows = [row for row, _ in entries]

        def count() -> int:
            return totals()[slug] if slug in has_next else len(rows)

        return Page(rows, next_cursor, count, cursor_at, collections, ends)

    return {slug: page_of(slug) for slug in slugs}


def _once(compute: Callable[[], Any]) -> Callable[[], Any]:
    """`compute()`, worked out on the first call only (shared by the parents' pages)."""
    kept: list[Any] = []

    def value() -> Any:
        if not kept:
            kept.append(compute())
        return kept[0]

    return value


__all__ = ["BATCHED", "first_pages"]
