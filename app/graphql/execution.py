"""Running one GraphQL request: size check, parse and validate (cached), variables, limits,
then synchronous execution with the request's DataLoaders.

Everything before execution is a *request error* (no `data` in the response); the HTTP
layer turns those into 400 or 200 as the GraphQL-over-HTTP specification says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import orjson
from graphql import (
    BREAK,
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLNonNull,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    execute_sync,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.execution import get_variable_values
from graphql.validation.validate import ValidationAbortedError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from app.content.errors import QueryError
from app.content.rows import Projection
from app.content.writes import MAX_JSON_DEPTH, nests_too_deep
from app.graphql.context import Context
from app.graphql.fast import FastExecutor
from app.graphql.limits import (
    QUERY_TOO_LARGE,
    Limits,
    ObjectBudget,
    TooManyObjects,
    check_limits,
    limit_error,
    too_many_objects,
)
from app.graphql.schema import schema
from app.http.errors import is_database_unavailable

logger = logging.getLogger("app.graphql")

GRAPHQL_SCHEMA = schema._schema
# The rules Strawberry itself validates with.
VALIDATION_RULES = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)


class _CountingExecutor(schema.execution_context_class):  # type: ignore[misc,name-defined]
    """Strawberry's executor, counting each object it completes against the context's
    `ObjectBudget`: a list's length is only known as it runs."""

    def complete_object_value(self, *args: Any, **kwargs: Any) -> Any:
        budget = self.context_value.budget
        if budget is not None:
            budget.spend(1)
        return super().complete_object_value(*args, **kwargs)


EXECUTOR_CLASS = _CountingExecutor
FAST = FastExecutor(schema)
MAX_TOKENS = 5000
# Query layer parameter names as GraphQL clients know them (others are camelCased:
# `published_before` is `filter: {publishedBefore}`; `q` is `filter: {q}`, and `search`
# names its own `query`).
_ARGUMENT_NAMES = {"cursor": "after", "limit": "first"}


@dataclass
class GraphQLParams:
    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None


@dataclass
class Outcome:
    """A GraphQL response body plus what the HTTP layer needs to choose a status."""

    body: dict[str, Any]
    request_error: bool = False  # refused before execution: no `data`
    status: int | None = None  # a status the request itself forces (405 for GET mutations)
    errors: list[dict[str, Any]] = field(default_factory=list)


def request_error(errors: list[GraphQLError], status: int | None = None) -> Outcome:
    formatted = [_format(e) for e in errors]
    return Outcome({"errors": formatted}, request_error=True, status=status, errors=formatted)


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    formatted.setdefault("extensions", {})
    return formatted


# What graphql-core's validation says when it gives up for its own limits (not for too
# many errors: that one says so).
_ABORTED = "Validation aborted."


@lru_cache(maxsize=512)
def prepare(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate a document once; the same query text is served from memory.

    The document is returned even when it is invalid, so that a mutation sent with GET
    can be told apart (405) from an invalid query.
    """
    try:
        document = parse(query, max_tokens=MAX_TOKENS, allow_empty_selection_sets=False)
    except GraphQLError as syntax_error:
        syntax_error.extensions = {
            **(syntax_error.extensions or {}),
            "code": "GRAPHQL_PARSE_FAILED",
        }
        return None, (syntax_error,)
    except RecursionError:
        return None, (limit_error("The query is nested too deeply to parse.", QUERY_TOO_LARGE),)
    try:
        errors = validate(GRAPHQL_SCHEMA, document, VALIDATION_RULES)
    except RecursionError:
        return None, (limit_error("The query is nested too deeply.", QUERY_TOO_LARGE),)
    if any(isinstance(e, ValidationAbortedError) and e.message == _ABORTED for e in errors):
        # graphql-core's own budgets (pairs of fields compared, fragment work) or a stack
        # overflow it caught: "Validation aborted." alone said nothing of why.
        return None, (
            limit_error(
                "The query is too complex to validate: it repeats a field, or spreads "
                "fragments, too many times (a field asked 800 times in one selection), or "
                "nests them too deeply.",
                QUERY_TOO_LARGE,
            ),
        )
    for error in errors:
        error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
    return document, tuple(errors)


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return BREAK
        return None


@lru_cache(maxsize=512)
def _literal_has_nul(query: str) -> bool:
    document, _ = prepare(query)
    if document is None:
        return False
    finder = _NulFinder()
    visit(document, finder)
    return finder.found


def _value_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_value_has_nul(k) or _value_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_value_has_nul(v) for v in value)
    return False


def _nul_error(query: str, variables: Any) -> GraphQLError | None:
    """No stored text holds NUL (writes refuse it) and PostgreSQL cannot even compare with
    it: an argument containing one is bad input on every database, not a resolver crash."""
    if _literal_has_nul(query) or _value_has_nul(variables):
        return GraphQLError(
            "Arguments and variables must not contain NUL characters.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return None


class _NonNullUses(Visitor):
    """Where the variables named `nulls` are used in a position that takes no null."""

    def __init__(self, type_info: TypeInfo, nulls: set[str]) -> None:
        super().__init__()
        self.type_info = type_info
        self.nulls = nulls
        self.errors: list[GraphQLError] = []

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        name = node.name.value
        expected = self.type_info.get_input_type()
        if name in self.nulls and isinstance(expected, GraphQLNonNull):
            self.nulls.discard(name)  # one error per variable
            self.errors.append(
                GraphQLError(
                    f"Variable '${name}' is null, but it is used where a value of type "
                    f"'{expected}' is required.",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )


def _nulls_where_required(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    given: dict[str, Any] | None,
) -> list[GraphQLError]:
    """A nullable variable given an explicit `null` and used where null is not allowed
    (`$f: Boolean = false` in `@include(if: $f)`): validation allows it (the default covers
    an omitted variable), and graphql-core would report it during execution without a code.
    Refused before execution instead, like any other variable value the query cannot take."""
    if not given:
        return []
    nulls = {
        d.variable.name.value
        for d in operation.variable_definitions or ()
        if d.variable.name.value in given and given[d.variable.name.value] is None
    }
    if not nulls:
        return []
    type_info = TypeInfo(GRAPHQL_SCHEMA)
    finder = _NonNullUses(type_info, nulls)
    for node in (operation, *fragments.values()):
        visit(node, TypeInfoVisitor(type_info, finder))
    return finder.errors


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _field_error(error: GraphQLError) -> dict[str, Any]:
    """A resolver's error as the client sees it: bad input explained, bugs masked."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return _format(error)
    if isinstance(original, QueryError):
        argument = _ARGUMENT_NAMES.get(original.parameter) or _camel(original.parameter)
        masked = GraphQLError(f"{argument}: {original.message}", error.nodes, path=error.path)
        masked.extensions = {"code": "BAD_USER_INPUT", "argument": argument}
        return _format(masked)
    logger.error("GraphQL resolver failed at %s", error.path, exc_info=original)
    masked = GraphQLError("Internal server error.", error.nodes, path=error.path)
    masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
    return _format(masked)


_PLANS: dict[tuple[Any, ...], tuple[list[GraphQLError], Projection | None, int]] = {}
# The plan of a request the fast path cannot plan (graphql-core executes it).
NOT_PLANNED: Projection = MappingProxyType({})


def _variables_key(variables: dict[str, Any] | None) -> bytes | None:
    if not variables:
        return None
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return orjson.dumps(repr(variables))


def execute_request(
    params: GraphQLParams,
    context: Context,
    *,
    method: str,
    limits: Limits,
    max_bytes: int,
    fast_path: bool = False,
) -> Outcome:
    query = params.query or ""
    if len(query) > max_bytes or len(query.encode()) > max_bytes:
        return request_error(
            [limit_error(f"The query document is larger than {max_bytes} bytes.", QUERY_TOO_LARGE)]
        )
    document, errors = prepare(query)
    if document is None:
        return request_error(list(errors))
    operation = get_operation_ast(document, params.operation_name)
    if method == "GET" and operation is not None and operation.operation is not OperationType.QUERY:
        error = GraphQLError(
            "Only queries can be sent with GET.", extensions={"code": "BAD_REQUEST"}
        )
        return request_error([error], status=405)
    if errors:
        return request_error(list(errors))
    if nests_too_deep(params.variables):
        # As a REST body: walked by anything recursive (the NUL check below, coercion),
        # 350 levels of arrays exhausted Python's stack, a 500 and its 2,000-line trace.
        error = GraphQLError(
            f"The variables nest deeper than {MAX_JSON_DEPTH} levels.",
            extensions={"code": "BAD_USER_INPUT"},
        )
        return request_error([error])
    nul = _nul_error(query, params.variables)
    if nul is not None:
        return request_error([nul])
    if operation is None:
        message = (
            f"Unknown operation named '{params.operation_name}'."
            if params.operation_name
            else "The document has several operations: give `operationName`."
        )
        return request_error([GraphQLError(message, extensions={"code": "BAD_REQUEST"})])
    variables = get_variable_values(
        GRAPHQL_SCHEMA, operation.variable_definitions or (), params.variables or {}, max_errors=20
    )
    if isinstance(variables, list):
        for error in variables:
            error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return request_error(variables)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    required = _nulls_where_required(operation, fragments, params.variables)
    if required:
        return request_error(required)
    # The limits and the fast path's plan depend only on the document, the operation and
    # the variables: worked out once per distinct request, like the parse.
    plan_key = (query, params.operation_name, _variables_key(params.variables), limits, fast_path)
    planned = _PLANS.get(plan_key)
    if planned is None:
        limit_errors, objects = check_limits(
            GRAPHQL_SCHEMA, operation, fragments, variables, limits
        )
        planned = (limit_errors, None, objects)
        if not limit_errors and fast_path:
            try:
                planned = (limit_errors, FAST.plan(operation, fragments, variables), objects)
            except Exception as exc:  # e.g. `@include(if: $x)` with `x: null`
                # graphql-core reports it as the specification says: planned as stock.
                logger.debug("fast path cannot plan: %r", exc)
                planned = (limit_errors, NOT_PLANNED, objects)
        if len(_PLANS) >= 512:
            _PLANS.clear()
        _PLANS[plan_key] = planned
    limit_errors, projection, objects = planned
    if limit_errors:
        return request_error(list(limit_errors))
    context.budget = ObjectBudget(objects)
    if fast_path and projection is not NOT_PLANNED:
        try:
            data = FAST.execute(operation, fragments, variables, context, projection)
            return Outcome({"data": data})
        except TooManyObjects as exc:
            return request_error([too_many_objects(exc.maximum)])
        except Exception as exc:
            if is_database_unavailable(exc):
                raise  # 503; a rerun could not work (PostgreSQL aborted the transaction)
            # Errors are graphql-core's business: it runs the request again, from scratch
            # (the fast path's rows may hold only the columns it planned), and reports
            # them exactly.
            logger.debug("fast path gave up: %r", exc)
            context.reset()
    result: ExecutionResult = execute_sync(
        GRAPHQL_SCHEMA,
        document,
        context_value=context,
        variable_values=params.variables or {},
        operation_name=params.operation_name,
        executor_class=EXECUTOR_CLASS,
    )
    body: dict[str, Any] = {"data": result.data}
    formatted: list[dict[str, Any]] = []
    for error in result.errors or ():
        if isinstance(error.original_error, TooManyObjects):
            # The other errors are those of the fields it stopped after: the same answer
            # as the fast path's, which stops before their level.
            return request_error([too_many_objects(error.original_error.maximum)])
        if error.original_error is not None and is_database_unavailable(error.original_error):
            raise error.original_error  # 503 with Retry-After, like every surface
        formatted.append(_field_error(error))
    if formatted:
        body = {"errors": formatted, "data": result.data}
    return Outcome(body, errors=formatted)
