"""Kept statements: SELECTs built once, compiled once per database, run on the driver.

The read path's statements are built once per shape of request (`memo`) and run with
bound values. SQLAlchemy still spends ~0.2-0.4 ms of Python per execution on such a
statement before and after the driver's own work: the compiled-cache lookup, rendering
the expanding `IN (...)` parameters, the execution context, the result object. A list
with its includes runs ~10 statements, GraphQL's flagship query 5-9, so that was a tenth
to a fifth of their CPU.

`run()` does the same work once per (statement, database, size of each IN list) through
SQLAlchemy's public `construct_expanded_state` — the exact SQL text and parameter order
SQLAlchemy would send, bind casts included — and then, per execution, only maps the
values onto that order and calls the DBAPI cursor. Results get the same per-column
result processors SQLAlchemy applies (timestamps, booleans).

IN lists are padded to the next power of two by repeating their last value (`x IN (1, 2,
2, 2)` selects what `x IN (1, 2)` does), so a statement has a handful of texts, not one
per list length. On PostgreSQL an IN list is one array parameter instead (`x = ANY(%(p)s::
INTEGER[])`): one text whatever the length, so one prepared statement, and the driver
adapts one value, not 128 (the flagship's affiliations statement: 1.5 -> 0.7 ms).

What stays SQLAlchemy's: connection checkout and transaction (the session's connection),
error translation (`DBAPIError` subclasses; a lost connection invalidated), and the
engine's events — while any `before_cursor_execute` listener is installed (the query
counters of the tests), statements run through `exec_driver_sql`, which fires them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

Statement = Any  # a SELECT (SQLAlchemy's `Select` is generic in each column's type)

# Caches of statements (and other values) keyed by what clients ask for stop growing here.
MEMO_LIMIT = 4096


class Kept:
    """A statement kept for the life of the process, with its compiled forms."""

    __slots__ = ("_expanding", "_plans", "stmt")

    def __init__(self, stmt: Statement) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, tuple[int, ...]], _Plan] = {}
        self._expanding: tuple[str, ...] | None = None

    def expanding(self, dialect: Dialect) -> tuple[str, ...]:
        """The names of its IN-list parameters (the values given at execution)."""
        if self._expanding is None:
            binds = self.stmt.compile(dialect=dialect).binds
            self._expanding = tuple(
                name for name, bind in binds.items() if bind.expanding and bind.value is None
            )
        return self._expanding

    def plan(self, dialect: Dialect, sizes: tuple[int, ...]) -> _Plan:
        key = (dialect.name, sizes)
        found = self._plans.get(key)
        if found is None:
            found = _Plan(self, dialect, sizes)
            self._plans[key] = found
        return found


def kept(cache: dict[Any, Any], key: Any, make: Callable[[], Statement]) -> Kept | Statement:
    """`cache[key]`, made on first use and kept; past MEMO_LIMIT entries the statement is
    made, run once through SQLAlchemy and not kept (keys follow what clients ask for)."""
    found = cache.get(key)
    if found is None:
        stmt = make()
        if len(cache) >= MEMO_LIMIT:
            return stmt
        found = cache[key] = Kept(stmt)
    return found  # type: ignore[no-any-return]


def _sizes(dialect: Dialect, lengths: tuple[int, ...]) -> tuple[int, ...]:
    """The IN-list sizes a plan is made for: powers of two, or 1 where lists are arrays."""
    if dialect.name == "postgresql":
        return (1,) * len(lengths)
    return tuple(_bucket(n) for n in lengths)


def _bucket(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return size


class _Plan:
    """One SQL text of a kept statement (one database, one size of each IN list)."""

    __slots__ = ("arguments", "results", "sql")

    def __init__(self, kept: Kept, dialect: Dialect, sizes: tuple[int, ...]) -> None:
        compiled = kept.stmt.compile(dialect=dialect)
        dummy: dict[str, Any] = {
            name: [None] * size for name, size in zip(kept.expanding(dialect), sizes, strict=True)
        }
        for name, bind in compiled.binds.items():
            if name not in dummy and bind.required:
                dummy[name] = None
        state = compiled.construct_expanded_state(dummy)
        self.sql: str = state.statement
        # PostgreSQL: each IN list (expanded to its one item) becomes an array parameter.
        arrays: set[str] = set()
        if dialect.name == "postgresql":
            for name in kept.expanding(dialect):
                (item,) = state.parameter_expansion[name]
                self.sql = _as_array(self.sql, item)
                arrays.add(item)
        # Where each DBAPI parameter comes from: ("value", name) a value given at execution,
        # ("item", name, i) the i-th element of an IN list, ("array", name) a whole IN list
        # (PostgreSQL), ("fixed", value) a value the statement carries. With the bind
        # processor SQLAlchemy would apply (to each element of an array).
        expanded = {
            item: (name, i)
            for name, items in state.parameter_expansion.items()
            for i, item in enumerate(items)
        }
        # The statement's bind processors (what SQLAlchemy applies at execution: a
        # timestamp becomes SQLite's stored text), then those of the expanded IN items.
        processors: dict[str, Any] = {**compiled._bind_processors, **state.processors}
        sources: list[tuple[Any, ...]] = []
        names = state.positiontup if state.positiontup is not None else list(state.parameters)
        for name in names:
            process = processors.get(name)
            if process is not None and not callable(process):  # a tuple-valued parameter
                raise TypeError(f"kept statements take no tuple-valued parameter ({name})")
            if name in arrays:
                sources.append(("array", expanded[name][0], None, process))
            elif name in expanded:
                sources.append(("item", *expanded[name], process))
            elif name in dummy:
                sources.append(("value", name, None, process))
            else:
                value = state.parameters[name]
                sources.append(("fixed", process(value) if process else value, None, None))
        self.arguments = _arguments(sources, names if state.positiontup is None else None)
        self.results: list[tuple[int, Callable[[Any], Any]]] | None = None

    def result_processors(
        self, dialect: Dialect, stmt: Statement, description: Sequence[Any]
    ) -> list[tuple[int, Callable[[Any], Any]]]:
        processors = self.results
        if processors is None:
            processors = []
            for i, (column, described) in enumerate(
                zip(stmt.selected_columns, description, strict=True)
            ):
                process = column.type._cached_result_processor(dialect, described[1])
                if process is not None:
                    processors.append((i, process))
            self.results = processors
        return processors


def _arguments(
    sources: list[tuple[Any, ...]], names: Sequence[str] | None
) -> Callable[[Mapping[str, Any]], Any]:
    """A function from the execution's values to the DBAPI parameters: a tuple (positional
    drivers) or a dict by name (psycopg)."""

    def values(given: Mapping[str, Any]) -> list[Any]:
        out = []
        for kind, a, b, process in sources:
            if kind == "fixed":
                out.append(a)
                continue
            if kind == "array":
                items = given[a]
                out.append(list(items) if process is None else [process(v) for v in items])
                continue
            if kind == "item":
                items = given[a]
                value = items[b] if b < len(items) else items[-1]
            else:
                value = given[a]
            out.append(value if process is None else process(value))
        return out

    if names is None:
        return lambda given: tuple(values(given))
    keys = list(names)
    return lambda given: dict(zip(keys, values(given), strict=True))


# An IN list of one item as SQLAlchemy renders it for psycopg: `IN (%(ids_1_1)s::INTEGER)`.
_IN_ONE = r"(?P<not>NOT )?IN \(%\({item}\)s(?P<cast>::[A-Z][A-Z0-9_ ]*(?:\([0-9, ]+\))?)?\)"


def _as_array(sql: str, item: str) -> str:
    """`x IN (%(item)s::T)` as `x = ANY(%(item)s::T[])` (`NOT IN`: `<> ALL`)."""

    def array(match: re.Match[str]) -> str:
        cast = match["cast"] or ""
        operator = "<> ALL" if match["not"] else "= ANY"
        return f"{operator}(%({item})s{cast}{'[]' if cast else ''})"

    rewritten, count = re.subn(_IN_ONE.format(item=re.escape(item)), array, sql)
    if count != 1:
        raise ValueError(f"expected one IN list of {item!r} in: {sql}")
    return rewritten


def _has_events(connection: Connection) -> bool:
    return bool(connection._has_events or connection.engine._has_events)


def run(session: Session, stmt: Kept | Statement, values: Mapping[str, Any]) -> list[Any]:
    """The rows of `stmt` with `values` for its parameters, on the session's connection:
    tuples (or Rows) indexed like the statement's columns."""
    connection = session.connection()
    if not isinstance(stmt, Kept):
        return list(connection.execute(stmt, values).all())
    dialect = connection.dialect
    sizes = tuple(len(values[name]) for name in stmt.expanding(dialect))
    if 0 in sizes:  # an empty IN list: SQLAlchemy renders its special "empty set" form
        return list(connection.execute(stmt.stmt, values).all())
    plan = stmt.plan(dialect, _sizes(dialect, sizes))
    arguments = plan.arguments(values)
    # The result processors are worked out from the first run's description (psycopg builds
    # a description's column objects anew each time it is asked: 25 of them a GraphQL query).
    processors = plan.results
    if _has_events(connection):
        result = connection.exec_driver_sql(plan.sql, arguments)
        if processors is None:
            processors = plan.result_processors(dialect, stmt.stmt, result.cursor.description)
        rows: list[Any] = [tuple(row) for row in result.all()]
    else:
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(plan.sql, arguments)
            rows = cast(list[Any], cursor.fetchall())  # sqlite3 and psycopg return lists
            if processors is None:
                processors = plan.result_processors(dialect, stmt.stmt, cursor.description)
        except Exception as exc:
            connection._handle_dbapi_exception(exc, plan.sql, arguments, cursor, None)
        finally:
            cursor.close()
    if not processors:
        return rows
    out = []
    for found in rows:
        row = list(found)
        for i, process in processors:
            row[i] = process(row[i])
        out.append(row)
    return out
