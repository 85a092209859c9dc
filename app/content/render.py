"""Turning rows into the public JSON shapes, with relations compact or embedded.

Relations are compact references `{id, slug, name|title}` unless the client asked to
`include` them; owned sub-objects (participants, affiliations) always carry their
link attributes. Each relation is loaded once per level for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from app.content.contacts import CONTACT_COLUMNS, contacts_of
from app.content.errors import QueryError
from app.content.relations import RELATIONS, Link, Relation
from app.content.rows import Projection, columns
from app.content.types import BY_NAME, QUOTE, ContentType
from app.content.visibility import Viewer
from app.models import Article

IncludeTree = dict[str, "IncludeTree"]

# A quote's article read to know whether the viewer sees it (`Renderer._places`).
_ARTICLE_IDS: Projection = {Article: frozenset({"id"})}

_COMMON = ("id", "slug", "created_at", "updated_at")
_PUBLISHING = ("status", "published_at")

_FIELDS: dict[str, tuple[str, ...]] = {
    "topic": ("name", "description"),
    "organization": ("name", "short_name", "url"),
    "person": (
        "name",
        "sort_name",
        "title",
        "degrees",
        "bio",
        "bio_text",
        "photo",
        "email",
        "phone",
        "office",
        "profile_url",
        "cv_url",
    ),
    "article": (
        "title",
        "subtitle",
        "article_type",
        "byline",
        "body",
        "body_text",
        "hero_image",
    ),
    "quote": ("text", "attribution", "position", "after_block"),
    "event": (
        "title",
        "subtitle",
        "event_type",
        "summary",
        "body",
        "body_text",
        "starts_at",
        "ends_at",
        "timezone",
        "attendance_mode",
        "event_status",
        "venue",
        "online_url",
        "online_platform",
        "registration_url",
        "hero_image",
    ),
    "publication": (
        "title",
        "publication_type",
        "abstract",
        "journal",
        "publisher",
        "volume",
        "issue",
        "pages",
        "year",
        "published_on",
        "doi",
        "url",
    ),
    "resource": (
        "name",
        "resource_type",
        "description",
        "phone",
        "hotline",
        "email",
        "contacts",
        "url",
        "hours",
        "audience",
        "is_confidential",
        "position",
    ),
}


def _composite(
    row: Any, prefix: str, keys: tuple[str, ...], required: str
) -> dict[str, Any] | None:
    values = columns(row, (f"{prefix}_{k}" for k in keys))
    if values[f"{prefix}_{required}"] is None:
        return None
    return {k: values[f"{prefix}_{k}"] for k in keys}


def _value(ctype: ContentType, row: Any, name: str) -> Any:
    if name == "id":
        return ctype.public_id(row.__dict__.get("id") or row.id)
    if name == "photo":
        return _composite(row, "photo", ("url", "alt", "credit"), "url")
    if name == "hero_image":
        return _composite(row, "hero_image", ("url", "alt", "caption", "credit"), "url")
    if name == "venue":
        values = columns(row, ("venue_name", "venue_address"))
        if values["venue_name"] is None and values["venue_address"] is None:
            return None
        return {"name": values["venue_name"], "address": values["venue_address"]}
    if name == "contacts":
        return contacts_of(columns(row, CONTACT_COLUMNS))
    return getattr(row, name)


def field_names(ctype: ContentType) -> tuple[str, ...]:
    """Every top-level field of the type's public object, relations included."""
    names = _COMMON + _FIELDS[ctype.name]
    if ctype.publishable:
        names += _PUBLISHING
    return names + tuple(RELATIONS[ctype.name])


def _getter(ctype: ContentType, name: str) -> Callable[[Any], Any]:
    if name in ("id", "photo", "hero_image", "venue", "contacts"):
        return lambda row: _value(ctype, row, name)
    return attrgetter(name)


@cache
def _getters(type_name: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each flat field of a type with the function that reads it (built once per type)."""
    ctype = BY_NAME[type_name]
    names = _COMMON + _FIELDS[type_name] + (_PUBLISHING if ctype.publishable else ())
    return tuple((n, _getter(ctype, n)) for n in names)


@cache
def _readers(type_name: str) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """`_getters`, with None for a plain column (read from the row's `__dict__`)."""
    return tuple(
        (n, None if isinstance(get, attrgetter) else get) for n, get in _getters(type_name)
    )


def flat(ctype: ContentType, row: Any, fields: set[str] | None = None) -> dict[str, Any]:
    getters = _getters(ctype.name)
    values = row.__dict__
    if fields is None and "_sa_instance_state" not in values:
        # A read-only row: its columns are its __dict__ (see `app.content.rows.columns`).
        return {n: values[n] if get is None else get(row) for n, get in _readers(ctype.name)}
    if fields is None:
        return {n: get(row) for n, get in getters}
    return {n: get(row) for n, get in getters if n in fields or n == "id"}


def compact(ctype: ContentType, row: Any) -> dict[str, Any]:
    values = columns(row, ("id", "slug", ctype.title_field))
    return {
        "id": ctype.public_id(values["id"]),
        "slug": values["slug"],
        ctype.title_field: values[ctype.title_field],
    }


def parse_include(ctype: ContentType, raw: str | None, max_depth: int) -> IncludeTree:
    """Parse `participants.person.affiliations,topics` into a tree, checking every step."""
    tree: IncludeTree = {}
    if not raw:
        return tree
    for path in raw.split(","):
        path = path.strip()
        if not path:
            continue
        node, hops = tree, 0
        current: ContentType | None = ctype
        segments = path.split(".")
        i = 0
        while i < len(segments):
            name = segments[i]
            if current is None:
                raise QueryError("include", f"'{path}': related items cannot be expanded further")
            relation = RELATIONS[current.name].get(name)
            if relation is None:
                allowed = ", ".join(sorted(RELATIONS[current.name])) or "none"
                raise QueryError(
                    "include",
                    f"unknown path '{path}': {current.collection} relations are {allowed}",
                )
            hops += 1
            if hops > max_depth:
                raise QueryError("include", f"'{path}' is deeper than {max_depth} relations")
            node = node.setdefault(name, {})
            if relation.inner and i + 1 < len(segments) and segments[i + 1] == relation.inner:
                i += 1  # `participants.person` is the same step as `participants`
            current = relation.target
            i += 1
    return tree


@dataclass
class Renderer:
    """Renders batches of rows for one viewer; `decorate` adds surface-specific fields."""

    session: Session
    viewer: Viewer
    decorate: Callable[[ContentType, Any, dict[str, Any]], None] | None = None
    # The public id of every object rendered so far, full or compact (`Surrogate-Key`).
    rendered: set[str] = field(default_factory=set)
    # The collections whose writes can change the relations rendered (`Relation.watches`).
    watched: set[str] = field(default_factory=set)

    def render(
        self,
        ctype: ContentType,
        rows: Sequence[Any],
        include: IncludeTree | None = None,
        fields: set[str] | None = None,
    ) -> list[dict[str, Any]]:
        include = include or {}
        out = [flat(ctype, row, fields) for row in rows]
        self.rendered.update(item["id"] for item in out)
        if self.decorate is not None:
            for row, item in zip(rows, out, strict=True):
                self.decorate(ctype, row, item)
        pks = [row.__dict__.get("id") or row.id for row in rows]  # see `app.content.rows.columns`
        loaded: dict[str, dict[int, list[Link]]] = {}
        for relation in RELATIONS[ctype.name].values():
            if fields is not None and relation.name not in fields:
                continue
            links = loaded[relation.name] = relation.loader(self.session, rows, self.viewer)
            self.watched.update(relation.watches)
            rendered = self._targets(relation, links, include.get(relation.name))
            for pk, item in zip(pks, out, strict=True):
                values = [rendered(link) for link in links.get(pk, ())]
                item[relation.name] = values if relation.many else (values[0] if values else None)
        if ctype is QUOTE:
            self._places(rows, out, loaded.get("article"))
        return out

    def flat(self, ctype: ContentType, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """The rows' flat objects, without their relations (a topic stream's items)."""
        out = [flat(ctype, row) for row in rows]
        self.rendered.update(item["id"] for item in out)
        if ctype is QUOTE:
            self._places(rows, out, None)
        return out

    def _places(
        self, rows: Sequence[Any], out: list[dict[str, Any]], articles: dict[int, list[Link]] | None
    ) -> None:
        """A quote's `after_block` counts the blocks of its article's body: shown with the
        article only, null where the viewer sees none (a draft, scheduled or deleted
        article; a preview shows drafts and scheduled ones). `articles`: the quotes'
        `article` links, when rendered; else loaded for the placed quotes, ids only."""
        placed = [i for i, item in enumerate(out) if item.get("after_block") is not None]
        if not placed:
            return
        if articles is None:
            relation = RELATIONS[QUOTE.name]["article"]
            articles = relation.loader(
                self.session, [rows[i] for i in placed], self.viewer, _ARTICLE_IDS
            )
            self.watched.update(relation.watches)  # publishing the article shows the place
        for i in placed:
            row = rows[i]
            if not articles.get(row.__dict__.get("id") or row.id):
                out[i]["after_block"] = None

    def _targets(
        self, relation: Relation, links: dict[int, list[Link]], subtree: IncludeTree | None
    ) -> Callable[[Link], dict[str, Any]]:
        targets = {id(link.target): link.target for group in links.values() for link in group}
        full: dict[int, dict[str, Any]] = {}
        if subtree is not None and targets:
            by_type: dict[str, list[Any]] = {}
            for target in targets.values():
                by_type.setdefault(type(target).__name__.lower(), []).append(target)
            for type_name, batch in by_type.items():
                ctype = BY_NAME[type_name]
                for target, item in zip(batch, self.render(ctype, batch, subtree), strict=True):
                    full[id(target)] = item

        def one(link: Link) -> dict[str, Any]:
            target = link.target
            ctype = relation.target or BY_NAME[link.extra["type"]]
            body = full.get(id(target))
            if body is None:
                body = compact(ctype, target)
                self.rendered.add(body["id"])
            if relation.inner:
                return {**link.extra, relation.inner: body}
            if relation.target is None:
                return {"type": ctype.name, **body}
            return body

        return one
