"""Exact totals, counted once per content version.

`meta.total` and `totalCount` are exact, and counting the 60,000 public events of a popular
topic costs a scan (~100 ms on PostgreSQL at a million rows) that the page itself does
not. A total only changes when content changes or when time makes a scheduled item
public (or, for `upcoming`, ends an event), so it is kept per database and query with:

- the content version it was counted at (`content_version`, bumped by triggers in every
  writing transaction — whoever writes — so it changes exactly when the rows do, in
  every worker and on every machine, with no messages), and
- the moment it expires: the next scheduled `published_at` of the counted types, for a
  public viewer (a preview counts scheduled items already), or sooner when the caller names
  another moment its count depends on (`upcoming`: the next event's end).

Asking costs one primary-key read of the version.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.kept import kept, run
from app.content.types import ContentType
from app.content.visibility import Viewer, next_public_at
from app.models import ContentVersion

MAX_ENTRIES = 10_000

# Per engine: scope -> ((epoch, version), expires at or None, total or other value).
_Entry = tuple[tuple[str, int], datetime | None, Any]
_CACHES: weakref.WeakKeyDictionary[Engine, dict[str, _Entry]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _cache_of(session: Session) -> dict[str, _Entry] | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    if engine is None:
        return None
    with _LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = {}
        return cache


_VERSION: dict[str, Any] = {}


def content_version(session: Session) -> tuple[str, int] | None:
    stmt = kept(
        _VERSION,
        "version",
        lambda: select(col(ContentVersion.epoch), col(ContentVersion.version)).where(
            col(ContentVersion.id) == 1
        ),
    )
    rows = run(session, stmt, {})
    return (rows[0][0], rows[0][1]) if rows else None


def _expiry(session: Session, types: Sequence[ContentType], viewer: Viewer) -> datetime | None:
    """When a scheduled item of these types becomes public (a preview counts them already)."""
    if viewer.preview:
        return None
    return next_public_at(session, [t.model for t in types], viewer.now)


def cached_count(
    session: Session,
    scope: str,
    types: Sequence[ContentType],
    viewer: Viewer,
    count: Callable[[], int],
    changes_at: Callable[[], datetime | None] | None = None,
) -> int:
    """`count()`, or the total counted for `scope` at the current content version.
    `changes_at`: for a count that also depends on the clock, the next moment it may
    change by itself (it expires then too)."""

    def work_out() -> tuple[int, datetime | None]:
        total = count()
        expires = _expiry(session, types, viewer)
        if changes_at is not None:
            moment = changes_at()
            if moment is not None and (expires is None or moment < expires):
                expires = moment
        return total, expires

    total: int = _kept(session, f"{scope}|preview={viewer.preview}", viewer.now, work_out)
    return total


def cached_at_version(session: Session, key: str, compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it returned at the current content version (a value that only
    writes change, kept beside the totals)."""
    return _kept(session, key, None, lambda: (compute(), None))


def _kept(
    session: Session,
    key: str,
    now: datetime | None,
    work_out: Callable[[], tuple[Any, datetime | None]],
) -> Any:
    """The value kept for `key` at the current content version and not expired at `now`,
    or `work_out()`'s (value, expiry), kept."""
    cache = _cache_of(session)
    version = content_version(session) if cache is not None else None
    if cache is None or version is None:
        return work_out()[0]
    found = cache.get(key)
    if found is not None:
        at, expires, value = found
        if at == version and (expires is None or (now is not None and now < expires)):
            return value
    value, expires = work_out()
    with _LOCK:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = (version, expires, value)
    return value
