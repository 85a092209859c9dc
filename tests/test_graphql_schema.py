"""The checked-in SDL, descriptions everywhere, naming conventions, read-only schema."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)
from typer.testing import CliRunner

from app.cli import cli
from app.graphql.schema import export_sdl, schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
GRAPHQL = schema._schema


def test_checked_in_schema_matches_the_server() -> None:
    """`dossier schema > schema.graphql` regenerates the file when this fails."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == export_sdl() + "\n", (
        "schema.graphql is stale: run `dossier schema > schema.graphql`"
    )


def test_cli_prints_the_sdl() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == export_sdl() + "\n"


def _own_types() -> list[object]:
    return [t for name, t in GRAPHQL.type_map.items() if not name.startswith("__")]


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing = []
    for named in _own_types():
        name = named.name  # type: ignore[attr-defined]
        if name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not named.description:  # type: ignore[attr-defined]
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(named, GraphQLEnumType):
            missing += [
                f"{name}.{value}"
                for value, v in named.values.items()
                if not v.description and not name.endswith(("Type", "Mode", "Status", "Role"))
            ]
    assert missing == []


def test_read_only_with_every_root_field() -> None:
    assert GRAPHQL.mutation_type is None
    assert GRAPHQL.subscription_type is None
    assert set(GRAPHQL.query_type.fields) >= {  # type: ignore[union-attr]
        "topic",
        "topics",
        "organization",
        "organizations",
        "person",
        "people",
        "article",
        "articles",
        "event",
        "events",
        "publication",
        "publications",
        "resource",
        "resources",
        "quotes",
        "search",
        "node",
    }


def test_enums_are_upper_snake_and_lists_are_connections() -> None:
    enum = GRAPHQL.type_map["AttendanceMode"]
    assert isinstance(enum, GraphQLEnumType)
    assert list(enum.values) == ["IN_PERSON", "ONLINE", "HYBRID"]
    events = GRAPHQL.query_type.fields["events"]  # type: ignore[union-attr]
    assert set(events.args) == {"filter", "sort", "first", "after"}
    assert events.args["first"].default_value == 20
    connection = GRAPHQL.type_map["EventConnection"]
    assert isinstance(connection, GraphQLObjectType)
    assert {"edges", "pageInfo", "totalCount"} <= set(connection.fields)
    event_filter = GRAPHQL.type_map["EventFilter"]
    assert isinstance(event_filter, GraphQLInputObjectType)
    assert {
        "topic",
        "topics",
        "q",
        "updatedSince",
        "from",
        "to",
        "upcoming",
        "eventType",
        "attendanceMode",
        "person",
        "role",
    } == set(event_filter.fields)
    stream_item = GRAPHQL.type_map["ContentItem"]
    assert isinstance(stream_item, GraphQLUnionType)
    assert {t.name for t in stream_item.types} == {"Article", "Event", "Publication", "Quote"}
    node = GRAPHQL.type_map["Node"]
    assert {t.name for t in GRAPHQL.get_implementations(node).objects} == {  # type: ignore[arg-type]
        "Topic",
        "Organization",
        "Person",
        "Article",
        "Event",
        "Publication",
        "Quote",
        "Resource",
    }
