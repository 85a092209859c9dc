"""When the public content of some types last changed: what a feed's `updated` and its
`Last-Modified` say beyond its own entries.

A feed lists the newest public items of some types. Its entries say when each of them
changed, but not when an item left it: deleted, unpublished, archived (the item's
`left_public_at`), untagged from its topic or its author removed (an edit of an item
that is still public, and no longer in the feed), moved back in time past the 50th (an
edit too). The feed did change then, and its `updated` must not go back to the newest
remaining entry. No row remembers which feeds an item was in, so this answers for the
whole type: the newest edit of a public item, the newest arrival on the public surface by
time alone (a scheduled item's `published_at`: it goes live with no write, its
`updated_at` older, and what shows it, a calendar or a quote's link to its article,
changed then), or the newest departure from the public surface, whichever came last. It
never goes back while content is written (short of rows deleted outright, behind the
API's back), and it moves only with a write to those types or a scheduled item going
public, so the bytes built from it stay the same while the database does. Only public
rows count, at the time they left for the others: a draft's edits say nothing.

Each measure is a walk down one index from its top (`updated_at`, the visibility index's
`published_at` from now, and the partial indexes of `left_public_at` and `deleted_at` the
change log reads): one statement for all the types a feed shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.kept import kept, run
from app.content.types import ContentType
from app.content.visibility import NOW, Viewer, visible, with_now
from app.db import as_utc

_STATEMENTS: dict[Any, Any] = {}


def last_public_change(
    session: Session,
    types: Sequence[ContentType],
    viewer: Viewer,
    gone: Sequence[ContentType] = (),
) -> datetime | None:
    """The newest public change to an item of `types` (an edit of a public item, an item
    going public by its time, or an item leaving the public surface), and of an item of
    `gone` leaving it (deleted: the types a feed shows references to, whose edits the feed
    sees in the items it shows). None when no such change was ever made."""
    dialect = session.get_bind().dialect.name
    key = (dialect, viewer.preview, tuple(t.name for t in types), tuple(t.name for t in gone))
    stmt = kept(_STATEMENTS, key, lambda: _statement(types, gone, viewer, dialect == "sqlite"))
    found = [
        as_utc(value) for value in run(session, stmt, with_now(viewer))[0] if value is not None
    ]
    return max(found, default=None)


def _statement(
    types: Sequence[ContentType], gone: Sequence[ContentType], viewer: Viewer, sqlite: bool
) -> Any:
    columns = []
    for ctype in types:
        model = ctype.model
        # SQLite: the visibility columns unindexed, so that it walks `updated_at` down from
        # the newest row and stops at the first public one, instead of reading every public
        # row from the visibility index and sorting them.
        columns.append(
            select(col(model.updated_at))
            .where(visible(model, viewer, unindexed=sqlite, now=NOW))
            .order_by(col(model.updated_at).desc())
            .limit(1)
            .scalar_subquery()
        )
        if ctype.publishable and not viewer.preview:
            columns.append(_went_public(ctype))
        columns.append(_left(ctype))
    columns += [_left(ctype) for ctype in gone]
    return select(*columns)


def _went_public(ctype: ContentType) -> Any:
    """The newest moment an item of `ctype` went public by its time alone (the newest
    `published_at` up to now of a public item): a scheduled item goes live with no write,
    its `updated_at` older than that, and what showed it changed then. A walk down the
    visibility index (`status`, `published_at`, `deleted_at`) from now."""
    model = ctype.model
    return (
        select(col(model.published_at))
        .where(visible(model, Viewer(), now=NOW))
        .order_by(col(model.published_at).desc())
        .limit(1)
        .scalar_subquery()
    )


def _left(ctype: ContentType) -> Any:
    """The newest moment an item of `ctype` left the public surface: a publishable item's
    `left_public_at` (set only when it had been public), another's deletion."""
    column = col(ctype.model.left_public_at if ctype.publishable else ctype.model.deleted_at)
    return select(func.max(column)).where(column.is_not(None)).scalar_subquery()
