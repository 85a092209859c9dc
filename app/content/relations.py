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
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.rows import Projection, fetch, select_rows, shape
from app.content.types import (
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
from app.content.visibility import NOW, Viewer, visible
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


@dataclass(frozen=True)
class Relation:
    name: str
    target: ContentType | None  # None: polymorphic (`related`)
    loader: Loader
    many: bool = True
    # Owned sub-objects (participants, affiliations) render as {…extra, <inner>: ref}.
    inner: str | None = None


def _ids(rows: Sequence[Any]) -> list[int]:
    return [r.id for r in rows]


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


def _statement(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    found = _STATEMENTS.get(key)
    if found is None:
        found = build()
        if len(_STATEMENTS) < 4096:  # projections are chosen by clients: stay bounded
            _STATEMENTS[key] = found
    return found


def _run(session: Session, stmt: Any, parents: Sequence[Any], viewer: Viewer) -> Any:
    params: dict[str, Any] = {"parents": _ids(parents)}
    if not viewer.preview:
        params["now"] = viewer.now
    return session.connection().execute(stmt, params).all()


def _group(pairs: Sequence[Any]) -> Links:
    out: Links = defaultdict(list)
    for parent_id, link in pairs:
        out[parent_id].append(link)
    return out


def _topics(type_name: str) -> Loader:
    def load(
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links:
        if not parents:
            return {}
        stmt = _statement(
            ("topics", type_name, shape(Topic, projection).keys, viewer.preview),
            lambda: (
                select_rows(Topic, col(Tagging.entity_id), projection=projection)
                .join(Topic, col(Topic.id) == Tagging.topic_id)
                .where(
                    col(Tagging.entity_type) == type_name,
                    col(Tagging.entity_id).in_(PARENTS),
                    visible(Topic, viewer, now=NOW),
                )
                .order_by(col(Tagging.entity_id), col(Tagging.position), col(Topic.id))
            ),
        )
        build = shape(Topic, projection).builder(1)
        rows = _run(session, stmt, parents, viewer)
        return _group([(values[0], Link(build(values))) for values in rows])

    return load


def _ordered_people(link_model: Any, parent_column: str, with_role: bool = False) -> Loader:
    def load(
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links:
        if not parents:
            return {}
        parent_col = getattr(link_model, parent_column)
        # Link columns, not link objects: only the people are worth mapping to instances.
        role = link_model.role if with_role else parent_col
        stmt = _statement(
            ("people", link_model, shape(Person, projection).keys, viewer.preview),
            lambda: (
                select_rows(Person, parent_col, role, link_model.position, projection=projection)
                .join(Person, col(Person.id) == link_model.person_id)
                .where(parent_col.in_(PARENTS), visible(Person, viewer, now=NOW))
                .order_by(parent_col, link_model.position, col(Person.id))
            ),
        )
        build = shape(Person, projection).builder(3)
        rows = _run(session, stmt, parents, viewer)
        if with_role:
            pairs = [
                (values[0], Link(build(values), {"role": values[1], "position": values[2]}))
                for values in rows
            ]
        else:
            pairs = [(values[0], Link(build(values))) for values in rows]
        return _group(pairs)

    return load


def _ordered_targets(
    link_model: Any, parent_column: str, target: Any, target_column: str
) -> Loader:
    """Targets through an ordered link table (an event's sponsors, an article's resources)."""

    def load(
        session: Session,
        parents: Sequence[Any],
        viewer: Viewer,
        projection: Projection | None = None,
    ) -> Links:
        if not parents:
            return {}
        parent_col = getattr(link_model, parent_column)
        stmt = _statement(
            ("targets", link_model, shape(target, projection).keys, viewer.preview),
            lambda: (
                select_rows(target, parent_col, projection=projection)
                .join(target, target.id == getattr(link_model, target_column))
                .where(parent_col.in_(PARENTS), visible(target, viewer, now=NOW))
                .order_by(parent_col, link_model.position, target.id)
            ),
        )
        build = shape(target, projection).builder(1)
        rows = _run(session, stmt, parents, viewer)
        return _group([(values[0], Link(build(values))) for values in rows])

    return load


def _article_quotes(
    session: Session, parents: Sequence[Any], viewer: Viewer, projection: Projection | None = None
) -> Links:
    if not parents:
        return {}
    quotes = fetch(
        session,
        Quote,
        col(Quote.article_id).in_(_ids(parents)),
        visible(Quote, viewer),
        order_by=(col(Quote.article_id), col(Quote.position), col(Quote.id)),
        projection=_with(projection, Quote, "article_id"),
    )
    return _group([(q.article_id, Link(q)) for q in quotes])


def _affiliations(
    session: Session, parents: Sequence[Any], viewer: Viewer, projection: Projection | None = None
) -> Links:
    if not parents:
        return {}
    stmt = _statement(
        ("affiliations", shape(Organization, projection).keys, viewer.preview),
        lambda: (
            select_rows(
                Organization,
                col(Affiliation.person_id),
                col(Affiliation.role),
                col(Affiliation.start_year),
                col(Affiliation.end_year),
                col(Affiliation.is_primary),
                col(Affiliation.position),
                projection=projection,
            )
            .join(Organization, col(Organization.id) == Affiliation.organization_id)
            .where(col(Affiliation.person_id).in_(PARENTS), visible(Organization, viewer, now=NOW))
            .order_by(col(Affiliation.person_id), col(Affiliation.position), col(Affiliation.id))
        ),
    )
    build = shape(Organization, projection).builder(6)
    pairs = [
        (
            values[0],
            Link(
                build(values),
                {
                    "role": values[1],
                    "start_year": values[2],
                    "end_year": values[3],
                    "is_primary": values[4],
                    "position": values[5],
                },
            ),
        )
        for values in _run(session, stmt, parents, viewer)
    ]
    return _group(pairs)


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
        targets = {
            t.id: t
            for t in fetch(
                session, model, model.id.in_(wanted), visible(model, viewer), projection=projection
            )
        }
        out: Links = {}
        for p in parents:
            target = targets.get(getattr(p, fk))
            if target is not None:
                out[p.id] = [Link(target)]
        return out

    return load


def _related(
    session: Session, parents: Sequence[Any], viewer: Viewer, projection: Projection | None = None
) -> Links:
    if not parents:
        return {}
    links = fetch(
        session,
        RelatedItem,
        col(RelatedItem.article_id).in_(_ids(parents)),
        order_by=(col(RelatedItem.article_id), col(RelatedItem.position)),
    )
    wanted: dict[str, set[int]] = defaultdict(set)
    for link in links:
        wanted[link.target_type].add(link.target_id)
    targets: dict[tuple[str, int], Any] = {}
    for type_name in sorted(wanted):
        ctype = BY_NAME[type_name]
        for row in fetch(
            session,
            ctype.model,
            col(ctype.model.id).in_(wanted[type_name]),
            visible(ctype.model, viewer),
            projection=projection,
        ):
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
        "affiliations": Relation("affiliations", ORGANIZATION, _affiliations, inner="organization"),
        "topics": Relation("topics", TOPIC, _topics("person")),
    },
    "article": {
        "authors": Relation("authors", PERSON, _ordered_people(ArticleAuthor, "article_id")),
        "quotes": Relation("quotes", QUOTE, _article_quotes),
        "resources": Relation(
            "resources",
            RESOURCE,
            _ordered_targets(ArticleResource, "article_id", Resource, "resource_id"),
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
            _ordered_people(EventParticipant, "event_id", True),
            inner="person",
        ),
        "sponsors": Relation(
            "sponsors",
            ORGANIZATION,
            _ordered_targets(EventSponsor, "event_id", Organization, "organization_id"),
        ),
        "topics": Relation("topics", TOPIC, _topics("event")),
    },
    "publication": {
        "authors": Relation(
            "authors", PERSON, _ordered_people(PublicationAuthor, "publication_id")
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
