"""Relay connections over the query layer's keyset pages.

A page's cursors are the query layer's own signed cursors (`Page.cursor_at`), so an edge's
cursor, `pageInfo.endCursor` and REST's `next_cursor` are interchangeable for the same
list and filter. The source objects compute cursors lazily: signing costs only when a
client asks for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

T = TypeVar("T")

FIRST_DESCRIPTION = "How many items to return (1-100)."
AFTER_DESCRIPTION = (
    "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
)
FILTER = strawberry.argument(description="Only items matching every filter given (as in REST).")
SORT = strawberry.argument(description="Order of the items (default: the list's own).")


@strawberry.type(description="Where a page stands in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for with `after` (items precede it)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge: pass it as `after` for the next page."
    )


@strawberry.type(description="An item in a list, with the cursor that continues after it.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    nodes: list[T] = strawberry.field(description="The items of this page (edges without cursors).")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    total_count: int = strawberry.field(description="How many items the list holds in all.")


class EdgeData:
    __slots__ = ("_cursor_at", "index", "node")

    def __init__(self, node: Any, index: int, cursor_at: Callable[[int], str]) -> None:
        self.node = node
        self.index = index
        self._cursor_at = cursor_at

    @property
    def cursor(self) -> str:
        return self._cursor_at(self.index)


class PageInfoData:
    __slots__ = ("_cursor_at", "_size", "has_next_page", "has_previous_page")

    def __init__(
        self, size: int, has_next: bool, has_previous: bool, cursor_at: Callable[[int], str]
    ) -> None:
        self._size = size
        self._cursor_at = cursor_at
        self.has_next_page = has_next
        self.has_previous_page = has_previous

    @property
    def start_cursor(self) -> str | None:
        return self._cursor_at(0) if self._size else None

    @property
    def end_cursor(self) -> str | None:
        return self._cursor_at(self._size - 1) if self._size else None


class ConnectionData:
    """The source object of every connection type (nodes are rows, or SearchHits)."""

    __slots__ = ("_cursor_at", "_total", "nodes", "page_info")

    def __init__(
        self,
        nodes: list[Any],
        total: int | Callable[[], int],
        has_next: bool,
        has_previous: bool,
        cursor_at: Callable[[int], str],
    ) -> None:
        self.nodes = nodes
        # A callable is counted only if the query asks for totalCount (a COUNT can cost
        # more than the page itself).
        self._total = total
        self._cursor_at = cursor_at
        self.page_info = PageInfoData(len(nodes), has_next, has_previous, cursor_at)

    @property
    def total_count(self) -> int:
        if callable(self._total):
            self._total = self._total()
        return self._total

    @property
    def edges(self) -> list[EdgeData]:
        cursor_at = self._cursor_at
        return [EdgeData(node, i, cursor_at) for i, node in enumerate(self.nodes)]
