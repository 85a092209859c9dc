"""Exact totals, counted once per version of the content they count.

`meta.total` and `totalCount` are exact, and counting the 60,000 public events of a popular
topic costs a scan (~100 ms on PostgreSQL at a million rows) that the page itself does
not. A total only changes when content changes or when time makes a scheduled item
public (or, for `upcoming`, ends an event), so it is kept per database and query with:

- the versions of the content types it reads (`type_version`: the types it counts, and
  those of the items its filters name), bumped by triggers in every writing transaction —
  whoever writes — so they change exactly when the rows do, in every worker and on every
  machine, with no messages. A person's new bio does not make totals of articles count
  again;
- the moment it expires: the next scheduled `published_at` of those types, for a
  public viewer (a preview counts scheduled items already), or sooner when the caller names
  another moment its count depends on (`upcoming`: the next event's end).

Asking costs one read of the versions (a row per type).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, select, true
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.kept import kept, run
from app.content.types import ContentType
from app.content.visibility import Viewer, next_public_at
from app.models import ContentVersion, TypeVersion

MAX_ENTRIES = 10_000

K = TypeVar("K")

# Per engine: scope -> ((epoch, versions of the types read), expires at or None, value).
_At = tuple[str, tuple[int, ...]]
_Entry = tuple[_At, datetime | None, Any]
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


_VERSIONS: dict[str, Any] = {}
_Versions = tuple[str, dict[str, int]]  # the epoch, and each type's version


def type_versions(session: Session) -> _Versions | None:
    """The database's epoch and each content type's version (None: not migrated)."""
    stmt = kept(
        _VERSIONS,
        "versions",
        lambda: (
            select(col(ContentVersion.epoch), col(TypeVersion.name), col(TypeVersion.version))
            .join(TypeVersion, true())
            .where(col(ContentVersion.id) == 1)
        ),
    )
    rows = run(session, stmt, {})
    if not rows:
        return None
    return rows[0][0], {name: version for _, name, version in rows}


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
    reads: Sequence[ContentType] = (),
) -> int:
    """`count()` of items of `types`, or the total counted for `scope` at the current
    versions of `types` and `reads` (the types of the items its filters name: a total of
    quotes by article changes when that article is withdrawn). `changes_at`: for a count
    that also depends on the clock, the next moment it may change by itself (it expires
    then too)."""
    totals = cached_counts(
        session, {scope: scope}, types, viewer, lambda _: {scope: count()}, changes_at, reads
    )
    return totals[scope]


def _read_types(types: Sequence[ContentType], reads: Sequence[ContentType]) -> list[ContentType]:
    """The types a total is kept at the versions of: its own and its filters' (no repeats)."""
    return list({t.name: t for t in (*types, *reads)}.values())


def _count_key(scope: str, viewer: Viewer) -> str:
    return f"{scope}|preview={viewer.preview}"


def _expires(
    session: Session,
    read: Sequence[ContentType],
    viewer: Viewer,
    changes_at: Callable[[], datetime | None] | None,
) -> datetime | None:
    """When a total counted now expires: a scheduled item of `read` going public, or the
    moment `changes_at` names, whichever comes first."""
    expires = _expiry(session, read, viewer)
    if changes_at is not None:
        moment = changes_at()
        if moment is not None and (expires is None or moment < expires):
            expires = moment
    return expires


def cached_counts(
    session: Session,
    scopes: Mapping[K, str],
    types: Sequence[ContentType],
    viewer: Viewer,
    count: Callable[[list[K]], Mapping[K, int]],
    changes_at: Callable[[], datetime | None] | None = None,
    reads: Sequence[ContentType] = (),
    versions: _Versions | None = None,
) -> dict[K, int]:
    """`cached_count` for many lists at once (a nested connection's parents): each total
    kept under its own scope, the versions read once (`versions`: already read for this
    request), and those not kept counted by one call of `count` (with the keys to count),
    their expiry worked out once."""
    read = _read_types(types, reads)
    cache = _cache_of(session)
    if versions is None and cache is not None:
        versions = type_versions(session)
    version = _version_of(versions, read)
    keys = {key: _count_key(scope, viewer) for key, scope in scopes.items()}
    totals: dict[K, int] = {}
    missing: list[K] = []
    for key, cache_key in keys.items():
        found = cache.get(cache_key) if cache is not None and version is not None else None
        if found is not None and _fresh(found, version, viewer.now):
            totals[key] = found[2]
        else:
            missing.append(key)
    if not missing:
        return totals
    counted = count(missing)
    totals.update({key: counted.get(key, 0) for key in missing})
    if cache is None or version is None:
        return totals
    expires = _expires(session, read, viewer, changes_at)
    with _LOCK:
        if len(cache) + len(missing) > MAX_ENTRIES:
            cache.clear()
        for key in missing:
            cache[keys[key]] = (version, expires, totals[key])
    return totals


def _version_of(versions: _Versions | None, types: Sequence[ContentType]) -> _At | None:
    """The versions of `types` a kept value is valid at (None: nothing can be kept)."""
    if versions is None:
        return None
    epoch, by_type = versions
    try:
        return epoch, tuple(by_type[t.name] for t in types)
    except KeyError:  # a type the migration does not know: nothing would say it changed
        return None


def _fresh(entry: _Entry, version: _At | None, now: datetime | None) -> bool:
    at, expires, _ = entry
    return at == version and (expires is None or (now is not None and now < expires))


# Per type of a total kept by type: the types its part also reads (`cached_counts`'s
# `reads`), and the next moment its part may change by itself (`changes_at`).
ReadsOf = Callable[[ContentType], Sequence[ContentType]]
ChangesAtOf = Callable[[ContentType], Callable[[], datetime | None] | None]


def cached_total_by_type(
    session: Session,
    scope: str,
    types: Sequence[ContentType],
    viewer: Viewer,
    count_of: Callable[[ContentType], int],
    reads_of: ReadsOf | None = None,
    changes_at_of: ChangesAtOf | None = None,
) -> int:
    """The sum of `count_of(t)` over `types`, each part kept at its own type's version: a
    write to an article recounts a topic stream's articles, not its events. `reads_of`,
    `changes_at_of`: what else a type's part depends on, as `cached_count`'s `reads` and
    `changes_at`."""
    totals = cached_totals_by_type(
        session,
        {scope: scope},
        types,
        viewer,
        lambda ctype, _: {scope: count_of(ctype)},
        reads_of,
        changes_at_of,
    )
    return totals[scope]


def cached_totals_by_type(
    session: Session,
    scopes: Mapping[K, str],
    types: Sequence[ContentType],
    viewer: Viewer,
    count_of: Callable[[ContentType, list[K]], Mapping[K, int]],
    reads_of: ReadsOf | None = None,
    changes_at_of: ChangesAtOf | None = None,
) -> dict[K, int]:
    """`cached_total_by_type` for many lists at once (the streams of many topics): the
    versions read once, and per type the parts not kept counted by one call of
    `count_of(type, keys)`."""
    versions = type_versions(session) if _cache_of(session) is not None else None
    totals = dict.fromkeys(scopes, 0)
    for ctype in types:
        parts = cached_counts(
            session,
            {key: f"{scope}|{ctype.name}" for key, scope in scopes.items()},
            [ctype],
            viewer,
            partial(count_of, ctype),
            None if changes_at_of is None else changes_at_of(ctype),
            () if reads_of is None else reads_of(ctype),
            versions=versions,
        )
        for key, part in parts.items():
            totals[key] += part
    return totals


def cached_at_version(
    session: Session, key: str, types: Sequence[ContentType], compute: Callable[[], Any]
) -> Any:
    """`compute()`, or what it returned at the current versions of `types` (a value that
    only writes to those types change, kept beside the totals)."""
    cache = _cache_of(session)
    version = _version_of(type_versions(session), types) if cache is not None else None
    if cache is None or version is None:
        return compute()
    found = cache.get(key)
    if found is not None and _fresh(found, version, None):
        return found[2]
    value = compute()
    with _LOCK:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = (version, None, value)
    return value
