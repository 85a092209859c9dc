"""The per-request GraphQL context: session, viewer, DataLoaders and the rows returned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from strawberry.types import Info

from app.config import Settings
from app.content.relations import Link
from app.content.types import ContentType
from app.content.visibility import Viewer
from app.graphql.ids import BY_MODEL
from app.graphql.limits import ObjectBudget
from app.graphql.loaders import PageLoader, RelationLoader, RowPool, relation_loaders


@dataclass
class Context:
    session: Session
    viewer: Viewer
    settings: Settings
    # This API's base URL for links to itself (`app.feeds.urls.api_base`).
    api_base: str = ""
    pool: RowPool = field(default_factory=RowPool)
    loaders: dict[tuple[str, str], RelationLoader] = field(default_factory=dict)
    # Nested connections' first pages, by (parent type, field, arguments).
    pages: dict[tuple[Any, ...], PageLoader] = field(default_factory=dict)
    # Collections whose lists the response shows: their Surrogate-Key purges it when an
    # item is added to them, even if the list was empty.
    collections: set[str] = field(default_factory=set)
    # For lists that time alone changes (`upcoming`), when they next may (`Page.changes_at`).
    time_bound: list[Callable[[], datetime | None]] = field(default_factory=list)
    # The objects execution may still complete (`app.graphql.limits`); None: no limit.
    budget: ObjectBudget | None = None

    def __post_init__(self) -> None:
        if not self.loaders:
            self.loaders = relation_loaders(self.session, self.viewer, self.pool)

    def reset(self) -> None:
        """Forget every row loaded so far (the fast path's may hold only some columns)."""
        self.pool = RowPool()
        self.loaders = relation_loaders(self.session, self.viewer, self.pool)
        self.pages = {}
        if self.budget is not None:
            self.budget = ObjectBudget(self.budget.maximum)

    @property
    def secret(self) -> str:
        return self.settings.secret_key

    def returned(self, ctype: ContentType, rows: list[Any]) -> list[Any]:
        """Register rows a resolver returns (DataLoader keys, Surrogate-Key) and pass them on."""
        self.pool.add(ctype, rows)
        return rows

    def links(self, row: Any, relation: str) -> list[Link]:
        return self.loaders[BY_MODEL[type(row)].name, relation].load(row)

    def targets(self, row: Any, relation: str) -> list[Any]:
        return [link.target for link in self.links(row, relation)]

    def target(self, row: Any, relation: str) -> Any | None:
        links = self.links(row, relation)
        return links[0].target if links else None

    def page(
        self,
        row: Any,
        key: tuple[Any, ...],
        fetch: Callable[[list[Any]], dict[int, Any]],
        reads: str,
    ) -> Any:
        """The first page of the connection `key` of `row`, loaded with those of the rows
        that arrived with it (`PageLoader`) and whose column `reads`, which `fetch` reads,
        was loaded."""
        type_name = BY_MODEL[type(row)].name
        loader = self.pages.get((type_name, *key))
        if loader is None:
            loader = self.pages[type_name, *key] = PageLoader(self.pool, type_name, fetch, reads)
        return loader.load(row)

    def changes_at(self) -> datetime | None:
        """The earliest moment a list in the response changes by itself (None: never)."""
        moments = [moment for bound in self.time_bound if (moment := bound()) is not None]
        return min(moments, default=None)

    def surrogate_ids(self) -> set[str]:
        return self.pool.public_ids()

    def surrogate_collections(self) -> set[str]:
        """The collections a write to which may change the response: those it lists or
        looks items up in, those its filters name, those its relations watch."""
        return self.collections | self.pool.watched


def context_of(info: Info[Any, Any]) -> Context:
    context: Context = info.context
    return context
