"""The registry of content types: names, tables, public ids, sortable fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column

from app.models import (
    Article,
    Entity,
    Event,
    Organization,
    Person,
    Publication,
    Publishable,
    Quote,
    Resource,
    Topic,
)
from app.models.sort_keys import SORT_KEYS

# The canonical decimal spelling of a row id, and the largest one (PostgreSQL `integer`).
_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True)
class SortField:
    """A sortable field. `expression` must never be NULL (keyset pagination compares it)."""

    name: str
    expression: Any
    # A text sort's key column (`app.models.sort_keys`), which `expression` reads; None for
    # every other sort.
    key: str | None = None


@dataclass(frozen=True)
class ContentType:
    name: str  # singular, as in `"type": "event"`
    collection: str  # REST collection, "events"
    model: Any  # an Entity table class; typed loosely so column expressions type-check
    id_prefix: str
    title_field: str  # "title" or "name" or "text"
    default_sort: str
    sorts: dict[str, SortField] = field(default_factory=dict)
    search_fields: tuple[str, ...] = ()

    @property
    def publishable(self) -> bool:
        return issubclass(self.model, Publishable)

    @property
    def indefinite_name(self) -> str:
        """ "an event", "a topic": the name as a sentence needs it."""
        return f"an {self.name}" if self.name[0] in "aeiou" else f"a {self.name}"

    def public_id(self, pk: int) -> str:
        return f"{self.id_prefix}_{pk}"

    def parse_public_id(self, value: str) -> int | None:
        """The row id in `evt_12`, or None: only the canonical spelling counts (ASCII digits,
        no leading zero: `evt_012` and `evt_١٢` are not ids), and only ids a primary key can
        hold (PostgreSQL's `integer`)."""
        prefix, sep, rest = value.partition("_")
        if sep and prefix == self.id_prefix and _CANONICAL_ID.fullmatch(rest):
            number = int(rest)
            return number if number <= MAX_ROW_ID else None
        return None


def _sorts(model: type[Entity], *names: str, **expressions: Any) -> dict[str, SortField]:
    # A text field sorts by its key column (`app.models.sort_keys`): one order on both
    # databases, whatever their collations.
    keys = SORT_KEYS.get(str(model.__tablename__), {})
    result = {n: SortField(n, getattr(model, keys.get(n, n)), keys.get(n)) for n in names}
    result.update({n: SortField(n, e) for n, e in expressions.items()})
    return result


def _coalesced(column: Any, default: int) -> ColumnElement[Any]:
    # The default as a literal, not a bound parameter: the expression must read exactly as
    # the index on it does (`ix_publication_year_sort`) for the planner to use that index.
    return func.coalesce(column, literal_column(str(int(default))))


TOPIC = ContentType(
    "topic",
    "topics",
    Topic,
    "top",
    "name",
    "name",
    _sorts(Topic, "name", "slug", "created_at", "updated_at"),
    ("name", "description"),
)
ORGANIZATION = ContentType(
    "organization",
    "organizations",
    Organization,
    "org",
    "name",
    "name",
    _sorts(Organization, "name", "slug", "created_at", "updated_at"),
    ("name", "short_name"),
)
PERSON = ContentType(
    "person",
    "people",
    Person,
    "per",
    "name",
    "sort_name",
    _sorts(Person, "name", "sort_name", "slug", "created_at", "updated_at"),
    ("name", "title", "bio_text"),
)
ARTICLE = ContentType(
    "article",
    "articles",
    Article,
    "art",
    "title",
    "-published_at",
    _sorts(Article, "title", "slug", "created_at", "updated_at", "published_at"),
    ("title", "subtitle", "body_text", "byline"),
)
QUOTE = ContentType(
    "quote",
    "quotes",
    Quote,
    "quo",
    "text",
    "-published_at",
    _sorts(Quote, "position", "slug", "created_at", "updated_at", "published_at"),
    ("text", "attribution"),
)
EVENT = ContentType(
    "event",
    "events",
    Event,
    "evt",
    "title",
    "-starts_at",
    _sorts(Event, "title", "slug", "starts_at", "created_at", "updated_at", "published_at"),
    ("title", "subtitle", "summary", "body_text"),
)
PUBLICATION = ContentType(
    "publication",
    "publications",
    Publication,
    "pub",
    "title",
    "-year",
    {
        **_sorts(Publication, "title", "slug", "created_at", "updated_at", "published_at"),
        "year": SortField("year", _coalesced(Publication.year, 0)),
    },
    ("title", "abstract", "journal", "publisher"),
)
RESOURCE = ContentType(
    "resource",
    "resources",
    Resource,
    "res",
    "name",
    "position",
    _sorts(Resource, "name", "slug", "position", "created_at", "updated_at", "published_at"),
    # `contacts` by their labels (`app.content.search.document_text`).
    ("name", "description", "audience", "hours", "contacts"),
)

ALL_TYPES: tuple[ContentType, ...] = (
    TOPIC,
    ORGANIZATION,
    PERSON,
    ARTICLE,
    QUOTE,
    EVENT,
    PUBLICATION,
    RESOURCE,
)
BY_COLLECTION: dict[str, ContentType] = {t.collection: t for t in ALL_TYPES}
BY_NAME: dict[str, ContentType] = {t.name: t for t in ALL_TYPES}
STREAM_TYPES: tuple[ContentType, ...] = (ARTICLE, EVENT, PUBLICATION, QUOTE)


def text_sorts_note(ctype: ContentType, spell: Callable[[str], str] = "`{}`".format) -> str:
    """The sentence the docs of a type's sorts add for its text sorts, or "". `spell`: a
    sort's name as the docs write it."""
    keyed = [spell(name) for name, sort in ctype.sorts.items() if sort.key]
    if not keyed:
        return ""
    return (
        f" {' and '.join(keyed)} sort{'s' if len(keyed) == 1 else ''} "
        "by their first 120 characters without accents or case, punctuation before the "
        "first letter or digit aside, the same on every database."
    )
