"""Query limits: depth, `first`, and cost, estimated before execution and counted during it.

Depth counts nested fields (fragments add none). Cost estimates how many objects a query
can return: a connection counts its `first` times the `first`s of the connections around
it, and every other object-typed field counts once per item around it — so
`events(first: 100) { edges { node { speakers { name } } } }` costs 400, and nested
connections multiply; `nodes(ids:)` counts as many items as ids; a `search` counts
`SEARCH_READS` more, for the matches it ranks. A list without `first`
(an event's speakers, a person's affiliations, an article's related items) counts one item
for each around it: its length is only known as it runs. So execution counts the objects
it completes as well, and stops past the same maximum (`ObjectBudget`): three levels of
related items, up to 50 each, under 100 articles (estimated 500) ran to 68 MB in 4 s.
Counted as lists of five, or even two, the estimate refused a page of 100 of each
collection with its relations, which holds ~2,000 objects. Introspection (`__schema`,
`__type`) is exempt from the estimate and the depth, so GraphiQL and clients' schema
fetches always work, and counted within an allowance of its own (`INTROSPECTION_OBJECTS`
more; a whole schema is ~1,500 objects): 40 aliases of `__schema` are refused. What `@skip`/`@include` leave out of this request (their `if`
as its variables have it) counts for neither: it is not executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution import VariableValues, get_argument_values
from graphql.execution.values import get_directive_values

from app.content.queries import MAX_LIMIT

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
DEFAULT_FIRST = 20
# What a `search` costs beyond its page: it ranks up to a few thousand matches each time
# it runs. Counted as its page alone (20), 300 aliases of one search passed the estimate
# and ran 300 searches in one request (0.9 s on the demo data, seconds at a million rows).
SEARCH_READS = 500
# The objects an operation asking for introspection (`__schema`, `__type`) may complete
# beyond the maximum cost: the whole schema is ~1,500 (the standard introspection query),
# which a low GRAPHQL_MAX_COST refused, GraphiQL's own fetch with it. A few schemas' worth;
# 40 aliases of `__schema` are still refused.
INTROSPECTION_OBJECTS = 5_000

MAX_DEPTH_EXCEEDED = "MAX_DEPTH_EXCEEDED"
MAX_FIRST_EXCEEDED = "MAX_FIRST_EXCEEDED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
QUERY_TOO_LARGE = "QUERY_TOO_LARGE"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_cost: int
    max_first: int = MAX_LIMIT


def limit_error(message: str, code: str, **extra: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


class TooManyObjects(Exception):
    """Raised by `ObjectBudget.spend` past the maximum: the request's answer is
    `too_many_objects`, whichever executor ran it."""

    def __init__(self, maximum: int) -> None:
        super().__init__(f"more than {maximum} objects")
        self.maximum = maximum


def too_many_objects(maximum: int) -> GraphQLError:
    return limit_error(
        f"The query's result holds more than {maximum} objects, the maximum. Ask for fewer "
        "items (`first`) or fewer nested lists.",
        MAX_COST_EXCEEDED,
        maximum=maximum,
    )


class ObjectBudget:
    """The objects one execution may complete (each object of the result, connections,
    edges and introspection's types and fields included), counted as it completes them."""

    __slots__ = ("left", "maximum")

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.left = maximum

    def spend(self, objects: int) -> None:
        self.left -= objects
        if self.left < 0:
            raise TooManyObjects(self.maximum)


def included(node: Any, variables: VariableValues) -> bool:
    """Whether execution runs a selection (a field, an inline fragment or a fragment
    spread): not when `@skip(if: true)` or `@include(if: false)` leaves it out, with the
    request's `variables` (the fast path's executor asks the same). Raises `GraphQLError`
    for an `if` that is not a valid Boolean."""
    if not getattr(node, "directives", None):
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"] is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or include["if"] is True


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        self.errors: list[GraphQLError] = []
        # (depth, cost per item around it) of each fragment, walked once: a fragment
        # spreading another twice, that one spreading a third twice, and so on, is
        # 2**n walks otherwise (30 short fragments: a worker busy for hours). Both hold
        # wherever the fragment is spread: its type is its own, and a cost is linear in
        # the items around it.
        self.walked: dict[str, tuple[int, int]] = {}
        # Whether the operation asks for `__schema` or `__type` (`INTROSPECTION_OBJECTS`).
        self.introspects = False

    def walk(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType | GraphQLInterfaceType | None,
        multiplier: int,
        visiting: frozenset[str] = frozenset(),
    ) -> tuple[int, int]:
        """(depth, cost) of a selection set whose items are `multiplier` objects."""
        depth = cost = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                field_depth, field_cost = self.field(selection, parent, multiplier, visiting)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self._composite(selection.type_condition.name.value)
                field_depth, field_cost = self.walk(
                    selection.selection_set, target, multiplier, visiting
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:  # validation reports these
                    continue
                walked = self.walked.get(name)
                if walked is None:
                    target = self._composite(fragment.type_condition.name.value)
                    walked = self.walk(fragment.selection_set, target, 1, visiting | {name})
                    self.walked[name] = walked
                field_depth, field_cost = walked[0], walked[1] * multiplier
            else:
                continue
            depth = max(depth, field_depth)
            cost += field_cost
        return depth, cost

    def field(
        self,
        node: FieldNode,
        parent: GraphQLObjectType | GraphQLInterfaceType | None,
        multiplier: int,
        visiting: frozenset[str],
    ) -> tuple[int, int]:
        name = node.name.value
        if name in INTROSPECTION_FIELDS:
            self.introspects = True
            return 0, 0
        definition = parent.fields.get(name) if parent is not None else None
        if node.selection_set is None or definition is None:
            return 1, 0
        inner = multiplier
        if "first" in definition.args:
            first = self._first(definition, node)
            if first > self.limits.max_first:
                self.errors.append(
                    limit_error(
                        f"`first` on `{name}` is {first}; the maximum is {self.limits.max_first}.",
                        MAX_FIRST_EXCEEDED,
                        field=name,
                        maximum=self.limits.max_first,
                    )
                )
            inner = multiplier * max(first, 1)
        elif "ids" in definition.args:
            # `nodes(ids: [...])`: as many items as ids, like a `first` (up to 100).
            inner = multiplier * max(self._size(definition, node, "ids"), 1)
        named = get_named_type(definition.type)
        target = named if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) else None
        depth, cost = self.walk(node.selection_set, target, inner, visiting)
        # A connection counts the items it may return; any other object counts once. A
        # search also reads the matches it ranks (`SEARCH_READS` each time it runs).
        searches = parent is not None and parent.name == "Query" and name == "search"
        extra = SEARCH_READS * multiplier if searches else 0
        return depth + 1, cost + inner + extra

    def _included(self, node: object) -> bool:
        """Whether execution runs a selection (an `if` that is not a valid Boolean counts as
        included: validation reports it)."""
        try:
            return included(node, self.variables)
        except GraphQLError:
            return True

    def _first(self, definition: object, node: FieldNode) -> int:
        try:
            values = get_argument_values(definition, node, self.variables)  # type: ignore[arg-type]
        except GraphQLError:
            return DEFAULT_FIRST
        first = values.get("first", DEFAULT_FIRST)
        return first if isinstance(first, int) else DEFAULT_FIRST

    def _size(self, definition: object, node: FieldNode, name: str) -> int:
        """How many values a list argument holds (1 when it is not a valid list)."""
        try:
            values = get_argument_values(definition, node, self.variables)  # type: ignore[arg-type]
        except GraphQLError:
            return 1
        value = values.get(name)
        return len(value) if isinstance(value, list) else 1

    def _composite(self, type_name: str) -> GraphQLObjectType | GraphQLInterfaceType | None:
        found = self.schema.get_type(type_name)
        return found if isinstance(found, GraphQLObjectType | GraphQLInterfaceType) else None


def check_limits(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    limits: Limits,
) -> tuple[list[GraphQLError], int]:
    """The limit errors of an operation (empty when it may run), and the objects its
    execution may complete (`ObjectBudget`: the maximum cost, and `INTROSPECTION_OBJECTS`
    more if it asks for introspection)."""
    root = schema.get_root_type(operation.operation)
    walker = _Walker(schema, fragments, variables, limits)
    depth, cost = walker.walk(operation.selection_set, root, 1)
    errors = walker.errors
    if depth > limits.max_depth:
        errors.append(
            limit_error(
                f"The query is {depth} levels deep; the maximum is {limits.max_depth}.",
                MAX_DEPTH_EXCEEDED,
                depth=depth,
                maximum=limits.max_depth,
            )
        )
    if cost > limits.max_cost:
        errors.append(
            limit_error(
                f"The query could return about {cost} objects; the maximum is {limits.max_cost}. "
                "Ask for fewer items (`first`) or fewer nested lists.",
                MAX_COST_EXCEEDED,
                cost=cost,
                maximum=limits.max_cost,
            )
        )
    return errors, limits.max_cost + (INTROSPECTION_OBJECTS if walker.introspects else 0)
