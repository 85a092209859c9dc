"""The fast path (compiled, level-by-level execution) must answer exactly like graphql-core.

Every query here runs both ways over the demo dataset; the fast path must handle the
successful ones itself (no fallback) and give way to graphql-core on anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from graphql import FragmentDefinitionNode, OperationDefinitionNode, get_operation_ast
from graphql.execution import get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries

from app.content.visibility import Viewer
from app.db import session_scope
from app.graphql.context import Context
from app.graphql.execution import FAST, GRAPHQL_SCHEMA, GraphQLParams, execute_request, prepare
from app.graphql.limits import Limits
from app.graphql.schema import export_sdl
from tests.graphql_support import FLAGSHIP, gql

FRAGMENTS = """
fragment Profile on Person { name slug photo { url alt } affiliations { role isCurrent organization { name } } }
query($first: Int = 5, $withBio: Boolean!) {
  topic(slug: "kidnapping") { id name feeds { rss ics }
    stream(first: $first) { totalCount pageInfo { hasNextPage endCursor startCursor hasPreviousPage }
      edges { cursor node { __typename
        ... on Node { id }
        ... on Article { title heroImage { url caption } authors { ...Profile } related { __typename ... on Resource { name } } }
        ... on Event { title venue { name address } participants { role person { ...Profile bio @include(if: $withBio) } } }
        ... on Publication { title publishedOn year authors { ...Profile } }
        ... on Quote { text speaker { ...Profile } article { slug } } } } } }
  people(sort: NAME_DESC, first: 3) { nodes { name alias: slug ...Profile sponsoredEvents: events { totalCount } } }
}
"""

CORPUS: list[tuple[str, dict[str, Any]]] = [
    (FLAGSHIP, {"first": 20}),
    (FLAGSHIP, {"first": 1}),
    (FRAGMENTS, {"withBio": True}),
    (FRAGMENTS, {"withBio": False, "first": 50}),
    (
        '{ search(query: "Sandberg") { totalCount edges { type score snippet cursor node { __typename ... on Person { name } } } } }',
        {},
    ),
    (
        '{ search(query: "Kidnapping", first: 5) { nodes { __typename ... on Node { id } ... on Article { title } } } }',
        {},
    ),
    (
        "{ organizations(first: 50) { edges { node { name shortName parent { name parent { name } } topics { slug } } } } }",
        {},
    ),
    (
        '{ a: event(slug: "screams-before-silence-screening-and-conversation") { slug eventType eventStatus sponsors { name } } '
        'b: event(slug: "nope") { slug } __typename }',
        {},
    ),
    (
        '{ articles(filter: {topic: "kidnapping"}, sort: TITLE) { edges { node { title articleType status publishedAt '
        "quotes { text position speaker { name } } resources { name isConfidential position } topics { name } } } } }",
        {},
    ),
    (
        "{ resources { nodes { name resourceType hotline } } publications { nodes { title publicationType authors { name } } } }",
        {},
    ),
    (
        "query($role: ParticipantRole) { events(first: 10) { nodes { slug hosts: participants(role: HOST) "
        "{ role title person { slug } } some: participants(role: $role) { person { name } } } } }",
        {"role": "SPEAKER"},
    ),
    (
        # A citation reads its authors' names and topics' names, which are not selected.
        "{ publications(first: 20) { nodes { slug citation ris: citation(format: RIS) "
        "csl: citation(format: CSL_JSON) authors { slug } } } }",
        {},
    ),
    (
        '{ person(slug: "amichai-magen") { events(filter: {role: HOST}) { nodes { title } } skipped: quotes @skip(if: true) { totalCount } } }',
        {},
    ),
]


def _both(app: FastAPI, query: str, variables: dict[str, Any]) -> tuple[Any, Any]:
    """(graphql-core's body, the fast executor's data) — the fast path without fallback."""
    settings_ = app.state.settings
    limits = Limits(max_depth=settings_.graphql_max_depth, max_cost=settings_.graphql_max_cost)
    with session_scope(app.state.session_factory) as session:
        context = Context(session=session, viewer=Viewer(), settings=settings_)
        standard = execute_request(
            GraphQLParams(query, variables), context, method="POST", limits=limits, max_bytes=20_000
        ).body
    document, errors = prepare(query)
    assert document is not None
    assert not errors
    operation = get_operation_ast(document)
    assert isinstance(operation, OperationDefinitionNode)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    coerced = get_variable_values(GRAPHQL_SCHEMA, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list)
    with session_scope(app.state.session_factory) as session:
        context = Context(session=session, viewer=Viewer(), settings=settings_)
        fast = FAST.execute(operation, fragments, coerced, context)
    return standard, fast


@pytest.mark.parametrize(("query", "variables"), CORPUS)
def test_fast_path_answers_like_graphql_core(
    demo_app: FastAPI, query: str, variables: dict[str, Any]
) -> None:
    standard, fast = _both(demo_app, query, variables)
    assert "errors" not in standard
    assert fast == standard["data"]


def _body(app: FastAPI, query: str, fast_path: bool) -> dict[str, Any]:
    settings_ = app.state.settings
    limits = Limits(max_depth=settings_.graphql_max_depth, max_cost=settings_.graphql_max_cost)
    with session_scope(app.state.session_factory) as session:
        context = Context(session=session, viewer=Viewer(), settings=settings_)
        return execute_request(
            GraphQLParams(query),
            context,
            method="POST",
            limits=limits,
            max_bytes=20_000,
            fast_path=fast_path,
        ).body


@pytest.mark.parametrize(
    "query",
    [
        '{ events(after: "bogus") { totalCount } topics { totalCount } }',
        "{ event { id } }",
        "{ __schema { queryType { name } } topics { totalCount } }",
        '{ __type(name: "Event") { fields { name } } }',
    ],
)
def test_errors_and_introspection_fall_back_to_graphql_core(demo_app: FastAPI, query: str) -> None:
    assert _body(demo_app, query, fast_path=True) == _body(demo_app, query, fast_path=False)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(export_sdl()))
def test_generated_queries_answer_the_same_both_ways(demo_app: FastAPI, query: str) -> None:
    standard = _body(demo_app, query, fast_path=False)
    assert _body(demo_app, query, fast_path=True) == standard
    if "errors" not in standard:
        # A successful query is the fast path's own work, never a silent fallback: the
        # columns it planned were enough for every resolver.
        assert _both(demo_app, query, {})[1] == standard["data"]


def test_the_setting_switches_the_fast_path(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    original = FAST.execute

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(FAST, "execute", spy)
    for enabled in (True, False):
        with TestClient(app_factory(graphql_fast_path=enabled)) as client:
            assert gql(client, "{ topics { totalCount } }") == {"topics": {"totalCount": 0}}
    assert calls == [True]
