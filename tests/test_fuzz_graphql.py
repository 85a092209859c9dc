"""Property-based fuzzing of `/graphql` with hypothesis-graphql.

Queries are generated from the checked-in `schema.graphql`: every root field, any
selection, arbitrary argument values (strings with NUL, huge ints, any enum, malformed
dates for the `Date`/`DateTime` scalars, global ids that are not ids). Each query is sent
with its arguments written inline or hoisted into `variables`, over POST or GET, against
the demo dataset. Negative queries (one schema violation each) must be refused as
validation errors.

Whatever the input, the server answers with a GraphQL response, never a 500, and every
error carries one of the documented `extensions.code`s — `INTERNAL_SERVER_ERROR` (a
masked bug) never appears.

`DOSSIER_FUZZ_EXAMPLES` scales the number of examples (default 25: 50 queries per test
and backend); `make fuzz` runs many more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

SCHEMA_SDL = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
SCHEMA = graphql.build_schema(SCHEMA_SDL)
EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "25"))

# Every code the server documents for a refused or partly failed request.
EXPECTED_CODES = {
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "MAX_DEPTH_EXCEEDED",
    "MAX_FIRST_EXCEEDED",
    "MAX_COST_EXCEEDED",
    "QUERY_TOO_LARGE",
}
REFUSAL_CODES = {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _examples(factor: int = 1) -> int:
    return max(1, EXAMPLES * factor)


# The custom scalars: valid ISO values most of the time, anything at all sometimes.
_ANY_TEXT = st.text(max_size=40)
DATES = st.one_of(st.dates().map(lambda d: d.isoformat()), _ANY_TEXT).map(nodes.String)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()), _ANY_TEXT
).map(nodes.String)
CUSTOM_SCALARS = {"Date": DATES, "DateTime": DATETIMES}


def _identity(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


def _queries(mode: hypothesis_graphql.Mode) -> st.SearchStrategy[graphql.DocumentNode]:
    return hypothesis_graphql.queries(
        SCHEMA, custom_scalars=CUSTOM_SCALARS, print_ast=_identity, mode=mode
    )


# ---------------------------------------------------------------------------------------
# Literal arguments → variables.


def _input_type_node(type_: graphql.GraphQLInputType) -> graphql.TypeNode:
    if isinstance(type_, graphql.GraphQLNonNull):
        inner = _input_type_node(type_.of_type)
        assert isinstance(inner, graphql.NamedTypeNode | graphql.ListTypeNode)
        return graphql.NonNullTypeNode(type=inner)
    if isinstance(type_, graphql.GraphQLList):
        return graphql.ListTypeNode(type=_input_type_node(type_.of_type))
    return graphql.NamedTypeNode(name=graphql.NameNode(value=type_.name))


def hoist_arguments(document: graphql.DocumentNode) -> tuple[str, dict[str, Any]]:
    """The same query with every root field's arguments passed as variables.

    Literal values become their JSON equivalent (enums by name, custom scalars as the
    string), which is exactly what a client sends in `variables`.
    """
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    query_type = SCHEMA.query_type
    assert query_type is not None
    definitions: list[graphql.VariableDefinitionNode] = []
    variables: dict[str, Any] = {}
    selections = []
    for selection in operation.selection_set.selections:
        assert isinstance(selection, graphql.FieldNode)
        field_def = query_type.fields[selection.name.value]
        arguments = []
        for argument in selection.arguments or ():
            name = f"v{len(definitions)}"
            arg_type = field_def.args[argument.name.value].type
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
                    type=_input_type_node(arg_type),
                )
            )
            variables[name] = graphql.value_from_ast_untyped(argument.value)
            arguments.append(
                graphql.ArgumentNode(
                    name=argument.name,
                    value=graphql.VariableNode(name=graphql.NameNode(value=name)),
                )
            )
        selections.append(
            graphql.FieldNode(
                alias=selection.alias,
                name=selection.name,
                arguments=tuple(arguments),
                directives=selection.directives,
                selection_set=selection.selection_set,
            )
        )
    hoisted = graphql.OperationDefinitionNode(
        operation=graphql.OperationType.QUERY,
        name=graphql.NameNode(value="Fuzz"),
        variable_definitions=tuple(definitions),
        directives=(),
        selection_set=graphql.SelectionSetNode(selections=tuple(selections)),
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=(hoisted,))), variables


# ---------------------------------------------------------------------------------------
# Sending and judging.


def send(
    client: TestClient, query: str, variables: dict[str, Any] | None, *, get: bool, strict: bool
) -> Any:
    headers = {"Accept": GRAPHQL_RESPONSE if strict else "application/json"}
    if get:
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        return client.get("/graphql", params=params, headers=headers)
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def judge(response: Any, query: str, variables: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Assert the response is a well-formed GraphQL answer; return its errors."""
    where = f"\nquery: {query}\nvariables: {json.dumps(variables)[:2000]}\n{response.text[:2000]}"
    assert response.status_code < 500, where
    if response.status_code == 413:  # a GET query string or body over the size limit
        assert response.headers["content-type"].startswith("application/problem+json"), where
        return []
    assert response.status_code in (200, 400), where
    body = response.json()
    assert isinstance(body, dict), where
    assert "data" in body or "errors" in body, where
    errors: list[dict[str, Any]] = body.get("errors") or []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code in EXPECTED_CODES, f"unexpected error code {code!r}: {error}{where}"
        assert error.get("message"), where
    if response.status_code == 400:
        assert errors, where
    return errors


@pytest.fixture
def fuzz_client(demo_client: TestClient) -> TestClient:
    """The demo dataset: GraphQL is read-only, so the shared demo app is safe to fuzz."""
    return demo_client


FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=os.environ.get("DOSSIER_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_valid_queries_with_inline_arguments(fuzz_client: TestClient) -> None:
    @settings(FUZZ_SETTINGS, max_examples=_examples(2))
    @given(document=_queries(hypothesis_graphql.Mode.POSITIVE), get=st.booleans())
    def run(document: graphql.DocumentNode, get: bool) -> None:
        query = graphql.print_ast(document)
        judge(send(fuzz_client, query, None, get=get, strict=not get), query, None)

    run()


def test_valid_queries_with_variables(fuzz_client: TestClient) -> None:
    @settings(FUZZ_SETTINGS, max_examples=_examples(2))
    @given(document=_queries(hypothesis_graphql.Mode.POSITIVE), strict=st.booleans())
    def run(document: graphql.DocumentNode, strict: bool) -> None:
        query, variables = hoist_arguments(document)
        judge(send(fuzz_client, query, variables, get=False, strict=strict), query, variables)

    run()


def test_invalid_queries_are_refused_as_validation_errors(fuzz_client: TestClient) -> None:
    @settings(FUZZ_SETTINGS, max_examples=_examples(2))
    @given(document=_queries(hypothesis_graphql.Mode.NEGATIVE), strict=st.booleans())
    def run(document: graphql.DocumentNode, strict: bool) -> None:
        query = graphql.print_ast(document)
        response = send(fuzz_client, query, None, get=False, strict=strict)
        errors = judge(response, query, None)
        assert errors, f"an invalid query was accepted: {query}"
        assert {e["extensions"]["code"] for e in errors} <= REFUSAL_CODES, query
        assert response.status_code == (400 if strict else 200), query

    run()


def test_hoisting_keeps_the_query_equivalent() -> None:
    """The variables form of a query means the same as its literal form."""
    document = graphql.parse('{ events(first: 2, filter: {topic: "kidnapping"}) { totalCount } }')
    query, variables = hoist_arguments(document)
    assert variables == {"v0": 2, "v1": {"topic": "kidnapping"}}
    assert "query Fuzz($v0: Int!, $v1: EventFilter)" in query
    assert not graphql.validate(SCHEMA, graphql.parse(query))


# ---------------------------------------------------------------------------------------
# A systematic sweep: hostile strings in every string-typed argument and filter field.

HOSTILE_STRINGS = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "' OR 1=1; --",
    "%_\\",
    "\u202e日本語 עברית 😀",
    "\x1b[31m\r\n",
    "RXZlbnQ6ZXZ0XzE=",  # a valid-looking global id ("Event:evt_1")
    "RXZlbnQ6AGV2dF8x",  # base64 of "Event:\x00evt_1"
]


def _named(type_: Any) -> Any:
    while isinstance(type_, graphql.GraphQLNonNull | graphql.GraphQLList):
        type_ = type_.of_type
    return type_


def _filler(type_: Any) -> Any:
    """Some valid value for a required argument that is not the one under test."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _filler(type_.of_type)
    if isinstance(type_, graphql.GraphQLList):
        return [_filler(type_.of_type)]
    return {"Int": 1, "Boolean": True, "Float": 1.0}.get(type_.name, "kidnapping")


def string_slots() -> list[tuple[str, str, str | None]]:
    """(root field, argument, input field or None) for every string-like input."""
    query_type = SCHEMA.query_type
    assert query_type is not None
    slots: list[tuple[str, str, str | None]] = []
    for field_name, field in query_type.fields.items():
        for arg_name, arg in field.args.items():
            named = _named(arg.type)
            if isinstance(named, graphql.GraphQLInputObjectType):
                for input_name, input_field in named.fields.items():
                    if isinstance(_named(input_field.type), graphql.GraphQLScalarType) and _named(
                        input_field.type
                    ).name not in ("Int", "Boolean", "Float"):
                        slots.append((field_name, arg_name, input_name))
            elif isinstance(named, graphql.GraphQLScalarType) and named.name not in (
                "Int",
                "Boolean",
                "Float",
            ):
                slots.append((field_name, arg_name, None))
    return slots


def sweep_request(
    field_name: str, arg_name: str, input_name: str | None, value: str
) -> tuple[str, dict[str, Any]]:
    query_type = SCHEMA.query_type
    assert query_type is not None
    field = query_type.fields[field_name]
    definitions, arguments, variables = [], [], {}
    for name, arg in field.args.items():
        if name == arg_name:
            if input_name is None:
                target: Any = (
                    [value]
                    if isinstance(_named(arg.type), graphql.GraphQLScalarType)
                    and isinstance(graphql.get_nullable_type(arg.type), graphql.GraphQLList)
                    else value
                )
            else:
                target = {input_name: value}
                input_type = _named(arg.type)
                if isinstance(
                    graphql.get_nullable_type(input_type.fields[input_name].type),
                    graphql.GraphQLList,
                ):
                    target = {input_name: [value]}
        elif isinstance(arg.type, graphql.GraphQLNonNull):
            target = _filler(arg.type)
        else:
            continue
        definitions.append(f"${name}: {arg.type}")
        arguments.append(f"{name}: ${name}")
        variables[name] = target
    selection = (
        " { __typename }" if not isinstance(_named(field.type), graphql.GraphQLScalarType) else ""
    )
    query = f"query Sweep({', '.join(definitions)}) {{ {field_name}({', '.join(arguments)}){selection} }}"
    return query, variables


def test_hostile_strings_in_every_string_argument(fuzz_client: TestClient) -> None:
    slots = string_slots()
    assert len(slots) > 30  # every slug, id, cursor, query and filter field
    for field_name, arg_name, input_name in slots:
        for n, value in enumerate(HOSTILE_STRINGS):
            query, variables = sweep_request(field_name, arg_name, input_name, value)
            strict = n % 2 == 0  # both GraphQL-over-HTTP status conventions, alternately
            judge(send(fuzz_client, query, variables, get=False, strict=strict), query, variables)
