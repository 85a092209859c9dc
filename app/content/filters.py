"""Each collection's filters, declared once: REST parses them from the query string,
GraphQL from its filter input, and both hand the typed values to `queries.list_items`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlmodel import col

from app.content.errors import QueryError
from app.content.types import ALL_TYPES, PUBLICATION
from app.content.visibility import Viewer, visible
from app.models import (
    ARTICLE_TYPES,
    ATTENDANCE_MODES,
    EVENT_TYPES,
    PARTICIPANT_ROLES,
    PUBLICATION_TYPES,
    RESOURCE_TYPES,
    Affiliation,
    Article,
    ArticleAuthor,
    Event,
    EventParticipant,
    Organization,
    Person,
    Publication,
    PublicationAuthor,
    Quote,
    Resource,
)

# An integer filter's value as a URL writes it: ASCII digits, perhaps a minus sign.
_INTEGER = re.compile(r"-?[0-9]+")

Condition = Callable[[Any, Viewer], ColumnElement[bool]]


@dataclass(frozen=True)
class Filter:
    name: str
    kind: str  # "enum", "slug", "datetime", "bool", "int"
    condition: Condition
    choices: tuple[str, ...] = ()
    description: str = ""
    # The collection of the item a slug filter names: a list so filtered also changes when
    # that item does (renamed, deleted), so its responses carry that collection's key.
    references: str | None = None
    # A range of time: the sort whose column it bounds (the list walks that index within it).
    sort: str | None = None

    def parse(self, raw: str) -> Any:
        """Parse a query-string value; raise QueryError with a message a person can act on."""
        if self.kind == "enum":
            if raw not in self.choices:
                raise QueryError(self.name, f"must be one of {', '.join(self.choices)}")
            return raw
        if self.kind == "slug":
            if not raw or len(raw) > 200:
                raise QueryError(self.name, "must be a slug")
            return raw
        if self.kind == "datetime":
            return parse_datetime(self.name, raw)
        if self.kind == "bool":
            # As `preview` (`app.http.viewer`): API.md's `true|false`, and 1 or 0.
            if raw.lower() in ("true", "1"):
                return True
            if raw.lower() in ("false", "0"):
                return False
            raise QueryError(self.name, "must be true or false")
        if self.kind == "int":
            # ASCII digits only: Python's int() also reads "1_000" and Arabic-Indic "٢٠٢٠".
            if _INTEGER.fullmatch(raw.strip()) is None:
                raise QueryError(self.name, "must be an integer")
            value = int(raw)
            if not -100000 < value < 100000:
                raise QueryError(self.name, "is out of range")
            return value
        raise AssertionError(self.kind)


def parse_datetime(name: str, raw: str) -> datetime:
    """ISO 8601 date or datetime; a value without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise QueryError(name, "must be an ISO 8601 date or datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Year 1 is refused too: 0001-01-01T00:00+14:00 falls before year 1 in UTC, as stored.
    if not 2 <= value.year <= 9998:
        raise QueryError(name, "is out of range")
    return value


_TYPE_OF = {ctype.model: ctype for ctype in ALL_TYPES}


def named(model: Any, value: str) -> ColumnElement[bool]:
    """The row of `model` a filter's value names: by its public id (`per_6`), as paths
    and writes take one, or else by its slug (a slug holds no `_`, so never looks like
    an id). `events?person=per_6` was an empty list."""
    pk = _TYPE_OF[model].parse_public_id(value)
    return col(model.id) == pk if pk is not None else col(model.slug) == value


def _person_in(
    link_model: Any, parent: Any, role: str | None = None
) -> Callable[[Any, Viewer], Any]:
    def condition(slug: str, viewer: Viewer) -> ColumnElement[bool]:
        sub = (
            select(getattr(link_model, parent))
            .join(Person, col(Person.id) == link_model.person_id)
            .where(named(Person, slug), visible(Person, viewer))
        )
        return col(_parent_model(link_model).id).in_(sub)

    return condition


def _parent_model(link_model: Any) -> Any:
    return {ArticleAuthor: Article, PublicationAuthor: Publication, EventParticipant: Event}[
        link_model
    ]


def _upcoming(value: bool, viewer: Viewer) -> ColumnElement[bool]:
    end = func.coalesce(Event.ends_at, Event.starts_at)
    return end >= viewer.now if value else end < viewer.now


def _role(role: str, viewer: Viewer) -> ColumnElement[bool]:
    # Asked of each event (its participants, by the primary key's event_id): as `id IN
    # (every event with such a participant)`, SQLite listed a third of a million
    # participants for each page (0.35 s at `large`). A participant the viewer cannot see
    # (a deleted person) is not one: the event shows no such participant.
    return exists().where(
        col(EventParticipant.event_id) == Event.id,
        col(EventParticipant.role) == role,
        col(Person.id) == EventParticipant.person_id,
        visible(Person, viewer),
    )


def _current_org(slug: str, viewer: Viewer) -> ColumnElement[bool]:
    sub = (
        select(col(Affiliation.person_id))
        .join(Organization, col(Organization.id) == Affiliation.organization_id)
        .where(
            named(Organization, slug),
            col(Affiliation.is_current),
            visible(Organization, viewer),  # a deleted organization has no members
        )
    )
    return col(Person.id).in_(sub)


def _fk_slug(column: Any, model: Any) -> Condition:
    def condition(slug: str, viewer: Viewer) -> ColumnElement[bool]:
        return column.in_(select(model.id).where(named(model, slug), visible(model, viewer)))

    return condition


def _eq(column: Any) -> Condition:
    return lambda value, viewer: column == value


def _year(value: int, viewer: Viewer) -> Any:
    # Said of the year as the year sort has it, coalesce(year, 0), which the publication
    # indexes that hold a year are on (migration 9d84df82911f): a list of one year sorted by
    # year, the default, reads that year's range of the sort's index. Said of `year`,
    # PostgreSQL walked it from the latest year down to the one asked (50 ms at `large`).
    # 0 is also the sort's year of a publication without one, which `year=0` does not ask.
    year = PUBLICATION.sorts["year"].expression
    if value == 0:
        return and_(year == value, col(Publication.year).is_not(None))
    return year == value


def _cmp(column: Any, op: str) -> Condition:
    if op == ">=":
        return lambda value, viewer: column >= value
    return lambda value, viewer: column < value


FILTERS: dict[str, dict[str, Filter]] = {
    "events": {
        f.name: f
        for f in (
            Filter(
                "from",
                "datetime",
                _cmp(Event.starts_at, ">="),
                sort="starts_at",
                description="Events starting at or after this time.",
            ),
            Filter(
                "to",
                "datetime",
                _cmp(Event.starts_at, "<"),
                sort="starts_at",
                description="Events starting before this time.",
            ),
            Filter("upcoming", "bool", _upcoming, description="true: not yet ended; false: ended."),
            Filter(
                "event_type", "enum", _eq(Event.event_type), EVENT_TYPES, "Events of this type."
            ),
            Filter(
                "attendance_mode",
                "enum",
                _eq(Event.attendance_mode),
                ATTENDANCE_MODES,
                "Events attended this way.",
            ),
            Filter(
                "person",
                "slug",
                _person_in(EventParticipant, "event_id"),
                description="Participant: a person's slug or id (`per_6`).",
                references="people",
            ),
            Filter(
                "role",
                "enum",
                _role,
                PARTICIPANT_ROLES,
                "Events with a participant in this role (with `person`: that person in this role).",
                # The participant must be visible: a person's deletion changes the list.
                references="people",
            ),
        )
    },
    "articles": {
        f.name: f
        for f in (
            Filter(
                "article_type",
                "enum",
                _eq(Article.article_type),
                ARTICLE_TYPES,
                "Articles of this type.",
            ),
            Filter(
                "author",
                "slug",
                _person_in(ArticleAuthor, "article_id"),
                description="Author: a person's slug or id (`per_6`).",
                references="people",
            ),
            Filter(
                "published_after",
                "datetime",
                _cmp(Article.published_at, ">="),
                sort="published_at",
                description="Articles published at or after this time (ISO 8601).",
            ),
            Filter(
                "published_before",
                "datetime",
                _cmp(Article.published_at, "<"),
                sort="published_at",
                description="Articles published before this time (ISO 8601).",
            ),
        )
    },
    "publications": {
        f.name: f
        for f in (
            Filter(
                "publication_type",
                "enum",
                _eq(Publication.publication_type),
                PUBLICATION_TYPES,
                "Publications of this type.",
            ),
            Filter(
                "author",
                "slug",
                _person_in(PublicationAuthor, "publication_id"),
                description="Author: a person's slug or id (`per_6`).",
                references="people",
            ),
            Filter("year", "int", _year, description="Year of publication."),
        )
    },
    "people": {
        "organization": Filter(
            "organization",
            "slug",
            _current_org,
            description="An organization the person is currently affiliated with: its slug or id "
            "(`org_3`).",
            references="organizations",
        ),
    },
    "quotes": {
        "speaker": Filter(
            "speaker",
            "slug",
            _fk_slug(Quote.speaker_id, Person),
            description="Speaker: a person's slug or id (`per_6`).",
            references="people",
        ),
        "article": Filter(
            "article",
            "slug",
            _fk_slug(Quote.article_id, Article),
            description="Source article: its slug or id (`art_4`).",
            references="articles",
        ),
    },
    "resources": {
        "resource_type": Filter(
            "resource_type",
            "enum",
            _eq(Resource.resource_type),
            RESOURCE_TYPES,
            "Resources of this type.",
        ),
    },
    "topics": {},
    "organizations": {},
}


def filter_conditions(
    collection: str, values: dict[str, Any], viewer: Viewer
) -> list[ColumnElement[bool]]:
    specs = FILTERS[collection]
    conditions: list[ColumnElement[bool]] = []
    # `person` + `role` together mean "this person in this role", not two separate facts.
    if (
        collection == "events"
        and values.get("person") is not None
        and values.get("role") is not None
    ):
        sub = (
            select(col(EventParticipant.event_id))
            .join(Person, col(Person.id) == EventParticipant.person_id)
            .where(
                named(Person, values["person"]),
                col(EventParticipant.role) == values["role"],
                visible(Person, viewer),
            )
        )
        conditions.append(col(Event.id).in_(sub))
        values = {k: v for k, v in values.items() if k not in ("person", "role")}
    for name, value in values.items():
        if value is None:
            continue
        spec = specs.get(name)
        if spec is None:
            raise QueryError(name, f"is not a filter of {collection}")
        conditions.append(spec.condition(value, viewer))
    return [and_(*conditions)] if conditions else []


def referenced_collections(collection: str, filters: dict[str, Any], topics: bool) -> list[str]:
    """The collections of the items a list's filters name (`topics`: it is filtered by topic)."""
    found = {FILTERS[collection][name].references for name in filters}
    if topics:
        found.add("topics")
    return sorted(c for c in found if c is not None)
