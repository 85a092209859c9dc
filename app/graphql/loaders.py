"""Per-request DataLoaders over `app.content.relations`, synchronous.

GraphQL executes a query depth-first: the speakers of the first event are resolved
before the second event is even looked at, so a classic DataLoader needs futures and an
event loop to collect its keys. Ours knows the keys already: every row a resolver
returns is registered in the request's pool of its type, and when a relation is first
asked of one row it is loaded, in one query, for every row of that type in the pool
that does not have it yet. Rows reach the pool a level at a time (a page of events,
then all their speakers, then all their organizations), so the cost is one SQL query
per relation per level, whatever the page size — and no awaitable is ever created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.content.relations import RELATIONS, Link, Relation
from app.content.rows import Projection
from app.content.types import ContentType
from app.content.visibility import Viewer
from app.graphql.ids import BY_MODEL


class RowPool:
    """Every row the request has returned so far, by type name and primary key."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, Any]] = {name: {} for name in RELATIONS}
        # Which arrival each row came with, latest first: a list's page, or one relation's
        # targets for a batch of parents (see `PageLoader`).
        self.arrivals: dict[str, dict[int, int]] = {name: {} for name in RELATIONS}
        self._arrived = 0
        # The columns the query reads, per model (set by the fast path; None: all).
        self.projection: Projection | None = None
        # The collections whose writes can change the relations loaded (`Relation.watches`).
        self.watched: set[str] = set()

    def arrival(self) -> int:
        """A new arrival's number, for the rows that come together."""
        self._arrived += 1
        return self._arrived

    def add(self, ctype: ContentType, rows: Iterable[Any], arrival: int | None = None) -> None:
        pool, arrivals = self.rows[ctype.name], self.arrivals[ctype.name]
        arrival = self.arrival() if arrival is None else arrival
        for row in rows:
            pool[row.id] = row
            arrivals[row.id] = arrival

    def add_one(self, row: Any, arrival: int) -> None:
        self.add(BY_MODEL[type(row)], [row], arrival)

    def public_ids(self) -> set[str]:
        """The public ids of every row returned (for `Surrogate-Key`)."""
        ids: set[str] = set()
        for ctype in BY_MODEL.values():
            ids.update(ctype.public_id(pk) for pk in self.rows[ctype.name])
        return ids


class RelationLoader:
    """Loads one relation of one type for the whole pool at once and caches the links."""

    def __init__(
        self, session: Session, viewer: Viewer, pool: RowPool, type_name: str, relation: Relation
    ) -> None:
        self.session = session
        self.viewer = viewer
        self.pool = pool
        self.type_name = type_name
        self.relation = relation
        self.loaded: dict[int, list[Link]] = {}

    def load(self, row: Any) -> list[Link]:
        key = row.__dict__.get("id") or row.id  # read-only rows: no descriptor call
        links = self.loaded.get(key)
        if links is not None:
            return links
        parents = self.pool.rows[self.type_name]
        parents.setdefault(key, row)
        loaded = self.loaded
        batch = [(pk, parent) for pk, parent in parents.items() if pk not in loaded]
        found = self.relation.loader(
            self.session, [parent for _, parent in batch], self.viewer, self.pool.projection
        )
        self.pool.watched.update(self.relation.watches)
        target = self.relation.target
        pool = self.pool.rows[target.name] if target is not None else None
        arrivals = self.pool.arrivals[target.name] if target is not None else None
        arrival = self.pool.arrival()
        for pk, _ in batch:
            group = found.get(pk, [])
            loaded[pk] = group
            if pool is None or arrivals is None:
                for link in group:
                    self.pool.add_one(link.target, arrival)
            else:
                # Loaders return read-only rows (`app.content.rows`): the id is in __dict__
                # (a mapped attribute's descriptor call per link was most of this loop).
                for link in group:
                    target_id = link.target.__dict__["id"]
                    pool[target_id] = link.target
                    arrivals[target_id] = arrival
        return loaded[key]


class PageLoader:
    """The first page of one nested connection (a field, with the same arguments), loaded
    in one query for every row of the parent type in the pool that does not have it yet —
    as `RelationLoader` loads a relation (`app.content.nested`)."""

    def __init__(
        self,
        pool: RowPool,
        type_name: str,
        fetch: Callable[[list[Any]], dict[int, Any]],
        reads: str,
    ) -> None:
        self.pool = pool
        self.type_name = type_name
        self.fetch = fetch  # parent rows -> their pages, by primary key
        self.reads = reads  # the column of the parents `fetch` reads: a person's slug, a topic's id
        self.loaded: dict[int, Any] = {}

    def load(self, row: Any) -> Any:
        key = row.__dict__.get("id") or row.id
        page = self.loaded.get(key)
        if page is not None:
            return page
        parents = self.pool.rows[self.type_name]
        parents.setdefault(key, row)
        loaded = self.loaded
        # The parents that came with this one (the same list's page, the same relation's
        # targets), whose column was read (the fast path's rows hold only some columns).
        # Not every row of the type: a page costs far more than a relation's links, and the
        # topics an article list is tagged with are not asked for the stream one topic is.
        arrivals = self.pool.arrivals[self.type_name]
        arrival = arrivals.get(key)
        reads = self.reads
        batch = (
            {
                pk: parent
                for pk, parent in parents.items()
                if arrivals.get(pk) == arrival and pk not in loaded and reads in parent.__dict__
            }
            if arrival is not None
            else {}
        )
        batch[key] = row
        loaded.update(self.fetch(list(batch.values())))
        return loaded[key]


def relation_loaders(
    session: Session, viewer: Viewer, pool: RowPool
) -> dict[tuple[str, str], RelationLoader]:
    """A loader for every relation of every type (cheap objects: nothing runs until asked)."""
    return {
        (type_name, name): RelationLoader(session, viewer, pool, type_name, relation)
        for type_name, relations in RELATIONS.items()
        for name, relation in relations.items()
    }
