"""The visibility rule, written once.

Public readers see items that are not deleted and, for publishable types, are
`published` with a `published_at` that has passed. A preview viewer (a
`content:preview` key that explicitly asked for preview) also sees drafts and
scheduled items — never deleted ones. Scheduled items therefore appear by
themselves when their time comes; no background job is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlmodel import col

from app.db import utcnow
from app.models import Entity, Publishable


@dataclass(frozen=True)
class Viewer:
    preview: bool = False
    now: datetime = field(default_factory=utcnow)


def visible(model: type[Entity], viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition for "this row may be shown to this viewer"."""
    not_deleted = col(model.deleted_at).is_(None)
    if not issubclass(model, Publishable) or viewer.preview:
        return not_deleted
    return and_(
        not_deleted,
        col(model.status) == "published",
        col(model.published_at).is_not(None),
        col(model.published_at) <= viewer.now,
    )


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
