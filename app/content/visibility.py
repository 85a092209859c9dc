"""The visibility rule, written once.

Public readers see items that are not deleted and, for publishable types, are
`published` with a `published_at` that has passed. A preview viewer (a
`content:preview` key that explicitly asked for preview) also sees drafts and
scheduled items — never deleted ones. Scheduled items therefore appear by
themselves when their time comes; no background job is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import col

from app.db import UTCDateTime, as_utc, utcnow
from app.models import Entity, Publishable


@dataclass(frozen=True)
class Viewer:
    preview: bool = False
    now: datetime = field(default_factory=utcnow)


# The viewer's time as a bound parameter, for statements built once and run many times
# (`session.execute(stmt, {"now": viewer.now, ...})`).
NOW = bindparam("now", type_=UTCDateTime())


def with_now(viewer: Viewer, **values: Any) -> dict[str, Any]:
    """The parameters of a statement built with `visible(..., now=NOW)`: `values`, and the
    viewer's time unless in preview (whose statements do not compare with the time)."""
    if not viewer.preview:
        values["now"] = viewer.now
    return values


def visible(
    model: type[Entity], viewer: Viewer, unindexed: bool = False, now: Any = None
) -> ColumnElement[bool]:
    """The SQL condition for "this row may be shown to this viewer".

    `unindexed` (SQLite): the same condition on `+column`s, which SQLite's planner cannot
    use an index for — when the query should walk another index (a sort) instead.
    `now`: compare with this (e.g. `NOW`) instead of the viewer's time as a literal.
    """
    column = unindexed_column if unindexed else col
    not_deleted = column(model.deleted_at).is_(None)
    if not issubclass(model, Publishable) or viewer.preview:
        return not_deleted
    return and_(
        not_deleted,
        column(model.status) == "published",
        column(model.published_at).is_not(None),
        column(model.published_at) <= (viewer.now if now is None else now),
    )


# `public_since` of an item of a type that is never scheduled (topics, organizations,
# people): public before any viewer's time.
PUBLIC_SINCE_EVER = datetime(1, 1, 1, tzinfo=UTC)


def public_since(model: type[Entity], value_of: Callable[[str], Any]) -> datetime | None:
    """The same rule as `visible`, as the instant from which the public sees the item
    (None: never, whatever the time: a draft, an archived or a deleted item), from its
    field values (a row's attributes, or a generated row's keys). An item's search
    document stores it (`search_document.public_at`, with `deleted` for previews), so
    search filters its candidates on it without reading each item's own table."""
    if value_of("deleted_at") is not None:
        return None
    if not issubclass(model, Publishable):
        return PUBLIC_SINCE_EVER
    published_at = value_of("published_at")
    if value_of("status") != "published" or published_at is None:
        return None
    return as_utc(published_at)


def visible_document(document: Any, viewer: Viewer) -> ColumnElement[bool]:
    """`visible`, asked of an item's search document (`document`: the model or an alias)
    through the `public_at` and `deleted` stored with it (and kept by triggers)."""
    if viewer.preview:
        return col(document.deleted).is_(False)
    return col(document.public_at) <= viewer.now


def unindexed_column(attribute: Any) -> Any:
    """The column as `+table.column` (SQLite: the same value, which no index answers)."""
    column: Any = col(attribute)
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def unindexed(expression: Any) -> Any:
    """`+(expression)`: the same value, which no index answers (SQLite's way of being told
    not to order, or search, by an index on it)."""
    return UnaryExpression(expression, operator=custom_op("+"), type_=expression.type)


def is_visible(row: Any, viewer: Viewer) -> bool:
    """The same rule as `visible`, for a row already in memory."""
    if row is None or row.deleted_at is not None:
        return False
    if not isinstance(row, Publishable) or viewer.preview:
        return True
    return (
        row.status == "published"
        and row.published_at is not None
        and row.published_at <= viewer.now
    )


def next_public_at(
    session: Session, models: Iterable[type[Entity]], now: datetime
) -> datetime | None:
    """When the next scheduled item of these types becomes public (None: none is
    scheduled): what public lists, totals and cached responses must not outlive."""
    soonest: datetime | None = None
    for model in models:
        if not issubclass(model, Publishable):
            continue
        value = session.scalar(
            select(func.min(model.published_at)).where(
                col(model.status) == "published",
                col(model.deleted_at).is_(None),
                col(model.published_at) > now,
            )
        )
        if value is None:
            continue
        value = as_utc(value)
        if soonest is None or value < soonest:
            soonest = value
    return soonest
