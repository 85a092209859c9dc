"""Read-only rows for the read path, built from Core results instead of the ORM.

Loading a mapped instance through the ORM costs ~10 µs a row (identity map, instance
state, attribute population); a list with its includes reads hundreds of rows, and that
was most of a request's CPU. The read path never changes what it reads, so it selects the
model's columns with Core and fills plain instances of the same class: `type(row)` and
`isinstance` still name the model, attribute reads return the loaded values (a mapped
attribute reads the instance `__dict__` first), and no state, session or identity map is
involved.

A projection (`keys`) reads only some columns — GraphQL's fast path asks for what the
query selects. Reading an attribute that was not loaded raises `AttributeError` (the
mapped attribute finds no instance state), never a wrong value.

Statements run on the session's connection (the same transaction), most of them kept
and run on the driver (`app.content.kept`): rows of values, without the ORM's result
processing.

Such a row is detached by construction: never hand it to a session (`add`, `merge`,
`refresh`) — writes load their rows through the ORM (`app.content.writes`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, inspect, select
from sqlalchemy.orm import Session

from app.content.kept import MEMO_LIMIT, Kept, Statement, kept, run
from app.content.visibility import NOW, Viewer, visible, with_now

T = TypeVar("T")

# Columns to read per model (absent: all). Always includes the primary key.
Projection = Mapping[type[Any], frozenset[str]]


class Shape:
    """The columns of one model, in a fixed order, and how to turn them into a row."""

    __slots__ = ("columns", "keys", "model", "narrow", "width")

    def __init__(self, model: type[Any], keys: frozenset[str] | None = None) -> None:
        mapper = inspect(model)
        props = [p for p in mapper.column_attrs if keys is None or p.key in keys or p.key == "id"]
        self.model = model
        self.keys: tuple[str, ...] = tuple(p.key for p in props)
        self.columns: tuple[ColumnElement[Any], ...] = tuple(p.columns[0] for p in props)
        self.width = len(props)
        # No text of unbounded length (a body, a bio) among the columns.
        self.narrow = all(_bounded(column) for column in self.columns)

    def builder(self) -> Any:
        """A function turning a result row into a row object, one object per primary key
        (the same person in two events is one row). The model's columns come first in
        the result row; columns after them (a link's own) are left to the caller."""
        keys, model, new = self.keys, self.model, object.__new__
        pk_index = keys.index("id") if "id" in keys else None
        seen: dict[Any, Any] = {}

        def build(values: Sequence[Any]) -> Any:
            if pk_index is not None:
                found = seen.get(values[pk_index])
                if found is not None:
                    return found
            row = new(model)
            # Stops at the model's last column: link columns may follow.
            row.__dict__.update(zip(keys, values, strict=False))
            if pk_index is not None:
                seen[values[pk_index]] = row
            return row

        return build


def _bounded(column: ColumnElement[Any]) -> bool:
    # A string type without a length (SQLModel's AutoString, `str` without max_length).
    return getattr(column.type, "length", 0) is not None


def memo(cache: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """`cache[key]`, made on first use. Keys follow the columns clients select, so the
    cache stops growing at MEMO_LIMIT entries (past it, values are made and not kept)."""
    found = cache.get(key)
    if found is None:
        found = make()
        if len(cache) < MEMO_LIMIT:
            cache[key] = found
    return found


_SHAPES: dict[tuple[type[Any], frozenset[str] | None], Shape] = {}


def _shape(model: type[Any], keys: frozenset[str] | None) -> Shape:
    return memo(_SHAPES, (model, keys), lambda: Shape(model, keys))  # type: ignore[no-any-return]


def shape(model: type[Any], projection: Projection | None = None) -> Shape:
    """The columns to read of `model`: all, or those the projection names for it."""
    keys = projection.get(model) if projection else None
    return _shape(model, keys)


def known_columns(model: type[Any]) -> frozenset[str]:
    return frozenset(_shape(model, None).keys)


def select_rows(
    model: type[Any], *trailing: Any, projection: Projection | None = None
) -> Select[Any]:
    """`SELECT <model's columns>, <trailing columns>` (build rows with `shape(...).builder`;
    the trailing columns are at `shape(...).width` and after)."""
    return select(*shape(model, projection).columns, *trailing)


def columns(row: Any, names: Iterable[str]) -> Mapping[str, Any]:
    """Where to read the columns `names` of a row: a read-only row's own `__dict__`, or,
    for an ORM instance (whose attributes may have expired), its mapped attributes.

    A mapped attribute's read is a Python-level descriptor call, ~20 times a dict read,
    and a list with its includes reads thousands of values. (Where only the id is read,
    in loops, the same rule is spelled inline: `row.__dict__.get("id") or row.id`.)"""
    values = row.__dict__
    if "_sa_instance_state" in values:
        return {name: getattr(row, name) for name in names}
    return values  # type: ignore[no-any-return]


def read(
    session: Session, rows_shape: Shape, stmt: Kept | Statement, values: Mapping[str, Any]
) -> list[Any]:
    """`stmt` (selecting `rows_shape`'s columns) run with `values`, as read-only rows."""
    build = rows_shape.builder()
    return [build(found) for found in run(session, stmt, values)]


IDS: Any = bindparam("ids", expanding=True)
_BY_IDS: dict[tuple[Any, ...], Kept] = {}


def fetch_ids(
    session: Session,
    model: type[T],
    ids: Collection[int],
    projection: Projection | None = None,
    viewer: Viewer | None = None,
) -> list[T]:
    """The model's rows with these primary keys, as read-only rows: those `viewer` may see,
    or all of them (no viewer: visibility already checked). The statement is built once
    per model, columns and kind of viewer."""
    rows_shape = shape(model, projection)

    def statement() -> Any:
        stmt = select(*rows_shape.columns).where(inspect(model).primary_key[0].in_(IDS))
        return stmt if viewer is None else stmt.where(visible(model, viewer, now=NOW))  # type: ignore[arg-type]

    preview = None if viewer is None else viewer.preview
    stmt = kept(_BY_IDS, (model, rows_shape.keys, preview), statement)
    values = {"ids": list(ids)}
    return read(session, rows_shape, stmt, values if viewer is None else with_now(viewer, **values))
