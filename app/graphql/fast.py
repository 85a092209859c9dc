"""The fast path: compiled, level-by-level execution of validated queries.

graphql-core executes depth-first and pays, for every field of every object, a resolver
call, a `ResolveInfo`, and generic value completion. This executor walks the query one
level at a time instead: a field is resolved for all the objects of its level in one
loop (plain fields are one `getattr` each), and the objects it returns are completed
together at the next level — which is also exactly the batching the DataLoaders want.

Before running, the operation is planned: for each content type it reaches, the columns
its selected fields read (`projection`), so the batched SQL selects those columns only —
a list of events that asks for titles does not read their bodies.

It handles the successful case only. Anything else — a resolver error, a null where the
schema says non-null, introspection, an unexpected value — raises `Fallback`, and the
request is run again by graphql-core, which produces the exact errors the specification
asks for. The two paths can therefore differ only in speed; a test compares their output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution import VariableValues, get_argument_values
from graphql.type import get_named_type
from strawberry import Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

from app.content.contacts import CONTACT_COLUMNS
from app.content.rows import Projection, known_columns
from app.graphql.ids import BY_MODEL, BY_TYPE_NAME, TYPE_NAMES
from app.graphql.limits import included

Serializer = Callable[[Any], Any]
_INT_RANGE = range(-(2**31), 2**31)


# What the custom resolvers of the content types read from their row (by Python name);
# a resolver not listed here makes its type read every column.
_RELATION = frozenset({"id"})
RESOLVER_NEEDS: dict[str, frozenset[str]] = {
    "id": _RELATION,
    "photo": frozenset({"photo_url", "photo_alt", "photo_credit"}),
    "hero_image": frozenset(
        {"hero_image_url", "hero_image_alt", "hero_image_caption", "hero_image_credit"}
    ),
    "venue": frozenset({"venue_name", "venue_address"}),
    "contacts": frozenset(CONTACT_COLUMNS),
    "feeds": frozenset({"slug"}),
    "speaker": frozenset({"speaker_id"}),
    "article": frozenset({"article_id"}),
    # A quote's place, shown with its article only: the `article` relation is loaded.
    "after_block": frozenset({"after_block", "article_id"}),
    "parent": frozenset({"parent_id"}),
    **dict.fromkeys(
        (
            "topics",
            "authors",
            "quotes",
            "resources",
            "related",
            "participants",
            "speakers",
            "moderators",
            "sponsors",
            "affiliations",
        ),
        _RELATION,
    ),
    # Connections of a person filter by its slug.
    **dict.fromkeys(("articles", "events", "publications"), frozenset({"slug"})),
}
# Per content type: resolvers whose needs differ from the table above.
_TYPE_NEEDS: dict[tuple[str, str], frozenset[str] | None] = {
    ("Person", "quotes"): frozenset({"slug"}),  # quotes *of* the person: by slug
    ("Topic", "stream"): None,  # the stream reads the topic row itself
}


# Fields whose resolvers load another type's rows, which the query may not select: those
# rows are read with the columns named here and their id (not every column, bodies and all).
_LOADS: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    ("Quote", "after_block"): {"Article": frozenset()},
    # A citation's authors' names and its topics' (keywords).
    ("Publication", "citation"): {
        "Person": frozenset({"name", "sort_name"}),
        "Topic": frozenset({"name"}),
    },
}


class Fallback(Exception):
    """The fast path does not handle this request; run it with graphql-core."""


def _python_name(field: GraphQLField) -> str | None:
    """The field's name in its Strawberry type (None: not one of ours)."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    name: str | None = getattr(definition, "python_name", None)
    return name


class _Info:
    """What our resolvers read from `info` (only the context): no ResolveInfo needed."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


def _leaf_serializer(leaf: GraphQLScalarType | GraphQLEnumType) -> Serializer:
    if isinstance(leaf, GraphQLEnumType):
        names = {value.value: name for name, value in leaf.values.items()}

        def enum(value: Any) -> Any:
            return names[value.value if isinstance(value, Enum) else value]

        return enum
    serialize = leaf.serialize
    if leaf is GraphQLString or leaf is GraphQLID:
        return lambda value: value if type(value) is str else serialize(value)
    if leaf is GraphQLInt:
        return lambda value: (
            value if type(value) is int and value in _INT_RANGE else serialize(value)
        )
    if leaf is GraphQLBoolean:
        return lambda value: value if type(value) is bool else serialize(value)
    return serialize


class FastExecutor:
    """Runs operations of one schema; per-type facts are computed once and kept."""

    def __init__(self, strawberry_schema: Schema) -> None:
        self.schema: GraphQLSchema = strawberry_schema._schema
        self.config = strawberry_schema.config
        self.scalars = strawberry_schema.schema_converter.scalar_registry
        self.serializers: dict[str, Serializer] = {}
        self.type_names = {model: TYPE_NAMES[ctype.name] for model, ctype in BY_MODEL.items()}

    def execute(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        context: Any,
        projection: Projection | None = None,
    ) -> dict[str, Any]:
        root = self.schema.query_type
        if root is None or operation.operation.value != "query":
            raise Fallback("only queries")
        info = _Info(context)
        run = _Run(self, fragments, variables, info)
        try:
            pool = getattr(context, "pool", None)
            if pool is not None:
                if projection is None:
                    projection = run.projection(root, operation.selection_set)
                pool.projection = projection
            return run.objects(root, [None], [operation.selection_set])[0]
        finally:
            # `collect` and `projection` recurse through closures, which puts `run` in a
            # reference cycle. Cut here, the request's rows, links and loaders are freed
            # when it ends, not by the cyclic collector (~650 objects a request).
            info.context = None

    def plan(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> Projection | None:
        """The columns the operation reads per content type (None: not a query)."""
        root = self.schema.query_type
        if root is None or operation.operation.value != "query":
            return None
        return _Run(self, fragments, variables, _Info(None)).projection(
            root, operation.selection_set
        )

    def serializer(self, leaf: GraphQLScalarType | GraphQLEnumType) -> Serializer:
        found = self.serializers.get(leaf.name)
        if found is None:
            found = self.serializers[leaf.name] = _leaf_serializer(leaf)
        return found


class _Run:
    """One execution: the variables, fragments and context of a request."""

    def __init__(
        self,
        executor: FastExecutor,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        info: _Info,
    ) -> None:
        self.executor = executor
        self.schema = executor.schema
        self.fragments = fragments
        self.variables = variables
        self.info = info

    # -- selection sets ------------------------------------------------------------

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        return included(node, self.variables)

    def _applies(self, condition: str | None, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition == object_type.name:
            return True
        abstract = self.schema.get_type(condition)
        if isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(abstract, object_type)
        return False

    def collect(
        self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The fields to execute on `object_type`, by response key, in spec order."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):  # type: ignore[arg-type]
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if self._applies(condition.name.value if condition else None, object_type):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self._applies(fragment.type_condition.name.value, object_type):
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return fields

    # -- the plan: columns per content type --------------------------------------

    def projection(self, root: GraphQLObjectType, selection_set: SelectionSetNode) -> Projection:
        """The columns each content type's selected fields read, from the whole operation."""
        needs: dict[str, set[str] | None] = {}
        seen: set[tuple[str, tuple[int, ...]]] = set()

        def visit(type_: GraphQLOutputType, selection_sets: list[SelectionSetNode]) -> None:
            named = get_named_type(type_)
            if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
                for possible in self.schema.get_possible_types(named):
                    visit_object(possible, selection_sets)
            elif isinstance(named, GraphQLObjectType):
                visit_object(named, selection_sets)

        def visit_object(
            object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
        ) -> None:
            key = (object_type.name, tuple(id(s) for s in selection_sets))
            if key in seen:
                return
            seen.add(key)
            content = object_type.name in BY_TYPE_NAME
            for nodes in self.collect(object_type, selection_sets).values():
                name = nodes[0].name.value
                field = object_type.fields.get(name)
                if field is None:
                    continue  # __typename; introspection falls back anyway
                # Whatever this type reads, the other types' rows its resolver loads.
                loads = _LOADS.get((object_type.name, _python_name(field) or ""), {})
                for loaded, reads in loads.items():
                    loaded_needs = needs.setdefault(loaded, set())
                    if loaded_needs is not None:
                        loaded_needs.update(reads)
                if content and needs.get(object_type.name, set()) is not None:
                    wanted = self._field_needs(object_type, field)
                    if wanted is None:
                        needs[object_type.name] = None
                    else:
                        needs.setdefault(object_type.name, set()).update(wanted)  # type: ignore[union-attr]
                subs = [n.selection_set for n in nodes if n.selection_set is not None]
                if subs:
                    visit(field.type, subs)

        visit(root, [selection_set])
        return {
            BY_TYPE_NAME[name].model: frozenset(keys | {"id"})
            for name, keys in needs.items()
            if keys is not None
        }

    def _field_needs(
        self, object_type: GraphQLObjectType, field: GraphQLField
    ) -> frozenset[str] | None:
        model = BY_TYPE_NAME[object_type.name].model
        attribute = getattr(field.resolve, "attribute", None)
        if attribute is not None:
            return frozenset({attribute}) if attribute in known_columns(model) else None
        python_name = _python_name(field)
        if python_name is None:
            return None
        key = (object_type.name, python_name)
        if key in _TYPE_NEEDS:
            return _TYPE_NEEDS[key]
        return RESOLVER_NEEDS.get(python_name)

    # -- objects and fields --------------------------------------------------------

    def objects(
        self,
        object_type: GraphQLObjectType,
        sources: Sequence[Any],
        selection_sets: Sequence[SelectionSetNode],
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{} for _ in sources]
        for key, nodes in self.collect(object_type, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                for result in results:
                    result[key] = object_type.name
                continue
            field = object_type.fields.get(name)
            if field is None:  # introspection (`__schema`, `__type`) and the like
                raise Fallback(name)
            values = self.resolve(field, nodes[0], sources)
            sub_selections = [n.selection_set for n in nodes if n.selection_set is not None]
            for result, value in zip(
                results, self.complete(field.type, values, sub_selections), strict=True
            ):
                result[key] = value
        return results

    def resolve(self, field: GraphQLField, node: FieldNode, sources: Sequence[Any]) -> list[Any]:
        attribute = getattr(field.resolve, "attribute", None)
        if attribute is not None:
            try:
                # Read-only rows keep their columns in __dict__ (a mapped attribute would
                # read it there too, after a descriptor call per value).
                return [source.__dict__[attribute] for source in sources]
            except (AttributeError, KeyError):  # __slots__, properties, unloaded columns
                return [getattr(source, attribute) for source in sources]
        definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        resolver = getattr(definition, "base_resolver", None)
        if (
            definition is None
            or resolver is None
            or resolver.is_async
            or resolver.parent_parameter is not None
        ):
            raise Fallback("no resolver the fast path can call")
        raw = get_argument_values(field, node, self.variables)
        kwargs = convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=self.executor.scalars,
            config=self.executor.config,
            info=self.info,  # type: ignore[arg-type]
        )
        if resolver.info_parameter is not None:
            kwargs[resolver.info_parameter.name] = self.info
        root = resolver.root_parameter.name if resolver.root_parameter is not None else None
        call = resolver.wrapped_func
        if resolver.self_parameter is not None:
            if root is None:
                return [call(source, **kwargs) for source in sources]
            return [call(source, **{**kwargs, root: source}) for source in sources]
        if root is None:
            return [call(**kwargs) for _ in sources]
        return [call(**{**kwargs, root: source}) for source in sources]

    def complete(
        self, type_: GraphQLOutputType, values: list[Any], selection_sets: list[SelectionSetNode]
    ) -> list[Any]:
        if isinstance(type_, GraphQLNonNull):
            completed = self.complete(type_.of_type, values, selection_sets)
            if None in completed:
                raise Fallback("null in a non-null field")
            return completed
        if isinstance(type_, GraphQLList):
            flat: list[Any] = []
            sizes: list[int | None] = []
            for value in values:
                if value is None:
                    sizes.append(None)
                    continue
                items = list(value)
                sizes.append(len(items))
                flat.extend(items)
            done = self.complete(type_.of_type, flat, selection_sets)
            out: list[Any] = []
            start = 0
            for size in sizes:
                if size is None:
                    out.append(None)
                else:
                    out.append(done[start : start + size])
                    start += size
            return out
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            serialize = self.executor.serializer(type_)
            if type_ is GraphQLString or type_ is GraphQLID:  # most leaves: no call per value
                return [v if v is None or v.__class__ is str else serialize(v) for v in values]
            return [None if value is None else serialize(value) for value in values]
        if isinstance(type_, GraphQLObjectType):
            return self._complete_objects(type_, values, selection_sets)
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            return self._complete_abstract(type_, values, selection_sets)
        raise Fallback(f"unexpected type {type_}")

    def _complete_objects(
        self,
        object_type: GraphQLObjectType,
        values: list[Any],
        selection_sets: list[SelectionSetNode],
    ) -> list[Any]:
        present = [i for i, value in enumerate(values) if value is not None]
        sources = [values[i] for i in present]
        budget = self.info.context.budget
        if budget is not None:
            budget.spend(len(sources))
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not all(is_type_of(source, None) for source in sources):  # type: ignore[arg-type]
            raise Fallback(f"not a {object_type.name}")
        out: list[Any] = [None] * len(values)
        for i, result in zip(
            present, self.objects(object_type, sources, selection_sets), strict=True
        ):
            out[i] = result
        return out

    def _complete_abstract(
        self,
        abstract: GraphQLInterfaceType | GraphQLUnionType,
        values: list[Any],
        selection_sets: list[SelectionSetNode],
    ) -> list[Any]:
        groups: dict[str, list[int]] = {}
        for i, value in enumerate(values):
            if value is not None:
                name = self.executor.type_names.get(type(value))
                if name is None:
                    raise Fallback("unknown concrete type")
                groups.setdefault(name, []).append(i)
        out: list[Any] = [None] * len(values)
        for name, indexes in groups.items():
            object_type = self.schema.get_type(name)
            if not isinstance(object_type, GraphQLObjectType) or not self.schema.is_sub_type(
                abstract, object_type
            ):
                raise Fallback(f"{name} is not a {abstract.name}")
            done = self._complete_objects(object_type, [values[i] for i in indexes], selection_sets)
            for i, result in zip(indexes, done, strict=True):
                out[i] = result
        return out
