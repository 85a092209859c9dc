"""Creating, changing and deleting content: one path for POST, PATCH, DELETE, import and demo.

Every write validates the whole resulting document (a PATCH is merged into the current
write shape first), resolves relations by slug or id, sanitizes rich text, keeps the
search document in step, bumps `version`/`updated_at` and records an audit entry. The
caller owns the transaction: on any error nothing is flushed that it does not roll back.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.errors import WriteError, conflict, invalid
from app.content.names import derive_sort_name
from app.content.relations import RELATIONS, Relation
from app.content.search import SYNCHRONIZE, index_item, index_visibility, is_indexed
from app.content.text import NOT_XML, html_to_text, sanitize_html, slugify
from app.content.types import BY_COLLECTION, BY_NAME, ContentType
from app.content.visibility import Viewer, is_visible, public_since
from app.db import take_writers_lock, utcnow
from app.models import (
    Affiliation,
    ArticleAuthor,
    ArticleResource,
    AuditEntry,
    EventParticipant,
    EventSponsor,
    Organization,
    PublicationAuthor,
    RelatedItem,
    Tagging,
)
from app.schemas.writes import WRITE_MODELS

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
# Write fields that are relations (stored in link tables or as foreign keys).
RELATION_FIELDS = {
    "topics",
    "parent",
    "affiliations",
    "authors",
    "resources",
    "related",
    "speaker",
    "article",
    "participants",
    "sponsors",
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


def _errors_from(exc: ValidationError) -> list[dict[str, object]]:
    return [
        {"loc": ["body", *[str(p) for p in err["loc"]]], "msg": err["msg"]}
        for err in exc.errors(include_url=False)
    ]


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
        if match := NOT_XML.search(value):
            code = f"U+{ord(match.group()):04X}"
            return [{"loc": loc, "msg": f"must not contain control characters ({code})"}]
        return []
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _forbidden_characters(v, [*loc, str(k)])]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _forbidden_characters(v, [*loc, str(i)])]
    return []


def validate(collection: str, data: Any) -> BaseModel:
    if not isinstance(data, dict):
        raise invalid([{"loc": ["body"], "msg": "must be a JSON object"}])
    if nests_too_deep(data):
        raise too_deep()
    if nul := _forbidden_characters(data, ["body"]):
        raise invalid(nul)
    try:
        return WRITE_MODELS[collection].model_validate(data)
    except ValidationError as exc:
        raise invalid(_errors_from(exc)) from None


class _Resolver:
    """Turns slugs/ids into row ids, collecting every unknown reference before failing."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.errors: list[dict[str, object]] = []

    def many(self, ctype: ContentType, refs: Sequence[str], loc: list[str]) -> list[int]:
        if not refs:
            return []
        model = ctype.model
        pks = {r: ctype.parse_public_id(r) for r in refs}
        rows = self.session.execute(
            select(model.id, model.slug).where(
                model.deleted_at.is_(None),
                (model.slug.in_([r for r, pk in pks.items() if pk is None]))
                | (model.id.in_([pk for pk in pks.values() if pk is not None])),
            )
        ).all()
        by_slug = {slug: pk for pk, slug in rows}
        by_id = {pk for pk, _ in rows}
        out: list[int] = []
        for i, ref in enumerate(refs):
            pk = pks[ref]
            found = pk if pk is not None and pk in by_id else by_slug.get(ref)
            if found is None:
                self.errors.append({"loc": [*loc, str(i)], "msg": f"unknown {ctype.name} '{ref}'"})
            elif found in out:
                self.errors.append(
                    {"loc": [*loc, str(i)], "msg": f"{ctype.name} '{ref}' is listed twice"}
                )
            else:
                out.append(found)
        return out

    def one(self, ctype: ContentType, ref: str | None, loc: list[str]) -> int | None:
        if ref is None:
            return None
        found = self.many(ctype, [ref], [*loc[:-1], loc[-1]])
        if self.errors and self.errors[-1]["loc"][:-1] == loc:  # type: ignore[index]
            self.errors[-1]["loc"] = loc
        return found[0] if found else None

    def check(self) -> None:
        if self.errors:
            raise invalid(self.errors, "Some references are not valid.")


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
            clean = sanitize_html(value) if value else None
            values[key] = clean
            values[rich[key]] = html_to_text(clean) if clean else None
        else:
            values[key] = value
    if ctype.name == "person" and not values.get("sort_name"):
        values["sort_name"] = derive_sort_name(doc["name"])
    return values


# Where each relation a write names is stored. To-one relations are a foreign key on the
# item; the others are rows of a link table. `_replace_links` rewrites them from these,
# and `_hiding_links` counts them, so the two cannot disagree on where a link is.
_FOREIGN_KEYS = {
    ("organization", "parent"): "parent_id",
    ("quote", "speaker"): "speaker_id",
    ("quote", "article"): "article_id",
}


@dataclass(frozen=True)
class _LinkTable:
    """Rows of `model` that name the item in `parent` and the linked item in `target`.
    `typed`: the table holds links of every type (taggings), so a row names its type too."""

    model: Any
    parent: str
    target: str
    typed: bool = False

    def rows_of(self, type_name: str, pk: int) -> list[Any]:
        """The conditions that select the item's rows."""
        where = [getattr(self.model, self.parent) == pk]
        if self.typed:
            where.append(col(Tagging.entity_type) == type_name)
        return where

    def row(self, ctype: ContentType, item: Any, target: int, **values: Any) -> Any:
        """A new link row from `item` to `target` (its position set by the caller)."""
        keys: dict[str, Any] = {self.parent: item.id, self.target: target}
        if self.typed:
            keys["entity_type"] = ctype.name
            # Inserted, a tagging holds its item's visibility as written now; the item's
            # row updated later, triggers keep it (migration `tagging_public_at`).
            keys["public_at"] = public_since(ctype.model, partial(getattr, item))
        return self.model(**keys, **values)


_TAGGINGS = _LinkTable(Tagging, "entity_id", "topic_id", typed=True)
_LINK_ROWS: dict[tuple[str, str], _LinkTable] = {
    **{
        (name, "topics"): _TAGGINGS
        for name, relations in RELATIONS.items()
        if "topics" in relations
    },
    ("person", "affiliations"): _LinkTable(Affiliation, "person_id", "organization_id"),
    ("article", "authors"): _LinkTable(ArticleAuthor, "article_id", "person_id"),
    ("article", "resources"): _LinkTable(ArticleResource, "article_id", "resource_id"),
    ("article", "related"): _LinkTable(RelatedItem, "article_id", "target_id"),
    ("publication", "authors"): _LinkTable(PublicationAuthor, "publication_id", "person_id"),
    ("event", "participants"): _LinkTable(EventParticipant, "event_id", "person_id"),
    ("event", "sponsors"): _LinkTable(EventSponsor, "event_id", "organization_id"),
}
# Every relation a client writes is one or the other (`quotes` is read, never written).
assert {key[1] for key in (*_FOREIGN_KEYS, *_LINK_ROWS)} == RELATION_FIELDS


class _Builder(Protocol):
    """Turns a relation as a document gives it into new link rows, in order; an unknown
    or repeated target is an error in `resolve`, and no row."""

    def __call__(
        self,
        table: _LinkTable,
        ctype: ContentType,
        item: Any,
        given: list[Any],
        relation: Relation,
        resolve: _Resolver,
    ) -> list[Any]: ...


def _targets(
    table: _LinkTable,
    ctype: ContentType,
    item: Any,
    given: list[Any],
    relation: Relation,
    resolve: _Resolver,
) -> list[Any]:
    """Links to items listed by slug or id (topics, authors, resources, sponsors)."""
    assert relation.target is not None
    found = resolve.many(relation.target, given, ["body", relation.name])
    return [table.row(ctype, item, target) for target in found]


def _affiliations(
    table: _LinkTable,
    ctype: ContentType,
    item: Any,
    given: list[Any],
    relation: Relation,
    resolve: _Resolver,
) -> list[Any]:
    links = []
    for i, aff in enumerate(given):
        org_id = resolve.one(
            BY_NAME["organization"],
            aff["organization"],
            ["body", "affiliations", str(i), "organization"],
        )
        if org_id is not None:
            links.append(
                table.row(
                    ctype,
                    item,
                    org_id,
                    role=aff["role"],
                    start_year=aff.get("start_year"),
                    end_year=aff.get("end_year"),
                    is_primary=aff.get("is_primary", False),
                )
            )
    return links


def _related(
    table: _LinkTable,
    ctype: ContentType,
    item: Any,
    given: list[Any],
    relation: Relation,
    resolve: _Resolver,
) -> list[Any]:
    links = []
    listed: set[tuple[str, int]] = set()
    for i, ref in enumerate(given):
        target = resolve.one(BY_NAME[ref["type"]], ref["slug"], ["body", "related", str(i), "slug"])
        if target is not None and (ref["type"], target) in listed:
            resolve.errors.append(
                {
                    "loc": ["body", "related", str(i)],
                    "msg": f"{ref['type']} '{ref['slug']}' is listed twice",
                }
            )
        elif target is not None:
            listed.add((ref["type"], target))
            links.append(table.row(ctype, item, target, target_type=ref["type"]))
    return links


def _participants(
    table: _LinkTable,
    ctype: ContentType,
    item: Any,
    given: list[Any],
    relation: Relation,
    resolve: _Resolver,
) -> list[Any]:
    links = []
    seen: set[tuple[int, str]] = set()
    for i, part in enumerate(given):
        person_id = resolve.one(
            BY_NAME["person"], part["person"], ["body", "participants", str(i), "person"]
        )
        if person_id is None:
            continue
        if (person_id, part["role"]) in seen:
            resolve.errors.append(
                {
                    "loc": ["body", "participants", str(i)],
                    "msg": "this person already has this role",
                }
            )
            continue
        seen.add((person_id, part["role"]))
        links.append(table.row(ctype, item, person_id, role=part["role"], title=part.get("title")))
    return links


_BUILDERS: dict[str, _Builder] = {
    "affiliations": _affiliations,
    "related": _related,
    "participants": _participants,
}


def _live(session: Session, ctype: ContentType, ids: set[int]) -> set[int]:
    """Which of `ids` are items of `ctype` that are not deleted."""
    model = ctype.model
    return set(
        session.scalars(select(model.id).where(model.id.in_(ids), model.deleted_at.is_(None)))
    )


def _links_to_deleted(
    session: Session, table: _LinkTable, ctype: ContentType, pk: int, relation: Relation
) -> list[tuple[int, dict[str, Any]]]:
    """The item's stored links of `relation` to deleted items: each its index among all
    its links (in `position` order, as read) and its columns, but for an affiliation's
    own id (every rewrite of the relation gives its rows new ones)."""
    model = table.model
    stored = session.execute(
        select(model.__table__)
        .where(*table.rows_of(ctype.name, pk))
        .order_by(model.position, *model.__table__.primary_key.columns)
    ).mappings()
    links = [
        (relation.target.name if relation.target else link["target_type"], dict(link))
        for link in stored
    ]
    wanted: dict[str, set[int]] = {}
    for type_name, values in links:
        wanted.setdefault(type_name, set()).add(values[table.target])
    live = {
        (type_name, target)
        for type_name, ids in wanted.items()
        for target in _live(session, BY_NAME[type_name], ids)
    }
    return [
        (index, {k: v for k, v in values.items() if k != "id"})
        for index, (type_name, values) in enumerate(links)
        if (type_name, values[table.target]) not in live
    ]


def _replace_links(
    session: Session,
    ctype: ContentType,
    row: Any,
    doc: dict[str, Any],
    resolve: _Resolver,
    named: Container[str],
    keep_hidden: bool = False,
) -> None:
    """Write the item's relations that `named` names as `doc` gives them; leave the others.

    A relation as `doc` holds it lacks links to deleted items (`current_document` reads
    what an editor sees), which stay in the database so that restoring the item brings
    them back: rewritten by a PATCH that did not name the relation, they were lost.
    `keep_hidden` (a whole document: an import line) keeps them even in the relations it
    rewrites, each in its place: the document cannot name them, as it cannot name a
    deleted item, so it says nothing about them. (A PATCH that names a relation says
    what it is: `_hiding_links`.)"""
    relations = RELATIONS[ctype.name]
    # Topics first: a 422 lists the errors of several relations in this order.
    for name in sorted(relations, key=lambda name: name != "topics"):
        key = (ctype.name, name)
        if name not in named:
            continue
        if key in _FOREIGN_KEYS:
            target, column = relations[name].target, _FOREIGN_KEYS[key]
            assert target is not None
            stored = getattr(row, column)
            if (
                keep_hidden
                and doc.get(name) is None
                and stored is not None
                and not _live(session, target, {stored})
            ):
                continue  # a deleted item: the document's null cannot mean it
            setattr(row, column, resolve.one(target, doc.get(name), ["body", name]))
            if name == "parent" and row.parent_id is not None:
                _check_no_cycle(session, row, resolve)
        elif key in _LINK_ROWS:
            table = _LINK_ROWS[key]
            build = _BUILDERS.get(name, _targets)
            links = build(table, ctype, row, doc.get(name) or [], relations[name], resolve)
            hidden = (
                _links_to_deleted(session, table, ctype, row.id, relations[name])
                if keep_hidden
                else []
            )
            session.execute(
                delete(table.model)
                .where(*table.rows_of(ctype.name, row.id))
                .execution_options(synchronize_session=SYNCHRONIZE)
            )
            for index, values in hidden:
                links.insert(index, table.model(**values))
            for position, link in enumerate(links):
                link.position = position
            session.add_all(links)


def _check_no_cycle(session: Session, row: Organization, resolve: _Resolver) -> None:
    """Refuse a parent that would make `row` its own ancestor.

    The walk climbs live organizations only: a deleted one is out of the hierarchy (it
    cannot be chosen as a parent, and its children show none), so a loop through it is
    no cycle anyone sees. Restoring it brings its links back: `upsert_item` checks that
    restore with this same walk, so no cycle ever becomes visible either way."""
    path = [row.slug]
    seen = {row.id}
    current = row.parent_id
    while current is not None:
        if current == row.id:
            path.append(row.slug)
            resolve.errors.append(
                {
                    "loc": ["body", "parent"],
                    "msg": f"an organization cannot be its own ancestor ({' → '.join(path)})",
                }
            )
            return
        if current in seen:  # a loop above `row`, not through it: not this write's doing
            return
        seen.add(current)
        found = session.execute(
            select(Organization.slug, Organization.parent_id, Organization.deleted_at).where(  # type: ignore[call-overload]
                col(Organization.id) == current
            )
        ).first()
        if found is None or found.deleted_at is not None:
            return
        path.append(found.slug)
        current = found.parent_id


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
    it sent; see `_replace_links`, also for `keep_hidden`)."""
    for key, value in _scalars(ctype, doc).items():
        setattr(row, key, value)
    session.flush()  # the row needs its id before its links
    resolve = _Resolver(session)
    _replace_links(session, ctype, row, doc, resolve, named, keep_hidden)
    resolve.check()
    index_item(session, ctype, row)
    session.flush()


def _slug_taken(ctype: ContentType, slug: str) -> str:
    """The 409's detail, the same for a create and for a rename."""
    return (
        f"The slug '{slug}' is taken by another {ctype.name} (perhaps a deleted one: "
        "slugs are never reused, so links to a deleted item never point at a new one)."
    )


def create_item(session: Session, collection: str, data: Any, actor: str) -> Any:
    lock_writers(session)
    ctype = BY_COLLECTION[collection]
    doc = validate(collection, data).model_dump(mode="python", exclude_unset=False)
    explicit = doc.get("slug")
    if explicit:
        if session.scalar(select(ctype.model.id).where(ctype.model.slug == explicit)) is not None:
            raise conflict(_slug_taken(ctype, explicit))
        slug = explicit
    else:
        slug = _unique_slug(session, ctype, slugify(str(doc.get(ctype.title_field) or "")), None)
    row = ctype.model(slug=slug)
    session.add(row)
    _apply(session, ctype, row, doc)
    _audit(
        session,
        actor,
        "create",
        ctype,
        row,
        {"document": _jsonable(current_document(session, ctype, row))},
    )
    return row


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
    # The relations a PATCH names that also link to deleted items, which `before` (what an
    # editor sees) leaves out: the patch says what they are, so those links go too.
    hidden = [] if replacing else _hiding_links(session, ctype, row, before, patch.keys())
    if (
        not hidden
        and _unchanged(collection, before, doc)
        and _stored_as_written(session, ctype, row, doc)
    ):
        # Nothing to write: no links or search row rewritten, so no content version bumped
        # and no cached response purged (re-importing the same file, a PATCH of equal values).
        return row
    public_slug = _public_before(ctype, row)
    new_slug = doc.get("slug") or row.slug
    if (
        new_slug != row.slug
        and session.scalar(select(ctype.model.id).where(ctype.model.slug == new_slug)) is not None
    ):
        raise conflict(_slug_taken(ctype, new_slug))
    row.slug = new_slug
    _apply(session, ctype, row, doc, named=patch.keys(), keep_hidden=replacing)
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


def _hiding_links(
    session: Session, ctype: ContentType, row: Any, before: dict[str, Any], named: Container[str]
) -> list[str]:
    """The relations of `named` whose stored links are more than `before` shows: links to
    deleted items, which a write naming the relation replaces with what it gives."""
    hiding = []
    for name in RELATIONS[ctype.name]:
        if name not in named or name not in before:
            continue
        key = (ctype.name, name)
        if key in _FOREIGN_KEYS:
            if before[name] is None and getattr(row, _FOREIGN_KEYS[key]) is not None:
                hiding.append(name)
            continue
        table = _LINK_ROWS[key]
        stored = (
            select(func.count()).select_from(table.model).where(*table.rows_of(ctype.name, row.id))
        )
        if (session.scalar(stored) or 0) > len(before[name] or []):
            hiding.append(name)
    return hiding


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
    session.flush()
    index_visibility(session, ctype, row)
    _audit(session, actor, "delete", ctype, row, None)


def upsert_item(
    session: Session, collection: str, data: dict[str, Any], actor: str
) -> tuple[Any, bool]:
    """Create, or update the item with this slug; returns (row, changed). Idempotent."""
    lock_writers(session)
    ctype = BY_COLLECTION[collection]
    slug = data.get("slug")
    row = None
    if slug:
        row = session.scalars(select(ctype.model).where(ctype.model.slug == slug)).first()
    if row is None:
        return create_item(session, collection, data, actor), True
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
        resolve = _Resolver(session)
        _check_no_cycle(session, row, resolve)
        resolve.check()
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
