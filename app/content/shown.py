"""When an item is shown differently because of another: `shown_change`, as the public reads it.

An article shows compact references to its related items, quotes and resources, and a quote
to its article; a reference to an item the public cannot see is not served. When that item
goes public (published, its scheduled time come, restored), or a quote moves between
articles, the showing item changes without a write of its own. Triggers note the moment in
`shown_change` (migration `shown_change`), whoever writes; here it is read:

- the change log lists such an item at its latest noted moment that has passed, when later
  than its own change time (`later_shown` keeps it out of its own branch then, and
  `app.content.queries._shown_branch` lists it from the table, by (type, moment));
- a list with `updated_since` counts the item as changed at those moments (`shown_since`);
- the totals and cached responses of such lists depend on the types whose writes note
  moments for theirs (`SHOWN_FROM`), and on the clock until a noted moment passes
  (`next_shown`).

For the public only: a preview shows drafts and scheduled items as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.types import ALL_TYPES, ARTICLE, QUOTE, ContentType
from app.content.visibility import Viewer
from app.db import UTCDateTime, as_utc
from app.models import ShownChange

# The types whose rows `shown_change` holds, and the types whose writes add them: an
# article shows related items of every type, quotes and resources; a quote its article
# (and a quote's own write may move it to a scheduled article).
SHOWN_FROM: dict[str, tuple[ContentType, ...]] = {
    ARTICLE.name: ALL_TYPES,
    QUOTE.name: (ARTICLE, QUOTE),
}


def shows_references(ctype: ContentType, viewer: Viewer) -> bool:
    """Whether items of `ctype` can change for `viewer` because another item went public."""
    return ctype.name in SHOWN_FROM and not viewer.preview


# The table's Core object, and an alias for its probes, made once: the change log builds
# its statement at each request, and an ORM alias (or a new Core one) cost more to build
# than the statement's new branches took to run.
SHOWN: Any = ShownChange.__table__  # type: ignore[attr-defined]
_LATER: Any = SHOWN.alias("later")


def later_shown(ctype: ContentType, item_id: Any, after: Any, now: Any) -> Any:
    """The condition: the item `item_id` of `ctype` was shown differently after `after`, at
    or before `now` (a probe of the table's primary key)."""
    return exists().where(
        _LATER.c.item_type == ctype.name,
        _LATER.c.item_id == item_id,
        _LATER.c.at > after,
        _LATER.c.at <= now,
    )


def shown_since(ctype: ContentType, since: Any, now: Any) -> Any:
    """The ids of the items of `ctype` shown differently from `since` to `now` (a range of
    `ix_shown_change_type_at`)."""
    return select(SHOWN.c.item_id).where(
        SHOWN.c.item_type == ctype.name, SHOWN.c.at >= since, SHOWN.c.at <= now
    )


def shown_since_each(ctype: ContentType, item_id: Any, since: Any, now: Any) -> Any:
    """Whether the item `item_id` of `ctype` was shown differently from `since` to `now`,
    asked of that item's rows of `pk_shown_change` (`shown_since`'s question, per row)."""
    return exists().where(
        SHOWN.c.item_type == ctype.name,
        SHOWN.c.item_id == item_id,
        SHOWN.c.at >= since,
        SHOWN.c.at <= now,
    )


def shown_collections(
    types: Sequence[ContentType], updated_since: datetime | None, viewer: Viewer
) -> tuple[str, ...]:
    """The collections whose writes can add an item of `types` to a list asked with
    `updated_since` (none without it): its totals are kept at their versions, and its
    responses name them (`Surrogate-Key`)."""
    if updated_since is None:
        return ()
    found: dict[str, None] = {}
    for ctype in types:
        if shows_references(ctype, viewer):
            found.update((t.collection, None) for t in SHOWN_FROM[ctype.name] if t != ctype)
    return tuple(found)


def next_shown(session: Session, types: Sequence[ContentType], now: datetime) -> datetime | None:
    """The next moment an item of `types` is shown differently (a scheduled item it shows
    goes public): until then, which of them changed since a time does not change by itself."""
    names = [t.name for t in types if t.name in SHOWN_FROM]
    if not names:
        return None
    found = session.scalar(
        select(func.min(SHOWN.c.at)).where(SHOWN.c.item_type.in_(names), SHOWN.c.at > now)
    )
    return None if found is None else as_utc(found)


def sooner(
    *moments: Callable[[], datetime | None] | None,
) -> Callable[[], datetime | None] | None:
    """The earliest of the moments these give (None: none given, or none known)."""
    given = [moment for moment in moments if moment is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]

    def earliest() -> datetime | None:
        found = [m for m in (moment() for moment in given) if m is not None]
        return min(found) if found else None

    return earliest


def stamp_at(session: Session, since: datetime, now: datetime) -> None:
    """Move the moments noted from `since` to before `now` to `now`: a writer that dates
    its own changes as of its end (`dossier import`, which commits long after its first
    lines) dates theirs with them, so that no partner's token passes them before they are
    committed. (A moment of another writer's in that window, a scheduled one, comes a
    little later: its item is listed then.)"""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for name in SHOWN_FROM:
        window = (
            col(ShownChange.item_type) == name,
            col(ShownChange.at) >= since,
            col(ShownChange.at) < now,
        )
        moved = select(
            col(ShownChange.item_type), col(ShownChange.item_id), literal(now, UTCDateTime())
        ).where(*window)
        columns = ["item_type", "item_id", "at"]
        session.execute(insert(ShownChange).from_select(columns, moved).on_conflict_do_nothing())
        session.execute(delete(ShownChange).where(*window))
