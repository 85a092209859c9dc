"""The relations a write names: references resolved by slug or id, link rows rewritten.

To-one relations are a foreign key on the item (`_FOREIGN_KEYS`); the others are rows of
a link table (`_LINK_ROWS`), which `replace_links` rewrites and `hiding_links` counts, so
the two cannot disagree on where a link is. Links to deleted items stay in the database
(restoring the item brings them back) and are never shown to editors: a write replaces
them only in a relation it names and says something about (`hiding_links`).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.errors import invalid
from app.content.relations import RELATIONS, Relation
from app.content.types import BY_NAME, ContentType
from app.content.visibility import public_since
from app.db import SYNCHRONIZE
from app.models import (
    Affiliation,
    ArticleAuthor,
    ArticleResource,
    EventParticipant,
    EventSponsor,
    Organization,
    PublicationAuthor,
    RelatedItem,
    Tagging,
)

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


class Resolver:
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

        def live(ref: str) -> int | None:
            pk = pks[ref]
            return pk if pk is not None and pk in by_id else by_slug.get(ref)

        out: list[int] = []
        missing = [ref for ref in refs if live(ref) is None]
        deleted = self._deleted(ctype, missing, pks) if missing else set()
        for i, ref in enumerate(refs):
            found = live(ref)
            if found is None:
                msg = (
                    f"{ctype.name} '{ref}' is deleted (an admin's `dossier import` of its slug "
                    "restores it)"
                    if ref in deleted
                    else f"unknown {ctype.name} '{ref}'"
                )
                self.errors.append({"loc": [*loc, str(i)], "msg": msg})
            elif found in out:
                self.errors.append(
                    {"loc": [*loc, str(i)], "msg": f"{ctype.name} '{ref}' is listed twice"}
                )
            else:
                out.append(found)
        return out

    def _deleted(
        self, ctype: ContentType, refs: Sequence[str], pks: dict[str, int | None]
    ) -> set[str]:
        """Which of `refs`, found among no live items, name a deleted one: an editor told
        "unknown" looks for a typo in a slug that was right."""
        model = ctype.model
        rows = self.session.execute(
            select(model.id, model.slug).where(
                model.deleted_at.is_not(None),
                (model.slug.in_([r for r in refs if pks[r] is None]))
                | (model.id.in_([pks[r] for r in refs if pks[r] is not None])),
            )
        ).all()
        ids = {pk for pk, _ in rows}
        slugs = {slug for _, slug in rows}
        return {r for r in refs if (pks[r] in ids if pks[r] is not None else r in slugs)}

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


# Where each relation a write names is stored. To-one relations are a foreign key on the
# item; the others are rows of a link table. `replace_links` rewrites them from these,
# and `hiding_links` counts them, so the two cannot disagree on where a link is.
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
        resolve: Resolver,
    ) -> list[Any]: ...


def _targets(
    table: _LinkTable,
    ctype: ContentType,
    item: Any,
    given: list[Any],
    relation: Relation,
    resolve: Resolver,
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
    resolve: Resolver,
) -> list[Any]:
    links = []
    # One role at one organization in one spell, as every list a write names holds each
    # entry once; another role there, or another spell, is another affiliation.
    seen: set[tuple[int, str, int | None, int | None, bool]] = set()
    for i, aff in enumerate(given):
        org_id = resolve.one(
            BY_NAME["organization"],
            aff["organization"],
            ["body", "affiliations", str(i), "organization"],
        )
        if org_id is None:
            continue
        current = aff.get("is_current", aff.get("end_year") is None)
        spell = (org_id, aff["role"], aff.get("start_year"), aff.get("end_year"), current)
        if spell in seen:
            resolve.errors.append(
                {"loc": ["body", "affiliations", str(i)], "msg": "this affiliation is listed twice"}
            )
            continue
        seen.add(spell)
        links.append(
            table.row(
                ctype,
                item,
                org_id,
                role=aff["role"],
                start_year=aff.get("start_year"),
                end_year=aff.get("end_year"),
                is_current=current,
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
    resolve: Resolver,
) -> list[Any]:
    links = []
    listed: set[tuple[str, int]] = set()
    for i, ref in enumerate(given):
        target = resolve.one(BY_NAME[ref["type"]], ref["slug"], ["body", "related", str(i), "slug"])
        if (ref["type"], target) == (ctype.name, item.id):  # (only articles have related items)
            resolve.errors.append(
                {
                    "loc": ["body", "related", str(i)],
                    "msg": "an article cannot be related to itself",
                }
            )
        elif target is not None and (ref["type"], target) in listed:
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
    resolve: Resolver,
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


def replace_links(
    session: Session,
    ctype: ContentType,
    row: Any,
    doc: dict[str, Any],
    resolve: Resolver,
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
    what it is: `hiding_links`.)"""
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
                check_no_cycle(session, row, resolve)
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


def check_no_cycle(session: Session, row: Organization, resolve: Resolver) -> None:
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


def hiding_links(
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
