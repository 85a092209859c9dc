"""List arguments: each collection's `filter` input and `sort` enum, and their translation
into the query layer's `ListParams` — the very parameters REST builds, so the same filter
gives the same items in the same order on both surfaces.

Both are generated from the query layer's declarations (`FILTERS`, `ContentType.sorts`),
so a filter or sort added there appears here, camelCased, with its description.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional, TypeAlias

import strawberry
from strawberry import UNSET

from app.content.errors import QueryError
from app.content.filters import FILTERS, Filter, parse_datetime
from app.content.queries import MAX_LIMIT, MAX_TOPICS, STREAM_SORTS, ListParams
from app.content.types import ALL_TYPES, ContentType, text_sorts_note
from app.graphql.enums import ENUM_OF_CHOICES
from app.graphql.ids import TYPE_NAMES

_KIND_TYPES: dict[str, type] = {"slug": str, "datetime": datetime, "bool": bool, "int": int}


def _python_name(filter_name: str) -> str:
    return "from_" if filter_name == "from" else filter_name


def _filter_type(spec: Filter) -> Any:
    if spec.kind == "enum":
        return ENUM_OF_CHOICES[spec.choices]
    return _KIND_TYPES[spec.kind]


_DESCRIPTIONS = {
    "published_after": "Items published at or after this time.",
    "published_before": "Items published before this time.",
    "year": "Items of this year.",
}


def _filter_description(spec: Filter) -> str:
    if spec.description:
        return spec.description
    if spec.name in _DESCRIPTIONS:
        return _DESCRIPTIONS[spec.name]
    return f"Only items whose {spec.name.replace('_', ' ')} is this."


def _filter_input(ctype: ContentType) -> type:
    label = TYPE_NAMES[ctype.name]
    annotations: dict[str, Any] = {
        "topic": Optional[str],  # noqa: UP045 (evaluated at runtime by Strawberry)
        "topics": Optional[list[str]],  # noqa: UP045
        "q": Optional[str],  # noqa: UP045
        "updated_since": Optional[datetime],  # noqa: UP045
    }
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__module__": __name__,
        "topic": strawberry.field(default=UNSET, description=_TOPIC),
        "topics": strawberry.field(default=UNSET, description=_TOPICS),
        "q": strawberry.field(default=UNSET, description="Full-text search over the items' text."),
        "updated_since": strawberry.field(
            default=UNSET, description="Items changed at or after this time (for syncing)."
        ),
    }
    for spec in FILTERS[ctype.collection].values():
        name = _python_name(spec.name)
        annotations[name] = Optional[_filter_type(spec)]  # noqa: UP045
        namespace[name] = strawberry.field(
            default=UNSET,
            name="from" if spec.name == "from" else None,
            description=_filter_description(spec),
        )
    cls = type(f"{label}Filter", (), namespace)
    return strawberry.input(
        cls,
        description=f"Filters of the {ctype.collection} list (the REST filters, camelCased); "
        f"every filter given must match. {_TOPIC_AND_TOPICS}",
    )


# `topic` and `topics` are REST's `topic`, given once or repeated: one filter, any of whose
# slugs matches.
_TOPIC = "Topic slug: items tagged with it."
_TOPICS = "Topic slugs: items tagged with any of them."
_TOPIC_AND_TOPICS = (
    "`topic` and `topics` are one filter (REST's `topic`, repeated): given together, "
    "items tagged with any of their slugs."
)


@strawberry.input(
    description="Filters of a topic's stream (the REST stream's parameters, camelCased): "
    f"they narrow it to the items that match every filter given. {_TOPIC_AND_TOPICS}"
)
class StreamFilter:
    topic: str | None = strawberry.field(
        default=UNSET, description="Topic slug: items also tagged with it."
    )
    topics: list[str] | None = strawberry.field(
        default=UNSET, description="Topic slugs: items also tagged with any of them."
    )
    q: str | None = strawberry.field(
        default=UNSET, description="Full-text search over the items' text (all words must match)."
    )
    updated_since: datetime | None = strawberry.field(
        default=UNSET, description="Items changed at or after this time (for syncing)."
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _sort_enum(ctype: ContentType) -> type[Enum]:
    members: dict[str, Any] = {}
    for name in ctype.sorts:
        field = _camel(name)
        members[name.upper()] = strawberry.enum_value(name, description=f"By `{field}`, ascending.")
        members[f"{name.upper()}_DESC"] = strawberry.enum_value(
            f"-{name}", description=f"By `{field}`, descending."
        )
    enum = Enum(f"{TYPE_NAMES[ctype.name]}Sort", members)  # type: ignore[misc]
    default = ctype.default_sort
    extra = " (`STARTS_AT` with `upcoming: true`)" if ctype.name == "event" else ""
    description = (
        f"Orders of the {ctype.collection} list; ties are broken by id. Default: "
        f"{default.lstrip('-').upper()}{'_DESC' if default.startswith('-') else ''}{extra}."
        f"{text_sorts_note(ctype, lambda name: f'`{name.upper()}`')}"
    )
    return strawberry.enum(enum, description=description)  # type: ignore[no-any-return]


FILTER_INPUTS: dict[str, type] = {t.name: _filter_input(t) for t in ALL_TYPES}
SORT_ENUMS: dict[str, type[Enum]] = {t.name: _sort_enum(t) for t in ALL_TYPES}


def _stream_sort_enum() -> type[Enum]:
    members: dict[str, Any] = {}
    for name in STREAM_SORTS:
        field = _camel(name)
        members[name.upper()] = strawberry.enum_value(
            name, description=f"By `{field}`, oldest first."
        )
        members[f"{name.upper()}_DESC"] = strawberry.enum_value(
            f"-{name}", description=f"By `{field}`, newest first."
        )
    enum = Enum("StreamSort", members)  # type: ignore[misc]
    description = (
        "Orders of a topic's stream; ties are broken by type and id. Default: PUBLISHED_AT_DESC."
    )
    return strawberry.enum(enum, description=description)  # type: ignore[no-any-return]


STREAM_SORT = _stream_sort_enum()

# Static names for the generated types (resolver signatures use them).
if TYPE_CHECKING:
    TopicFilter: TypeAlias = Any
    TopicSort: TypeAlias = Any
    OrganizationFilter: TypeAlias = Any
    OrganizationSort: TypeAlias = Any
    PersonFilter: TypeAlias = Any
    PersonSort: TypeAlias = Any
    ArticleFilter: TypeAlias = Any
    ArticleSort: TypeAlias = Any
    QuoteFilter: TypeAlias = Any
    QuoteSort: TypeAlias = Any
    EventFilter: TypeAlias = Any
    EventSort: TypeAlias = Any
    PublicationFilter: TypeAlias = Any
    PublicationSort: TypeAlias = Any
    ResourceFilter: TypeAlias = Any
    ResourceSort: TypeAlias = Any
    StreamSort: TypeAlias = Any
else:
    TopicFilter = FILTER_INPUTS["topic"]
    TopicSort = SORT_ENUMS["topic"]
    OrganizationFilter = FILTER_INPUTS["organization"]
    OrganizationSort = SORT_ENUMS["organization"]
    PersonFilter = FILTER_INPUTS["person"]
    PersonSort = SORT_ENUMS["person"]
    ArticleFilter = FILTER_INPUTS["article"]
    ArticleSort = SORT_ENUMS["article"]
    QuoteFilter = FILTER_INPUTS["quote"]
    QuoteSort = SORT_ENUMS["quote"]
    EventFilter = FILTER_INPUTS["event"]
    EventSort = SORT_ENUMS["event"]
    PublicationFilter = FILTER_INPUTS["publication"]
    PublicationSort = SORT_ENUMS["publication"]
    ResourceFilter = FILTER_INPUTS["resource"]
    ResourceSort = SORT_ENUMS["resource"]
    StreamSort = STREAM_SORT


def _raw(value: Any) -> str:
    """A typed GraphQL value as the query-string text the filter's parser validates."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _given(value: Any) -> Any:
    """None for an input field left out or given as null."""
    return None if value is UNSET else value


def _slug(name: str, value: str) -> str:
    if not value or len(value) > 200:
        raise QueryError(name, "must be a slug")
    return value


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_LIMIT:
        raise QueryError("first", f"must be between 1 and {MAX_LIMIT}")
    return first


def list_params(
    ctype: ContentType,
    filter: Any | None,
    sort: Enum | None,
    first: int,
    after: str | None,
    fixed: dict[str, Any] | None = None,
) -> ListParams:
    """`ListParams` for a list field; `fixed` filters (a reverse relation's own) win."""
    params = ListParams(
        limit=check_first(first),
        cursor=after,
        sort=str(sort.value) if sort is not None else None,
    )
    if filter is not None:
        _common_filters(params, filter)
        params.q = _words_given(filter)
        for spec in FILTERS[ctype.collection].values():
            value = _given(getattr(filter, _python_name(spec.name)))
            if value is not None:
                params.filters[spec.name] = spec.parse(_raw(value))
    for name in fixed or {}:
        if name in params.filters:
            # It was replaced by the parent's own slug: the list came back unfiltered.
            raise QueryError(
                f"filter.{name}",
                "this list is already the person's own; leave it out (the top-level list takes it)",
            )
    params.filters.update(fixed or {})
    return params


def _common_filters(params: ListParams, filter: Any) -> None:
    """`topic`, `topics` and `updatedSince`, which every list and the stream take."""
    topic, topics = _given(filter.topic), _given(filter.topics) or []
    slugs = [*topics, *([topic] if topic is not None else [])]
    params.topics = list(dict.fromkeys(_slug("topic", t) for t in slugs))
    if len(params.topics) > MAX_TOPICS:  # as REST's repeated `topic`
        raise QueryError("topics", f"at most {MAX_TOPICS} topics")
    updated_since = _given(filter.updated_since)
    if updated_since is not None:
        params.updated_since = parse_datetime("updatedSince", updated_since.isoformat())


def _words_given(filter: Any) -> str | None:
    """A filter's `q`; blank is none, as REST's `q=` is."""
    return (_given(filter.q) or "").strip() or None


def stream_params(filter: StreamFilter | None, sort: Enum | None) -> ListParams | None:
    """The parameters narrowing a topic's stream, as REST's stream reads them (None: none,
    the stream as it is). Its `limit` and `cursor` are not read."""
    params = ListParams(sort=str(sort.value) if sort is not None else None)
    if filter is not None:
        _common_filters(params, filter)
        params.q = _words_given(filter)
    narrowed = params.topics or params.q or params.updated_since
    return params if narrowed or params.sort not in (None, "-published_at") else None
