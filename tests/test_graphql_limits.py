"""Limits and request errors: always a GraphQL error with a code, never a 500.

Status codes follow GraphQL-over-HTTP: request errors are 200 with `application/json`
and 400 with `application/graphql-response+json`; malformed HTTP requests are 400.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries
from sqlalchemy.orm import Session, sessionmaker

from app.graphql.limits import SEARCH_READS, _Walker
from app.graphql.schema import export_sdl
from tests.admin_helpers import bearer
from tests.conftest import AppFactory
from tests.graphql_support import FLAGSHIP, gql
from tests.rest_factories import make_article, make_key, writing

GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


def _request_error(
    client: TestClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Check both media types and return the (single kind of) error."""
    legacy = client.post("/graphql", json={"query": query, "variables": variables})
    assert legacy.status_code == 200, legacy.text
    modern = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=GRAPHQL_RESPONSE
    )
    assert modern.status_code == 400, modern.text
    assert modern.headers["content-type"].startswith("application/graphql-response+json")
    body = legacy.json()
    assert "data" not in body
    assert modern.json() == body
    return body["errors"][0]  # type: ignore[no-any-return]


def _nested(depth: int) -> str:
    # person > affiliations > organization > parent x (depth - 4) > name: `depth` levels
    inner = "name"
    for _ in range(depth - 4):
        inner = f"parent {{ {inner} }}"
    return f'{{ person(slug: "abbas-milani") {{ affiliations {{ organization {{ {inner} }} }} }} }}'


def test_depth_over_ten_is_refused(demo_client: TestClient) -> None:
    assert "person" in gql(demo_client, _nested(10))
    error = _request_error(demo_client, _nested(11))
    assert error["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"
    assert "11" in error["message"]


def test_introspection_is_exempt_from_depth(demo_client: TestClient) -> None:
    data = gql(demo_client, get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_first_over_one_hundred_is_refused_even_through_variables(demo_client: TestClient) -> None:
    assert gql(demo_client, FLAGSHIP, {"first": 100})["events"]["edges"]
    error = _request_error(demo_client, FLAGSHIP, {"first": 101})
    assert error["extensions"]["code"] == "MAX_FIRST_EXCEEDED"
    nested = _request_error(
        demo_client, '{ person(slug: "amichai-magen") { events(first: 500) { totalCount } } }'
    )
    assert nested["extensions"]["code"] == "MAX_FIRST_EXCEEDED"


def test_estimated_cost_is_bounded(demo_client: TestClient) -> None:
    cheap = "{ people(first: 100) { edges { node { articles(first: 10) { totalCount } } } } }"
    assert gql(demo_client, cheap)["people"]
    costly = """{ people(first: 100) { edges { node {
        articles(first: 100) { edges { node { authors { name } } } } } } } }"""
    error = _request_error(demo_client, costly)
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] > 10_000
    aliases = (
        "{ " + " ".join(f"a{i}: events(first: 100) {{ totalCount }}" for i in range(120)) + " }"
    )
    assert _request_error(demo_client, aliases)["extensions"]["code"] == "MAX_COST_EXCEEDED"


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "stock"])
def test_results_longer_than_estimated_are_stopped_as_they_run(
    app_factory: AppFactory, fast_path: bool
) -> None:
    """A list without `first` is estimated at one item for each around it: execution
    counts the objects it completes and stops past the maximum cost, with the estimate's
    error and no data, on either executor. Nine articles each related to the other eight,
    two levels deep: estimated 36 objects, 658 in the result (without the count, three
    levels of up to 50 related items under 100 articles, estimated 500, ran to 68 MB)."""
    app = app_factory(graphql_fast_path=fast_path, graphql_max_cost=400)
    factory: sessionmaker[Session] = app.state.session_factory
    with TestClient(app) as client:
        with writing(factory) as session:
            for i in range(9):
                make_article(session, title=f"Linked {i}")
        key = bearer(make_key(factory, "content:write"))
        for i in range(9):
            others = [{"type": "article", "slug": f"linked-{j}"} for j in range(9) if j != i]
            patched = client.patch(
                f"/api/v1/articles/linked-{i}", json={"related": others}, headers=key
            )
            assert patched.status_code == 200, patched.text
        one_level = "{ articles(first: 9) { nodes { slug related { ... on Article { slug } } } } }"
        nodes = gql(client, one_level)["articles"]["nodes"]
        assert [len(node["related"]) for node in nodes] == [8] * 9
        two_levels = """{ articles(first: 9) { nodes { related { ... on Article {
            related { ... on Article { slug } } } } } } }"""
        error = _request_error(client, two_levels)
        assert error["extensions"] == {"code": "MAX_COST_EXCEEDED", "maximum": 400}


def test_introspection_counts_its_objects(demo_client: TestClient, app_factory: AppFactory) -> None:
    """Introspection is exempt from the estimate, not from the objects execution counts:
    a whole schema is ~1,500 objects, and 40 aliases of it are refused. It has an
    allowance of its own beyond the maximum cost, so a low GRAPHQL_MAX_COST does not
    refuse GraphiQL's schema fetch (the standard introspection query)."""
    fields = "types { name fields { name type { name } } }"
    assert gql(demo_client, f"{{ __schema {{ {fields} }} }}")["__schema"]["types"]
    aliases = " ".join(f"a{i}: __schema {{ {fields} }}" for i in range(40))
    error = _request_error(demo_client, f"{{ {aliases} }}")
    assert error["extensions"] == {"code": "MAX_COST_EXCEEDED", "maximum": 15_000}
    with TestClient(app_factory(graphql_max_cost=1_000)) as client:
        assert gql(client, get_introspection_query(descriptions=True))["__schema"]["types"]


def test_a_search_costs_the_matches_it_ranks(demo_client: TestClient) -> None:
    """A search ranks up to a few thousand matches each time it runs: counted as its page
    alone, 300 aliases of one search passed and ran 300 searches in one request. Each
    costs `SEARCH_READS` more: a search or a few run, hundreds are refused."""
    one = '{ search(query: "kidnapping", first: 100) { totalCount } }'
    assert gql(demo_client, one)["search"]["totalCount"] > 0
    many = " ".join(f'a{i}: search(query: "kidnapping") {{ totalCount }}' for i in range(300))
    error = _request_error(demo_client, f"{{ {many} }}")
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 300 * (20 + SEARCH_READS)


def test_what_skip_and_include_leave_out_costs_nothing(demo_client: TestClient) -> None:
    """A frontend turns a costly part of its query on and off with a variable: left out,
    it is not executed, so it neither costs nor counts as depth; asked for, it is refused
    as ever (on fragments too)."""
    costly = "articles(first: 100) @include(if: $all) { nodes { authors { name } } }"
    deep = _nested(11).removeprefix("{ ").removesuffix(" }")

    def query(*parts: str) -> str:
        fragment = f"fragment Deep on Query {{ {deep} }}" if "...Deep" in parts else ""
        return f"""query($all: Boolean!) {{
          people(first: 100) {{ nodes {{ slug {costly if costly in parts else ""} }} }}
          ... @skip(if: $all) {{ topics {{ totalCount }} }}
          {"...Deep @include(if: $all)" if "...Deep" in parts else ""} }} {fragment}"""

    data = gql(demo_client, query(costly, "...Deep"), {"all": False})
    assert data["people"]["nodes"]
    assert "articles" not in data["people"]["nodes"][0]
    assert data["topics"]["totalCount"] > 0
    assert "person" not in data
    error = _request_error(demo_client, query(costly), {"all": True})
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    error = _request_error(demo_client, query("...Deep"), {"all": True})
    assert error["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"


def test_nodes_cost_as_many_items_as_ids(demo_client: TestClient) -> None:
    """`nodes(ids:)` returns an item per id: 100 people's first 100 articles cost what they
    cost through `people(first: 100)`, not a hundredth of it."""
    ids = [base64.b64encode(f"Person:per_{n}".encode()).decode() for n in range(1, 101)]
    articles = "articles(first: 100) { nodes { title authors { name } } }"
    listed = _request_error(demo_client, f"{{ people(first: 100) {{ nodes {{ {articles} }} }} }}")
    assert listed["extensions"]["code"] == "MAX_COST_EXCEEDED"
    by_ids = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Person {{ {articles} }} }} }}"
    error = _request_error(demo_client, by_ids, {"ids": ids})
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] > 10_000
    few = gql(demo_client, by_ids, {"ids": ids[:3]})["nodes"]
    assert len(few) == 3


def _fragment_chain(length: int, innermost: str) -> str:
    """`{ ...F<length> }`: each fragment spreads the one before it twice."""
    chain = [f"fragment F0 on Query {{ {innermost} }}"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} a{i}: __typename ...F{i - 1} }}"
        for i in range(1, length + 1)
    ]
    return f"{{ ...F{length} }}\n" + "\n".join(chain)


def test_fragments_spread_over_and_over_are_measured_once_each(
    demo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2 KB document of 40 fragments, each spreading the one before it twice, spreads
    the first 2**40 times: the limits must not walk them all (a worker busy for days)."""
    walks = 0
    walk = _Walker.walk

    def counted(self: _Walker, *args: Any, **kwargs: Any) -> tuple[int, int]:
        nonlocal walks
        walks += 1
        if walks > 10_000:
            raise AssertionError("the limits walk every spread of a fragment again")
        return walk(self, *args, **kwargs)

    monkeypatch.setattr(_Walker, "walk", counted)
    assert gql(demo_client, _fragment_chain(40, "__typename"))["a40"] == "Query"
    error = _request_error(demo_client, _fragment_chain(40, "topics(first: 1) { totalCount }"))
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 2**40  # one topic, spread 2**40 times


def test_deeply_nested_variables_are_bad_input_not_a_500(demo_client: TestClient) -> None:
    """Variables nested 400 levels (under every size limit) exhausted Python's stack in the
    walk that looks for NUL: a 500 and a 2,000-line trace logged per request. Refused as
    a REST body is past 32 levels, over POST and GET; 31 levels still run."""

    def variables(levels: int) -> str:
        return '{"a": ' + "[" * levels + "]" * levels + "}"

    for levels, refused in ((400, True), (31, False)):
        body = '{"query": "{ __typename }", "variables": ' + variables(levels) + "}"
        headers = {"Content-Type": "application/json"}
        posted = demo_client.post("/graphql", content=body, headers=headers)
        params = {"query": "{ __typename }", "variables": variables(levels)}
        got = demo_client.get("/graphql", params=params)
        for response in (posted, got):
            assert response.status_code == 200, response.text
            if refused:
                error = response.json()["errors"][0]
                assert error["extensions"]["code"] == "BAD_USER_INPUT"
                assert "32 levels" in error["message"]
            else:
                assert response.json() == {"data": {"__typename": "Query"}}


def test_oversized_documents_are_refused(demo_client: TestClient) -> None:
    huge = "{ topics { totalCount } }\n" + "# padding\n" * 3000
    assert _request_error(demo_client, huge)["extensions"]["code"] == "QUERY_TOO_LARGE"
    deep = "{ a " * 3000 + "}" * 3000
    error = _request_error(demo_client, deep)
    assert error["extensions"]["code"] in ("GRAPHQL_PARSE_FAILED", "QUERY_TOO_LARGE")


def test_a_query_too_complex_to_validate_says_so(demo_client: TestClient) -> None:
    """A field asked 800 times in one selection (4 KB, 800 tokens, within the documented
    limits) exhausts graphql-core's budget for comparing fields, and it answered only
    "Validation aborted.", as a validation failure."""
    wide = "{ topics(first: 1) { nodes { " + "slug " * 800 + "} } }"
    error = _request_error(demo_client, wide)
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE", error
    assert "too complex to validate" in error["message"]
    fine = "{ topics(first: 1) { nodes { " + "slug " * 400 + "} } }"
    assert "errors" not in demo_client.post("/graphql", json={"query": fine}).json()


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ events { ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ events { edges { node { nope } } } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ events(first: "ten") { totalCount } }', None, "GRAPHQL_VALIDATION_FAILED"),
        (
            "{ events(filter: {eventType: PARTY}) { totalCount } }",
            None,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("query($n: Int!) { events(first: $n) { totalCount } }", {"n": "ten"}, "BAD_USER_INPUT"),
        ("query($n: Int!) { events(first: $n) { totalCount } }", {}, "BAD_USER_INPUT"),
        (
            "query($f: EventFilter) { events(filter: $f) { totalCount } }",
            {"f": {"upcoming": "soon"}},
            "BAD_USER_INPUT",
        ),
        ("mutation { deleteEverything }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("subscription { events }", None, "GRAPHQL_VALIDATION_FAILED"),
        (
            "query A { topics { totalCount } } query B { topics { totalCount } }",
            None,
            "BAD_REQUEST",
        ),
    ],
)
def test_request_errors_carry_a_code(
    demo_client: TestClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    error = _request_error(demo_client, query, variables)
    assert error["extensions"]["code"] == code
    assert error["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
        (b'{"query": 5}', "application/json", 400),
        (b'{"query": "{ topics { totalCount } }", "variables": "nope"}', "application/json", 400),
        (b'{"query": "{ topics { totalCount } }", "operationName": 3}', "application/json", 400),
        (b'{"query": "{ topics { totalCount } }", "extensions": [1]}', "application/json", 400),
        (b'{"query": "{ topics { totalCount } }", "extensions": "x"}', "application/json", 400),
        (b"{ topics { totalCount } }", "text/plain", 415),
    ],
)
def test_malformed_http_requests_are_4xx(
    demo_client: TestClient, content: bytes, content_type: str, status: int
) -> None:
    response = demo_client.post("/graphql", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["message"]


def test_get_without_a_query_is_400(demo_client: TestClient) -> None:
    response = demo_client.get("/graphql", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_application_graphql_bodies_are_accepted(demo_client: TestClient) -> None:
    response = demo_client.post(
        "/graphql",
        content=b"{ topics { totalCount } }",
        headers={"Content-Type": "application/graphql"},
    )
    assert response.json()["data"]["topics"]["totalCount"] == 7


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(export_sdl()))
def test_generated_queries_never_fail_with_a_500(demo_client: TestClient, query: str) -> None:
    response = demo_client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    for error in response.json().get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
