"""`dossier export` / `dossier import`: content as NDJSON, moved between instances.

Each line is `{"type": "<singular>", "id": "<public id>", "created_at": ..., "data": <the
item in the write shape>}`, `data` exactly what `POST /api/v1/{collection}` accepts,
relations by slug. An item the import creates keeps the line's id where no row of its type
holds it (deleted ones included): its public id, and the calendar UID, feed GUID and
citation id made from it, survive a move to a new instance (an export leaves deleted items
out, and numbered afresh, the items after one moved down, a UID passing to another event). Export writes every
non-deleted item, drafts included, in dependency order (topics, organizations with
parents before children, people, resources, articles, quotes, events, publications)
and in the order the items were created within a type. An import writes them in that
order of types whatever the order of the file's lines (each type's in the file's order),
so that no line depends on where it stands, and items that tie on what orders them (an
article's quotes at one position, the publications of a year) come in the same order on
the new instance as on the old (they tie-break by id), and that instance exports a
byte-identical file. Import validates every
line like a POST, upserts by slug (running it twice changes nothing), and commits all
lines or none: a refused file is reported line by line, every line at fault.

A line is the item as an editor sees it, so it leaves out links to deleted items (an
organization's deleted parent, a deleted author). Importing it replaces the item as a
whole but for those links, which it cannot name: they stay, in their places, and come
back if the deleted item does. So an export imported into the same database changes
nothing, even edited; into an empty one, it is what was visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.content.errors import WriteError
from app.content.restored import mark_showing
from app.content.shown import stamp_at
from app.content.types import BY_COLLECTION, BY_NAME, MAX_ROW_ID, ContentType
from app.content.writes import (
    current_document,
    lock_writers,
    sequence_past,
    upsert_item,
    validate,
    written_alongside,
)
from app.db import as_utc, utcnow
from app.models import Organization
from app.schemas.writes import AwareDatetime

EXPORT_ORDER = (
    "topics",
    "organizations",
    "people",
    "resources",
    "articles",
    "quotes",
    "events",
    "publications",
)
# An import writes the lines in this order too, whatever the file's (`_in_writing_order`).
_WRITING_RANK = {collection: rank for rank, collection in enumerate(EXPORT_ORDER)}
IMPORT_ACTOR = "import"
# References that may point at a line further down (or at the record itself): written in a
# second pass, once every record exists.
DEFERRABLE = {"article": "related", "organization": "parent"}


def _org_depths(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Organization.id, Organization.parent_id).where(Organization.deleted_at.is_(None))  # type: ignore[call-overload, union-attr]
    ).all()
    parents: dict[int, int | None] = {org_id: parent_id for org_id, parent_id in rows}
    depths: dict[int, int] = {}

    def depth(org_id: int, path: frozenset[int]) -> int:
        if org_id not in depths:
            parent = parents.get(org_id)
            known = parent is not None and parent in parents and parent not in path
            depths[org_id] = depth(parent, path | {org_id}) + 1 if known else 0  # type: ignore[arg-type]
        return depths[org_id]

    for org_id in parents:
        depth(org_id, frozenset())
    return depths


def _rows(session: Session, ctype: ContentType) -> list[Any]:
    model = ctype.model
    # By id, as created: not by slug, which made an imported instance's ids, and so the
    # order of every tie, alphabetical.
    kept = model.deleted_at.is_(None)  # type: ignore[union-attr]
    rows = list(session.scalars(select(model).where(kept).order_by(model.id)))
    if ctype.name == "organization":
        depths = _org_depths(session)
        rows.sort(key=lambda row: (depths.get(row.id or 0, 0), row.id))
    return rows


def _snapshot(session: Session) -> None:
    """Read the whole export from one snapshot, so concurrent writes cannot tear it."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.execute(text("BEGIN"))  # SQLite: one read transaction for every query


def export_lines(session: Session) -> Iterator[bytes]:
    """Every non-deleted item as one NDJSON line (with its newline), in dependency order.

    Call it on a fresh session: it opens the read transaction it needs."""
    _snapshot(session)
    for collection in EXPORT_ORDER:
        ctype = BY_COLLECTION[collection]
        for row in _rows(session, ctype):
            record = {
                "type": ctype.name,
                "id": ctype.public_id(row.id),
                "created_at": as_utc(row.created_at).isoformat(),
                "version": row.version,
                "data": current_document(session, ctype, row),
            }
            yield orjson.dumps(record) + b"\n"


# ---------------------------------------------------------------------------------------
# Import


class ImportFailed(Exception):
    """The file was not imported (nothing changed); `errors` are line-numbered messages."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    records: int = 0
    changed: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class _Line:
    number: int
    ctype: ContentType
    data: dict[str, Any]
    # When the item was created where it was exported: an item this import creates keeps
    # it (absent, as in files exported before it was written: the time of the import).
    created_at: datetime | None = None
    # Its row id there: an item this import creates keeps it if free (absent: the next).
    row_id: int | None = None
    # Its version there: the item's is raised to it if lower, so that what is made from
    # the version never goes back for a reader of both instances (a calendar's SEQUENCE,
    # which RFC 5545 wants to only grow: an event edited twice was SEQUENCE:2 there and
    # SEQUENCE:0 after the move). Absent, as in files exported before it was written: none.
    version: int | None = None


def _describe(error: WriteError) -> str:
    details = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}"  # type: ignore[attr-defined]
        for e in error.errors
    )
    return f"{error.detail} {details}".strip() if details else error.detail


_LINE_KEYS = frozenset({"type", "id", "created_at", "version", "data"})
# The highest version a line may give: half of what the column holds (PostgreSQL's
# integer), so that the item can be edited ever after.
MAX_VERSION = MAX_ROW_ID // 2
# A line's created_at is written to the item as any time a POST writes: with an offset, and
# within the years written times may fall in (in UTC), so that its export imports again.
_WRITTEN_TIME: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)
CREATED_AHEAD = timedelta(days=1)


def parse_lines(lines: Iterable[bytes | str]) -> list[_Line]:
    """Parse and validate every line (no database needed); all problems at once."""
    parsed: list[_Line] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(lines, start=1):
        if number == 1:  # a byte order mark, as Windows editors save UTF-8: not content
            raw = (
                raw.removeprefix(b"\xef\xbb\xbf")
                if isinstance(raw, bytes)
                else raw.removeprefix("\ufeff")
            )
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc})")
            continue
        if not isinstance(record, dict) or not {"type", "data"} <= set(record) <= _LINE_KEYS:
            errors.append(
                f'line {number}: expected an object {{"type": ..., "data": {{...}}}} '
                '(and optionally "id", "created_at" and "version")'
            )
            continue
        created_at = record.get("created_at")
        if created_at is not None:
            try:
                created_at = _WRITTEN_TIME.validate_python(created_at)
            except ValidationError as exc:
                reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
                errors.append(f"line {number}: created_at {reasons}")
                continue
            if created_at > datetime.now(UTC) + CREATED_AHEAD:
                # A year-2999 creation led every `created_at` sort, and no item is created
                # after it is exported (a day's slack for the clocks of two servers).
                errors.append(
                    f"line {number}: created_at {created_at.isoformat()} is in the future"
                )
                continue
        ctype = BY_NAME.get(record["type"]) if isinstance(record["type"], str) else None
        if ctype is None:
            errors.append(
                f"line {number}: unknown type {record['type']!r}; use one of {', '.join(BY_NAME)}"
            )
            continue
        version = record.get("version")
        if version is not None and not (type(version) is int and 1 <= version <= MAX_VERSION):
            errors.append(
                f"line {number}: version {str(version)[:50]!r} is not a version (a whole "
                f"number from 1 to {MAX_VERSION:,})"
            )
            continue
        row_id = None
        if record.get("id") is not None:
            given = record["id"]
            row_id = ctype.parse_public_id(given) if isinstance(given, str) else None
            if row_id is None:
                errors.append(
                    f"line {number}: id {str(given)[:50]!r} is not a {ctype.name} id "
                    f"({ctype.public_id(12)}, say)"
                )
                continue
        data = record["data"]
        if not isinstance(data, dict) or not isinstance(data.get("slug"), str) or not data["slug"]:
            errors.append(f"line {number}: data.slug is required (import upserts by slug)")
            continue
        try:
            validate(ctype.collection, data)
        except WriteError as exc:
            errors.append(f"line {number}: {ctype.name} '{data['slug']}': {_describe(exc)}")
            continue
        key = (ctype.name, data["slug"])
        if key in seen:
            errors.append(
                f"line {number}: {ctype.name} '{data['slug']}' is already on line {seen[key]}"
            )
            continue
        seen[key] = number
        parsed.append(_Line(number, ctype, data, created_at, row_id, version))
    if errors:
        raise ImportFailed(errors)
    return parsed


def _exists(session: Session, ctype: ContentType, ref: str) -> bool:
    model = ctype.model
    pk = ctype.parse_public_id(ref)
    key = model.id == pk if pk is not None else model.slug == ref
    return session.scalar(select(model.id).where(key, model.deleted_at.is_(None))) is not None  # type: ignore[call-overload, union-attr]


def _without_forward_refs(session: Session, line: _Line) -> dict[str, Any] | None:
    """The record minus references to items that do not exist yet; None if it has none."""
    name = DEFERRABLE.get(line.ctype.name)
    value = line.data.get(name) if name else None
    if not value:
        return None
    if name == "parent":
        return None if _exists(session, line.ctype, value) else {**line.data, "parent": None}
    ready = [
        r for r in value if isinstance(r, dict) and _exists(session, BY_NAME[r["type"]], r["slug"])
    ]
    return None if len(ready) == len(value) else {**line.data, "related": ready}


def _stamp_at_the_end(
    session: Session,
    rows: Iterable[tuple[ContentType, Any]],
    started: datetime,
    restores: list[tuple[ContentType, int]],
) -> None:
    """Date every change of this import as of now, just before it commits, not as of its
    line: `/api/v1/changes` lists a change once it is `CHANGES_SETTLE` old, trusting that
    a write commits within that of reading the clock. A long import did not: a partner's
    token moved past its first lines (on a scheduled item going live meanwhile) before they
    were committed, and the partner never saw them. The items showing the items it
    restored change then too (`mark_showing`)."""
    by_model: dict[Any, list[int]] = {}
    gone: dict[Any, list[int]] = {}
    for ctype, row in rows:
        by_model.setdefault(ctype.model, []).append(row.id)
        left = getattr(row, "left_public_at", None)
        if left is not None and as_utc(left) >= started:
            gone.setdefault(ctype.model, []).append(row.id)
    session.flush()
    now = utcnow()
    mark_showing(session, restores, now)
    for stamped, column in ((by_model, "updated_at"), (gone, "left_public_at")):
        for model, ids in stamped.items():
            for start in range(0, len(ids), 500):
                session.execute(
                    update(model)
                    .where(model.id.in_(ids[start : start + 500]))
                    .values({column: now})
                    .execution_options(synchronize_session=False)
                )
    stamp_at(session, started, now)
    session.expire_all()


def _defer_versions(session: Session) -> None:
    """PostgreSQL: the triggers leave this transaction's version bumps out (migration
    `import_defers_versions`); `_bump_every_version` makes them once at its end. Bumped a
    dozen times a line, the same rows made an import slower with every line it wrote (10k
    items: 5.5 minutes): PostgreSQL keeps each of a row's versions until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL dossier.versions_deferred = 'on'"))


def _bump_every_version(session: Session, bump: bool) -> None:
    """The end of `_defer_versions`, and (`bump`: something was written) what the
    deferred triggers would have done, for every type at once: an import writes items of
    most types, and the facts of others (taggings, affiliations)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's triggers were not deferred
    session.flush()
    session.execute(text("SET LOCAL dossier.versions_deferred = 'off'"))
    if bump:
        session.execute(text("UPDATE content_version SET version = version + 1 WHERE id = 1"))
        session.execute(text("UPDATE type_version SET version = version + 1"))


def import_records(
    session: Session, lines: Iterable[bytes | str], actor: str = IMPORT_ACTOR
) -> ImportResult:
    """Upsert every line in this session (the caller commits, or rolls back on error).

    On ImportFailed the session is rolled back, and the errors name every line the database
    refused, not only the first: the lines are written again, each in a savepoint, to find
    them. (A line may fail because one written before it did: an item that line would have
    made.)"""
    parsed = parse_lines(lines)
    try:
        return _upsert_lines(session, parsed, actor)
    except ImportFailed as first:
        session.rollback()
        errors: list[tuple[int, str]] = []
        try:
            _upsert_lines(session, parsed, actor, errors)
        finally:
            session.rollback()
        raise ImportFailed([message for _, message in sorted(errors)] or first.errors) from None


def _in_writing_order(parsed: list[_Line]) -> list[_Line]:
    """The lines in the export's order of types (each type's in the file's order): every
    item after those it names (but the references `DEFERRABLE` writes last), so the file's
    own order does not matter. An article's line before its quotes' in particular: a
    quote's `after_block` counts the blocks of the body in the file, which a quote written
    first was checked against the stored body (refused when the file's body had grown),
    and, stored, would have been moved by the article's new body (`follow_body`)."""
    return sorted(parsed, key=lambda line: _WRITING_RANK[line.ctype.collection])


def _upsert_lines(
    session: Session,
    parsed: list[_Line],
    actor: str,
    errors: list[tuple[int, str]] | None = None,
) -> ImportResult:
    """Upsert the lines; the first refused raises ImportFailed. With `errors`, each line is
    written in a savepoint instead, and the refused ones are left out and listed there
    (line number, message)."""
    # The writers' lock before the first read: which slugs exist decides insert or update.
    lock_writers(session)
    _defer_versions(session)
    # Each type's id sequence past the ids the lines keep, once before any is written: a
    # line given a new id (none in the file, or its id taken) must not draw a kept one.
    kept: dict[str, tuple[ContentType, int]] = {}
    for line in parsed:
        if line.row_id is not None:
            top = kept.get(line.ctype.name, (line.ctype, 0))[1]
            kept[line.ctype.name] = (line.ctype, max(top, line.row_id))
    for ctype, top in kept.values():
        sequence_past(session, ctype, top)
    result = ImportResult(records=len(parsed))
    changed_lines: set[int] = set()
    changed_rows: dict[int, tuple[ContentType, Any]] = {}
    deferred: list[_Line] = []
    refused: set[int] = set()
    restores: list[tuple[ContentType, int]] = []  # the items restored, marked at the end
    started = utcnow()

    def upsert(line: _Line, data: dict[str, Any]) -> None:
        savepoint = session.begin_nested() if errors is not None else None
        written_alongside(session).clear()  # (what a refused line wrote is rolled back)
        try:
            row, changed = upsert_item(
                session, line.ctype.collection, data, actor, restores, line.row_id
            )
        except WriteError as exc:
            message = (
                f"line {line.number}: {line.ctype.name} '{line.data['slug']}': {_describe(exc)}"
            )
            if savepoint is None or errors is None:
                raise ImportFailed([message]) from None
            savepoint.rollback()
            errors.append((line.number, message))
            refused.add(line.number)
            return
        if line.created_at is not None and as_utc(row.created_at) >= started:
            row.created_at = line.created_at  # made by this import: as where it came from
        if line.version is not None and row.version < line.version:
            row.version = line.version
            changed = True  # restamped, counted and purged as any change (caches, /changes)
        if savepoint is not None:
            savepoint.commit()
        if changed:
            changed_lines.add(line.number)
            changed_rows[id(row)] = (line.ctype, row)
        alongside = written_alongside(session)
        for other_type, other in alongside:  # quotes that followed their article's body
            changed_rows[id(other)] = (other_type, other)
        alongside.clear()

    for line in _in_writing_order(parsed):
        partial = _without_forward_refs(session, line)
        if partial is not None:
            deferred.append(line)
        upsert(line, partial if partial is not None else line.data)
    for line in deferred:
        if line.number not in refused:
            upsert(line, line.data)
    if errors is not None:
        return result  # only checked: the caller rolls back
    _stamp_at_the_end(session, changed_rows.values(), started, restores)
    _bump_every_version(session, bump=bool(changed_lines))
    result.changed = len(changed_lines)
    for line in parsed:
        result.by_type[line.ctype.name] = result.by_type.get(line.ctype.name, 0) + 1
    return result
