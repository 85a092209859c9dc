"""Creating, changing and deleting content: one path for POST, PATCH, DELETE, import and demo.

Every write validates the whole resulting document (a PATCH is merged into the current
write shape first), resolves relations by slug or id, sanitizes rich text, keeps the
search document in step, bumps `version`/`updated_at` and records an audit entry. The
caller owns the transaction: on any error nothing is flushed that it does not roll back.
"""

from __future__ import annotations

from collections.abc import Container
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.content.errors import WriteError, conflict, invalid
from app.content.links import (
    RELATION_FIELDS,
    Resolver,
    check_no_cycle,
    hiding_links,
    replace_links,
)
from app.content.names import derive_sort_name
from app.content.placement import check_placement, follow_body, hidden_place
from app.content.relations import RELATIONS
from app.content.restored import mark_showing
from app.content.search import index_item, is_indexed
from app.content.text import (
    REFUSED_IN_WRITES,
    html_to_text,
    rich_text_problem,
    sanitize_html,
    slugify,
)
from app.content.types import BY_COLLECTION, QUOTE, ContentType
from app.content.visibility import Viewer, is_visible
from app.db import take_writers_lock, utcnow
from app.models import (
    AuditEntry,
)
from app.schemas.writes import PATTERN_MESSAGES, WRITE_MODELS

# Rich-text fields and the plain-text column derived from each.
RICH_TEXT = {
    "person": {"bio": "bio_text"},
    "article": {"body": "body_text"},
    "event": {"body": "body_text"},
}
# Composite write fields stored as prefixed columns.
COMPOSITES = {
    "photo": ("photo", ("url", "alt", "credit")),
    "hero_image": ("hero_image", ("url", "alt", "caption", "credit")),
    "venue": ("venue", ("name", "address")),
}
EDITOR = Viewer(preview=True)  # editors see drafts and scheduled items, never deleted ones


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _errors_from(collection: str, exc: ValidationError) -> list[dict[str, object]]:
    return [
        {"loc": ["body", *[str(p) for p in err["loc"]]], "msg": _message(collection, err)}
        for err in exc.errors(include_url=False)
    ]


def _message(collection: str, err: Any) -> str:
    """What to fix, in the editor's words: pydantic quotes a pattern's regular expression,
    prefixes a validator's message with "Value error, ", and calls a misspelt field an
    "extra input"."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(str(ctx.get("pattern")), str(err["msg"]))
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "extra_forbidden":
        if len(err["loc"]) == 1:  # a top-level field: name the ones there are
            ctype = BY_COLLECTION[collection]
            fields = ", ".join(WRITE_MODELS[collection].model_fields)
            return f"is not a field of {ctype.indefinite_name}: it has {fields}"
        return "is not a field here"
    return str(err["msg"])


# No item's JSON nests deeper than a few levels (`related: [{type, slug}]` is three);
# a deeper body is refused before anything walks it recursively.
MAX_JSON_DEPTH = 32


def nests_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays in `value` nest more than `limit` levels (walked
    without recursion: a body nested 1,000 levels must not exhaust Python's stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def too_deep() -> WriteError:
    return invalid([{"loc": ["body"], "msg": f"nests deeper than {MAX_JSON_DEPTH} levels"}])


def _forbidden_characters(value: Any, loc: list[str]) -> list[dict[str, object]]:
    """NUL cannot be stored in PostgreSQL text; refused alike on every database. Other
    control characters are refused too: an RSS or Atom feed would have to drop them, and
    a JSON Feed would not, so one title would read two ways."""
    if isinstance(value, str):
        if "\x00" in value:
            return [{"loc": loc, "msg": "must not contain NUL characters"}]
        if match := REFUSED_IN_WRITES.search(value):
            code = f"U+{ord(match.group()):04X}"
            return [{"loc": loc, "msg": f"must not contain control characters ({code})"}]
        return []
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _forbidden_characters(v, [*loc, str(k)])]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _forbidden_characters(v, [*loc, str(i)])]
    return []


@cache
def not_clearable(collection: str) -> frozenset[str]:
    """The fields of `collection`'s writes that have a value whatever is written: a default
    and no null (`status`, the types, `timezone`, `position`, `is_confidential`), the
    required ones (`title`, `name`: their null said "Field required", of a field the patch
    gave), and `slug` (its null left it as it was, with a 200); lists, whose null is
    empty, are not among them."""
    kept = {"slug"}
    for name, field in WRITE_MODELS[collection].model_fields.items():
        annotation = field.annotation
        nullable = type(None) in get_args(annotation) or annotation is type(None)
        if (field.is_required() or not nullable) and get_origin(annotation) is not list:
            kept.add(name)
    return frozenset(kept)


def _nulls_refused(collection: str, patch: dict[str, Any]) -> list[dict[str, object]]:
    """A merge patch's `null`s of fields that have a value whatever is written: read as
    "cleared", each took its default (`status: null` unpublished a live item, as `draft`;
    `attendance_mode: null` made an online event in person)."""
    return [
        {
            "loc": ["body", name],
            "msg": "cannot be null: give a value, or leave the field out to keep it",
        }
        for name, value in patch.items()
        if value is None and name in not_clearable(collection)
    ]


def validate(collection: str, data: Any) -> BaseModel:
    if not isinstance(data, dict):
        raise invalid([{"loc": ["body"], "msg": "must be a JSON object"}])
    if nests_too_deep(data):
        raise too_deep()
    if nul := _forbidden_characters(data, ["body"]):
        raise invalid(nul)
    try:
        model = WRITE_MODELS[collection].model_validate(data)
    except ValidationError as exc:
        raise invalid(_errors_from(collection, exc)) from None
    if refused := _rich_text_refused(collection, model):
        raise invalid(refused)
    return model


def _rich_text_refused(collection: str, model: BaseModel) -> list[dict[str, object]]:
    """Rich text that would be stored longer than a write may send (the length checked so
    far is of the HTML as sent), or that the parser would make so (`rich_text_problem`):
    an item stored over the limit failed every later write's checks, its import's too."""
    refused: list[dict[str, object]] = []
    for name in RICH_TEXT.get(BY_COLLECTION[collection].name, {}):
        value = getattr(model, name, None)
        problem = rich_text_problem(value) if value else None
        if problem is not None:
            refused.append({"loc": ["body", name], "msg": problem})
    return refused


def lock_writers(session: Session) -> None:
    """Take the writers' lock (`app.db.take_writers_lock`) first, once per transaction:
    every path that writes content calls this before it reads what it writes from."""
    held = session.info.get("writers_locked")
    if held is not None and held is session.get_transaction():
        return
    take_writers_lock(session.connection())
    session.info["writers_locked"] = session.get_transaction()


def _unique_slug(session: Session, ctype: ContentType, base: str, own_id: int | None) -> str:
    """`base`, or `base-2`, `base-3`… whichever is free (deleted items keep theirs). The
    caller holds the writers' lock (`lock_writers`): two "Same Name" topics at once would
    otherwise both pick `same-name`, and one fail with a 409 for a slug never asked for."""
    base = base or ctype.name
    model = ctype.model
    taken = set(
        session.scalars(select(model.slug).where(model.slug.like(f"{base}%"), model.id != own_id))
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _scalars(ctype: ContentType, doc: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    rich = RICH_TEXT.get(ctype.name, {})
    for key, value in doc.items():
        if key in RELATION_FIELDS or key == "slug":
            continue
        if key in COMPOSITES:
            prefix, parts = COMPOSITES[key]
            for part in parts:
                values[f"{prefix}_{part}"] = value.get(part) if value else None
        elif key in rich:
            # Markup that sanitizing leaves nothing of (an iframe, a script) is no body at
            # all, as its text says: not "" beside a null `body_text`.
            clean = (sanitize_html(value) or None) if value else None
            values[key] = clean
            values[rich[key]] = html_to_text(clean) if clean else None
        else:
            values[key] = value
    if ctype.name == "person" and not values.get("sort_name"):
        values["sort_name"] = derive_sort_name(doc["name"])
    return values


def _audit(
    session: Session,
    actor: str,
    action: str,
    ctype: ContentType,
    row: Any,
    changes: dict[str, object] | None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity_type=ctype.name,
            entity_id=row.id,
            slug=row.slug,
            changes=changes,
        )
    )


def _apply(
    session: Session,
    ctype: ContentType,
    row: Any,
    doc: dict[str, Any],
    named: Container[str] = RELATION_FIELDS,
    keep_hidden: bool = False,
) -> None:
    """Write `doc` to the row: every field, and the relations `named` names (a PATCH: those
    it sent; see `replace_links`, also for `keep_hidden`)."""
    for key, value in _scalars(ctype, doc).items():
        setattr(row, key, value)
    session.flush()  # the row needs its id before its links
    resolve = Resolver(session)
    replace_links(session, ctype, row, doc, resolve, named, keep_hidden)
    resolve.check()
    index_item(session, ctype, row)
    session.flush()


def _slug_holder(session: Session, ctype: ContentType, slug: str) -> WriteError | None:
    """The 409 of a create or a rename to `slug`, when another item of the type holds it:
    which one, and whether it is deleted (so the editor neither hunts for a live item that
    is not there nor waits for a deleted one's slug to come free)."""
    model = ctype.model
    holder = session.execute(select(model.id, model.deleted_at).where(model.slug == slug)).first()
    if holder is None:
        return None
    held_by = ctype.public_id(holder.id)
    if holder.deleted_at is not None:
        return conflict(
            f"The slug '{slug}' belonged to {ctype.indefinite_name} that was deleted "
            f"({held_by}); a deleted item's slug is never reused, so that links to it "
            "never point at a new one: choose another."
        )
    return conflict(
        f"The slug '{slug}' is taken by another {ctype.name} ({held_by}): choose another "
        "(a create that leaves `slug` out is given a free one)."
    )


def create_item(
    session: Session, collection: str, data: Any, actor: str, row_id: int | None = None
) -> Any:
    """Create an item. `row_id`: the id to give it if no row of its type holds it, deleted
    ones included (`dossier import` keeps an exported item's id, and with it the calendar
    UID and feed GUID made from it); else, as without it, the next. The caller moves the
    type's id sequence past the ids it gives (`sequence_past`)."""
    lock_writers(session)
    ctype = BY_COLLECTION[collection]
    doc = validate(collection, data).model_dump(mode="python", exclude_unset=False)
    explicit = doc.get("slug")
    if explicit:
        if taken := _slug_holder(session, ctype, explicit):
            raise taken
        slug = explicit
    else:
        slug = _unique_slug(session, ctype, slugify(str(doc.get(ctype.title_field) or "")), None)
    row = ctype.model(slug=slug)
    if row_id is not None and session.get(ctype.model, row_id) is None:
        row.id = row_id
    session.add(row)
    _apply(session, ctype, row, doc)
    if ctype.name == "quote":
        check_placement(session, row, None, given=True)
    _audit(
        session,
        actor,
        "create",
        ctype,
        row,
        {"document": _jsonable(current_document(session, ctype, row))},
    )
    return row


def sequence_past(session: Session, ctype: ContentType, row_id: int) -> None:
    """PostgreSQL: the type's id sequence past `row_id`, which rows may be given without
    drawing from it (`create_item`'s `row_id`): the next row made without one would be
    given it, a duplicate key. SQLite numbers a new row past the highest."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT setval(seq, :id) FROM (SELECT pg_get_serial_sequence(:table, 'id') AS seq)"
            " AS kept WHERE :id > coalesce(pg_sequence_last_value(seq::regclass), 0)"
        ),
        {"table": ctype.model.__tablename__, "id": row_id},
    )


def update_item(
    session: Session,
    collection: str,
    row: Any,
    patch: Any,
    actor: str,
    replacing: bool = False,
    before: dict[str, Any] | None = None,
) -> Any:
    """Apply a JSON merge patch to `row`. `replacing`: `patch` is a whole document
    (`upsert_item`, `dossier import`), whose absent fields are null, not a client's
    explicit nulls, and which keeps the links to deleted items it cannot name. `before`:
    the row's `current_document`, when the caller has it."""
    ctype = BY_COLLECTION[collection]
    if not isinstance(patch, dict):
        raise invalid([{"loc": ["body"], "msg": "must be a JSON object"}])
    if before is None:
        before = current_document(session, ctype, row)
    if not replacing and (refused := _nulls_refused(collection, patch)):
        raise invalid(refused)
    merged = merge_patch(before, patch)
    if (
        not replacing
        and "published_at" in patch
        and patch["published_at"] is None
        and merged.get("status") == "published"
    ):
        # `null` clears a field, but a published item has a publication time: it would be
        # re-dated to now, moving it to the top of every newest-first list and feed.
        raise invalid(
            [
                {
                    "loc": ["body", "published_at"],
                    "msg": "a published item has a publication time: give one, or leave "
                    "published_at out (to keep it, or, for a draft being published, to use now)",
                }
            ]
        )
    if (
        not replacing
        and ctype.name == "person"
        and "sort_name" not in patch
        and isinstance(merged.get("name"), str)
        and before.get("sort_name") == derive_sort_name(str(before.get("name") or ""))
    ):
        # A sort name derived from the name follows a rename (it orders people lists and
        # names the author in citations); one set by hand stays. An import's line is a
        # whole document, whose sort name is what it says (absent: derived again).
        merged["sort_name"] = derive_sort_name(merged["name"])
    doc = validate(collection, merged).model_dump(mode="python")
    seen = before
    kept = hidden_place(session, row) if ctype.name == "quote" else None
    if (
        kept is not None
        and doc["article"] is None
        and doc["after_block"] is None
        and (replacing or not {"article", "after_block"} & patch.keys())
    ):
        # The place in a deleted article, which `before` leaves out with the article: as
        # its link (`replace_links`), kept, unless the write names it.
        doc["after_block"] = kept
        seen = {**before, "after_block": kept}
    # The relations a PATCH names that also link to deleted items, which `before` (what an
    # editor sees) leaves out: the patch says what they are, so those links go too.
    hidden = [] if replacing else hiding_links(session, ctype, row, before, patch.keys())
    if (
        not hidden
        and _unchanged(collection, seen, doc)
        and _stored_as_written(session, ctype, row, doc)
    ):
        # Nothing to write: no links or search row rewritten, so no content version bumped
        # and no cached response purged (re-importing the same file, a PATCH of equal values).
        return row
    public_slug = _public_before(ctype, row)
    new_slug = doc.get("slug") or row.slug
    if new_slug != row.slug and (taken := _slug_holder(session, ctype, new_slug)):
        raise taken
    row.slug = new_slug
    placed = (row.article_id, row.after_block) if ctype.name == "quote" else None
    old_body = row.body if ctype.name == "article" else None
    _apply(session, ctype, row, doc, named=patch.keys(), keep_hidden=replacing)
    if ctype.name == "quote":
        check_placement(session, row, placed, given=replacing or "after_block" in patch)
    elif ctype.name == "article" and row.body != old_body:
        _quotes_follow_body(session, actor, row, old_body)
    _record_exit(ctype, row, public_slug)
    after = current_document(session, ctype, row)
    changed = sorted(
        {k for k in set(before) | set(after) if before.get(k) != after.get(k)} | set(hidden)
    )
    if changed:
        row.version += 1
        row.updated_at = utcnow()
        session.flush()
        _audit(session, actor, "update", ctype, row, {"fields": changed})
    return row


def written_alongside(session: Session) -> list[tuple[ContentType, Any]]:
    """Items this session's writes changed besides the items written (an article's quotes
    that follow its edited body): the caller tells the caches of them too, after commit."""
    written: list[tuple[ContentType, Any]] = session.info.setdefault("written_alongside", [])
    return written


def _quotes_follow_body(session: Session, actor: str, article: Any, old_body: str | None) -> None:
    """The article's body changed: its placed quotes move with the blocks they stood
    after (`app.content.placement`), each a change of the quote (deleted ones, which no
    one sees, only move)."""
    for quote in follow_body(session, article.id, old_body, article.body):
        if quote.deleted_at is None:
            quote.version += 1
            quote.updated_at = utcnow()
            _audit(session, actor, "update", QUOTE, quote, {"fields": ["after_block"]})
            written_alongside(session).append((QUOTE, quote))
    session.flush()


def _unchanged(collection: str, before: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether `doc` (validated) is what the item holds now (`before`, its write shape).
    A stored item that no longer passes today's checks counts as changed: the write goes
    through them."""
    try:
        current = validate(collection, before).model_dump(mode="python")
    except WriteError:
        return False
    return bool(current == doc)


def _stored_as_written(session: Session, ctype: ContentType, row: Any, doc: dict[str, Any]) -> bool:
    """Whether what the row stores, derived values included (sanitized HTML, plain text,
    sort name, the search document), is what writing `doc` would store now: a write that
    changes nothing still heals what an older version of the code derived differently."""
    for key, value in _scalars(ctype, doc).items():
        if getattr(row, key) != value:
            return False
    return is_indexed(session, ctype, row)


def _public_before(ctype: ContentType, row: Any) -> str | None:
    """Before a write: mark an item that is public now, and return the slug the public sees."""
    if ctype.publishable and is_visible(row, Viewer()):
        row.was_public = True
        return str(row.slug)
    return None


def _record_exit(ctype: ContentType, row: Any, public_slug: str | None) -> None:
    """After a write: remember when and as what the item left the public surface."""
    if not ctype.publishable:
        return
    if is_visible(row, Viewer()):
        row.left_public_at = None
        row.public_slug = None
    elif public_slug is not None:
        row.left_public_at = utcnow()
        row.public_slug = public_slug


def delete_item(session: Session, collection: str, row: Any, actor: str) -> None:
    ctype = BY_COLLECTION[collection]
    public_slug = _public_before(ctype, row)
    now = utcnow()
    row.deleted_at = now
    row.updated_at = now
    _record_exit(ctype, row, public_slug)
    row.version += 1
    # Flushed: the row's triggers hide its search document and taggings in the same
    # statement (migrations `search_follows_its_item`, `tagging_public_at`).
    session.flush()
    _audit(session, actor, "delete", ctype, row, None)


def upsert_item(
    session: Session,
    collection: str,
    data: dict[str, Any],
    actor: str,
    restores: list[tuple[ContentType, int]] | None = None,
    row_id: int | None = None,
) -> tuple[Any, bool]:
    """Create, or update the item with this slug; returns (row, changed). Idempotent.
    `row_id`: the id a created item is given if free (`create_item`).

    Restoring a deleted item changes the items that show it (`mark_showing`): at once, or,
    given `restores`, the caller marks them at its end, with the (type, id) noted there (an
    import, which dates its changes as it ends, marks them all in a few statements)."""
    lock_writers(session)
    ctype = BY_COLLECTION[collection]
    slug = data.get("slug")
    row = None
    if slug:
        row = session.scalars(select(ctype.model).where(ctype.model.slug == slug)).first()
    if row is None:
        return create_item(session, collection, data, actor, row_id), True
    restored = row.deleted_at is not None
    if restored:
        row.deleted_at = None
    version = row.version
    # A full replacement: fields absent from `data` are cleared, as in the write shape.
    current = current_document(session, ctype, row)
    replacement = {k: None for k in current} | data
    if (
        "published_at" not in data
        and current.get("published_at") is not None
        and replacement.get("status") == "published"
    ):
        # Left out, the publication time would be the time of this import: importing the
        # same file again would re-date the item to the top of every stream and feed.
        replacement["published_at"] = current["published_at"]
    update_item(session, collection, row, replacement, actor, replacing=True, before=current)
    if restored and row.version == version:
        # Back on the public surface though no field changed: a new version and time, so
        # partners see it again (their last word on it was `deleted` in /changes).
        row.version += 1
        row.updated_at = utcnow()
        _record_exit(ctype, row, None)  # public again: no longer "left the public surface"
        session.flush()
        _audit(session, actor, "update", ctype, row, {"restored": True})
    if restored and ctype.name == "organization":
        # Back in the hierarchy with its parent and the children that still name it: even
        # when the line changed nothing (no write, so no check in `_apply`), a restore
        # must not close a cycle. (Flushed first: the walk reads what is restored.)
        session.flush()
        resolve = Resolver(session)
        check_no_cycle(session, row, resolve)
        resolve.check()
    if restored and restores is not None:
        restores.append((ctype, row.id))
    elif restored:
        session.flush()
        mark_showing(session, [(ctype, row.id)], utcnow())
    return row, row.version != version


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    import orjson

    return orjson.loads(orjson.dumps(doc, default=str))


def current_document(session: Session, ctype: ContentType, row: Any) -> dict[str, Any]:
    """The item in the write shape (relations by slug): what export prints and PATCH merges into."""
    schema = WRITE_MODELS[ctype.collection]
    doc: dict[str, Any] = {"slug": row.slug}
    rich = RICH_TEXT.get(ctype.name, {})
    for key in schema.model_fields:
        if key in RELATION_FIELDS or key == "slug":
            continue
        if key in COMPOSITES:
            prefix, parts = COMPOSITES[key]
            value = {p: getattr(row, f"{prefix}_{p}") for p in parts}
            doc[key] = value if any(v is not None for v in value.values()) else None
        elif key in rich:
            doc[key] = getattr(row, key)
        else:
            doc[key] = getattr(row, key)
    relations = RELATIONS[ctype.name]
    for name, relation in relations.items():
        if name not in schema.model_fields:
            continue
        links = relation.loader(session, [row], EDITOR).get(row.id, [])
        if name == "participants":
            doc[name] = [
                {"person": link.target.slug, "role": link.extra["role"]}
                # (No `title` key when there is none: exports of events without stay as they were.)
                | ({"title": link.extra["title"]} if link.extra["title"] is not None else {})
                for link in links
            ]
        elif name == "affiliations":
            doc[name] = [
                {
                    "organization": link.target.slug,
                    "role": link.extra["role"],
                    "start_year": link.extra["start_year"],
                    "end_year": link.extra["end_year"],
                    "is_current": link.extra["is_current"],
                    "is_primary": link.extra["is_primary"],
                }
                for link in links
            ]
        elif name == "related":
            doc[name] = [{"type": link.extra["type"], "slug": link.target.slug} for link in links]
        elif relation.many:
            doc[name] = [link.target.slug for link in links]
        else:
            doc[name] = links[0].target.slug if links else None
    if ctype.name == "quote" and doc["article"] is None:
        doc["after_block"] = None  # counted in a deleted article, which it shows not
    return doc


__all__ = [
    "WriteError",
    "create_item",
    "current_document",
    "delete_item",
    "merge_patch",
    "update_item",
    "upsert_item",
]
