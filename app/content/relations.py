"""Every relation between content types, each loaded for a whole batch of parents at once.

A loader takes the parent rows and returns, per parent id, the ordered list of
`Link`s (the visible target row plus link attributes such as a participant's role).
One SQL query per relation and batch — never one per parent — so lists, includes and
GraphQL DataLoaders all cost a constant number of queries whatever the page size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.kept import kept, run
from app.content.rows import Projection, fetch_ids, read, select_rows, shape
from app.content.types import (
    ALL_TYPES,
    ARTICLE,
    BY_NAME,
    EVENT,
    ORGANIZATION,
    PERSON,
    PUBLICATION,
    QUOTE,
    RESOURCE,
    TOPIC,
    ContentType,
)
from app.content.visibility import NOW, Viewer, visible, with_now
from app.models import (
    Affiliation,
    Article,
    ArticleAuthor,
    ArticleResource,
    EventParticipant,
    EventSponsor,
    Organization,
    Person,
    PublicationAuthor,
    Quote,
    RelatedItem,
    Resource,
    Tagging,
    Topic,
)

_NO_EXTRA: dict[str, Any] = {}


class Link(NamedTuple):
    """A related row and the link's own attributes (a participant's role). A tuple: a list
    with its includes makes hundreds, and a frozen dataclass costs three times as much."""

    target: Any  # a row of the relation's target type
    extra: dict[str, Any] = _NO_EXTRA  # shared and empty: never mutate


Links = dict[int, list[Link]]

# `Link(target, extra)` without the Python-level `__new__` NamedTuple generates (hundreds
# of links a request): `_link((target, extra))`.
_link: Callable[[tuple[Any, dict[str, Any]]], Link] = partial(tuple.__new__, Link)


class Loader(Protocol):
    """Loads a relation for parent rows; `projection` names the target columns to read
    (GraphQL's fast path), None reads them all."""

    def __call__(
        self,
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links: ...


# A relation's parents that show one of some target ids: (parent model, ids) -> a condition
# on the parent model. Kept beside each loader its factory builds (`_through`,
# `_by_foreign_key`), from the same link table and columns: `Relation.shows`.
Shows = Callable[[Any, list[int]], Any]
_SHOWS: dict[Any, Shows] = {}


@dataclass(frozen=True)
class Relation:
    name: str
    target: ContentType | None  # None: polymorphic (`related`)
    loader: Loader
    many: bool = True
    # Owned sub-objects (participants, affiliations) render as {…extra, <inner>: ref}.
    inner: str | None = None

    @property
    def shows(self) -> Shows | None:
        """The condition "this parent shows one of these targets" (by its link rows or
        foreign key, whatever their visibility); None for the loaders that have none
        (quotes of an article, related items: publishable targets)."""
        return _SHOWS.get(self.loader)

    @cached_property
    def watches(self) -> tuple[str, ...]:
        """The collections a write to which can add a target this relation does not show
        now: a linked draft is published. (Other targets appear only with a new link, a
        write to the parent.) A response showing the relation names them (Surrogate-Key)."""
        if self.target is None:
            return tuple(t.collection for t in ALL_TYPES if t.publishable)
        return (self.target.collection,) if self.target.publishable else ()


def _ids(rows: Sequence[Any]) -> list[int]:
    # A read-only row's id is in its __dict__ (no descriptor call); an ORM instance's may
    # have expired.
    return [r.__dict__.get("id") or r.id for r in rows]


def _with(projection: Projection | None, model: type[Any], *keys: str) -> Projection | None:
    """The projection, plus columns the loader itself reads from `model`'s rows."""
    if not projection or model not in projection:
        return projection
    return {**projection, model: projection[model] | set(keys)}


# Statements are built once per (relation, columns read, preview) and run with the parent
# ids and the viewer's time as parameters: building and cache-keying a SELECT costs more
# Python than running it.
PARENTS: Any = bindparam("parents", expanding=True)
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _values(parents: Sequence[Any], viewer: Viewer) -> dict[str, Any]:
    """A relation statement's values: the parents' ids and the viewer's time."""
    return with_now(viewer, parents=_ids(parents))


def _group(pairs: Sequence[Any]) -> Links:
    out: Links = defaultdict(list)
    for parent_id, link in pairs:
        out[parent_id].append(link)
    return out


def _through(
    link_model: Any,
    parent_column: str,
    target: Any,
    target_column: str,
    *,
    extra: tuple[str, ...] = (),
    link_filter: tuple[str, Any] | None = None,
    tie: Any = None,
) -> Loader:
    """Targets reached through a link table, in the link's `position` order (ties: `tie`,
    default the target's id); the link columns named in `extra` become `Link.extra`
    (a participant's role, an affiliation's years). `link_filter`: (column, value) the
    link rows must have (taggings of one entity type)."""
    parent_col = getattr(link_model, parent_column)
    extra_cols = [getattr(link_model, name) for name in extra]
    # The link rows of this relation (taggings of one entity type), and those of the parents.
    of_relation = (
        [] if link_filter is None else [getattr(link_model, link_filter[0]) == link_filter[1]]
    )
    conditions = [parent_col.in_(PARENTS), *of_relation]
    order = (parent_col, link_model.position, target.id if tie is None else tie)

    def joined(projection: Projection | None, viewer: Viewer) -> Any:
        # SQLite: from the parents' link rows to their targets by key. With the visibility
        # index to hand, it once drove from every public resource and probed each for 100
        # articles' links (26 ms at `large`, ~0.1 ms this way).
        return (
            select_rows(target, parent_col, *extra_cols, projection=projection)
            .select_from(link_model)
            .join(target, target.id == getattr(link_model, target_column))
            .where(*conditions, visible(target, viewer, unindexed=True, now=NOW))
            .order_by(*order)
        )

    def by_key(projection: Projection | None, viewer: Viewer) -> Any:
        # PostgreSQL: the link rows first (a CTE, read once), then their targets by primary
        # key. Joined directly, the planner prices a few dozen primary-key probes above a
        # hash of the whole target table under the default `random_page_cost` (4, disks):
        # the flagship's speakers read and hashed every person, bios and all (1.7 ms in
        # the app at `small`; 0.8 ms this way). The same or a little faster for narrow
        # targets (organizations, topics) and at `large`, where both probe by key.
        kept_cols = {parent_column, target_column, "position", *extra}
        if tie is not None:
            kept_cols.add(tie.key)
        links = (
            select(*(getattr(link_model, name) for name in sorted(kept_cols)))
            .where(*conditions)
            .cte("links")
        )
        target_key = links.c[target_column]
        wanted = func.array(select(target_key).scalar_subquery())
        tie_col = target.id if tie is None else links.c[tie.key]
        return (
            select_rows(
                target,
                links.c[parent_column],
                *(links.c[name] for name in extra),
                projection=projection,
            )
            .select_from(links)
            .join(target, target.id == target_key)
            .where(target.id == func.any(wanted), visible(target, viewer, now=NOW))
            .order_by(links.c[parent_column], links.c.position, tie_col)
        )

    def load(
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links:
        if not parents:
            return {}
        target_shape = shape(target, projection)
        postgresql = session.connection().dialect.name == "postgresql"
        stmt = kept(
            _STATEMENTS,
            (link_model, parent_column, link_filter, target_shape.keys, viewer.preview, postgresql),
            lambda: (by_key if postgresql else joined)(projection, viewer),
        )
        build = target_shape.builder()
        at = target_shape.width  # the parent id, then the link's `extra` columns
        rows = run(session, stmt, _values(parents, viewer))
        if not extra:
            return _group([(values[at], _link((build(values), _NO_EXTRA))) for values in rows])
        return _group(
            [
                (
                    values[at],
                    _link((build(values), dict(zip(extra, values[at + 1 :], strict=True)))),
                )
                for values in rows
            ]
        )

    def shows(model: Any, ids: list[int]) -> Any:
        target_col = getattr(link_model, target_column)
        linked = select(parent_col).where(target_col.in_(ids), *of_relation)
        return model.id.in_(linked)

    _SHOWS[load] = shows
    return load


def _topics(type_name: str) -> Loader:
    return _through(Tagging, "entity_id", Topic, "topic_id", link_filter=("entity_type", type_name))


def _article_quotes(
    session: Session, parents: Sequence[Any], viewer: Viewer, projection: Projection | None = None
) -> Links:
    if not parents:
        return {}
    quotes_shape = shape(Quote, _with(projection, Quote, "article_id"))
    stmt = kept(
        _STATEMENTS,
        ("article quotes", quotes_shape.keys, viewer.preview),
        lambda: (
            select(*quotes_shape.columns)
            .where(col(Quote.article_id).in_(PARENTS), visible(Quote, viewer, now=NOW))
            .order_by(col(Quote.article_id), col(Quote.position), col(Quote.id))
        ),
    )
    quotes = read(session, quotes_shape, stmt, _values(parents, viewer))
    return _group([(q.article_id, Link(q)) for q in quotes])


def _by_foreign_key(model: Any, fk: str) -> Loader:
    """A to-one relation stored as a column on the parent (quote.speaker_id, …)."""

    def load(
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links:
        wanted = {getattr(p, fk) for p in parents if getattr(p, fk) is not None}
        if not wanted:
            return {}
        targets = {t.id: t for t in fetch_ids(session, model, wanted, projection, viewer)}
        out: Links = {}
        for p in parents:
            target = targets.get(getattr(p, fk))
            if target is not None:
                out[p.id] = [Link(target)]
        return out

    _SHOWS[load] = lambda parent_model, ids: getattr(parent_model, fk).in_(ids)
    return load


def _related(
    session: Session, parents: Sequence[Any], viewer: Viewer, projection: Projection | None = None
) -> Links:
    if not parents:
        return {}
    links_shape = shape(RelatedItem)
    stmt = kept(
        _STATEMENTS,
        ("related links",),
        lambda: (
            select(*links_shape.columns)
            .where(col(RelatedItem.article_id).in_(PARENTS))
            .order_by(col(RelatedItem.article_id), col(RelatedItem.position))
        ),
    )
    links = read(session, links_shape, stmt, {"parents": _ids(parents)})
    wanted: dict[str, set[int]] = defaultdict(set)
    for link in links:
        wanted[link.target_type].add(link.target_id)
    targets: dict[tuple[str, int], Any] = {}
    for type_name in sorted(wanted):
        model = BY_NAME[type_name].model
        for row in fetch_ids(session, model, wanted[type_name], projection, viewer):
            targets[(type_name, row.id)] = row
    pairs = []
    for link in links:
        target = targets.get((link.target_type, link.target_id))
        if target is not None:
            pairs.append((link.article_id, Link(target, {"type": link.target_type})))
    return _group(pairs)


RELATIONS: dict[str, dict[str, Relation]] = {
    "topic": {},
    "organization": {
        "parent": Relation(
            "parent", ORGANIZATION, _by_foreign_key(Organization, "parent_id"), many=False
        ),
        "topics": Relation("topics", TOPIC, _topics("organization")),
    },
    "person": {
        "affiliations": Relation(
            "affiliations",
            ORGANIZATION,
            _through(
                Affiliation,
                "person_id",
                Organization,
                "organization_id",
                extra=("role", "start_year", "end_year", "is_current", "is_primary", "position"),
                tie=Affiliation.id,
            ),
            inner="organization",
        ),
        "topics": Relation("topics", TOPIC, _topics("person")),
    },
    "article": {
        "authors": Relation(
            "authors", PERSON, _through(ArticleAuthor, "article_id", Person, "person_id")
        ),
        "quotes": Relation("quotes", QUOTE, _article_quotes),
        "resources": Relation(
            "resources",
            RESOURCE,
            _through(ArticleResource, "article_id", Resource, "resource_id"),
        ),
        "related": Relation("related", None, _related),
        "topics": Relation("topics", TOPIC, _topics("article")),
    },
    "quote": {
        "speaker": Relation("speaker", PERSON, _by_foreign_key(Person, "speaker_id"), many=False),
        "article": Relation("article", ARTICLE, _by_foreign_key(Article, "article_id"), many=False),
        "topics": Relation("topics", TOPIC, _topics("quote")),
    },
    "event": {
        "participants": Relation(
            "participants",
            PERSON,
            _through(
                EventParticipant,
                "event_id",
                Person,
                "person_id",
                extra=("role", "title", "position"),
            ),
            inner="person",
        ),
        "sponsors": Relation(
            "sponsors",
            ORGANIZATION,
            _through(EventSponsor, "event_id", Organization, "organization_id"),
        ),
        "topics": Relation("topics", TOPIC, _topics("event")),
    },
    "publication": {
        "authors": Relation(
            "authors", PERSON, _through(PublicationAuthor, "publication_id", Person, "person_id")
        ),
        "topics": Relation("topics", TOPIC, _topics("publication")),
    },
    "resource": {
        "topics": Relation("topics", TOPIC, _topics("resource")),
    },
}

assert set(RELATIONS) == {
    t.name for t in (TOPIC, ORGANIZATION, PERSON, ARTICLE, QUOTE, EVENT, PUBLICATION, RESOURCE)
}
