"""The GraphQL schema and its SDL (`dossier schema`; checked in as `schema.graphql`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter

from app.graphql.query import Query
from app.graphql.types.content import Article, Event, Publication, Quote, Resource
from app.graphql.types.people import Organization, Person
from app.graphql.types.topics import Topic

schema = strawberry.Schema(
    query=Query,
    # Node implementations reachable only through `node(id:)` must still be in the schema.
    types=[Topic, Organization, Person, Article, Event, Publication, Quote, Resource],
)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any) -> Any:
        return getattr(source, name)

    # The fast path reads plain fields itself; it finds the attribute name here.
    resolve.attribute = name  # type: ignore[attr-defined]
    return resolve


def read_plain_fields_directly(graphql_schema: GraphQLSchema) -> int:
    """Resolve plain (resolver-less) fields with one attribute read.

    Strawberry routes them through two wrapper calls per field and item; most of a
    response is plain fields, so this is the bulk of the resolver overhead. Behaviour is
    identical: Strawberry's default resolver is this very `getattr`.
    """
    replaced = 0
    for named in graphql_schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None or not definition.is_basic_field:
                continue
            if getattr(field.resolve, "_is_default", False):
                field.resolve = _attribute(definition.python_name)
                replaced += 1
    return replaced


read_plain_fields_directly(schema._schema)


def export_sdl() -> str:
    """The schema in GraphQL SDL, descriptions included."""
    return schema.as_str()
