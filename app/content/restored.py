"""When a deleted topic, organization or person comes back: the items that show it change.

An item that links to a deleted one does not show it (a reference to a deleted item is not
served), and an item that shows it again once it is restored (`dossier import`, or `dossier
demo`, naming its slug) has changed as the public sees it, without a write of its own. A
partner mirroring `/api/v1/changes` that fetched such an item while the other was deleted
held it without the reference for good: the log listed only the restored item. A cached
response of it stayed too: it named neither the deleted item nor its collection, and the
version poll saw only the restored item's type move (on SQLite: an import on PostgreSQL
bumps every type's version at its end).

So a restore marks every item that shows the restored one as changed, as a write would: a
new `version` and `updated_at`. The log lists each again (`updated`), lists asked with
`updated_since` find it, its ETags change, and its type's version moves (the triggers), so
every cached response showing it goes. One UPDATE per type of showing item and restored
type, whatever the number of items: a restored topic tagged on 100,000 items is seven
statements (one per tagged type) writing those 100,000 rows, and 100,000 changes in the
log, each item's reference being new to its mirrors.

Publishable items (articles, events, publications, quotes, resources) are not marked here:
they go public by time too, with no write, and `shown_change` notes the moment for the
items that show them (`app.content.shown`), restored or published; their responses name
their collections (`Relation.watches`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from app.content.relations import RELATIONS
from app.content.types import (
    ALL_TYPES,
    ARTICLE,
    BY_NAME,
    EVENT,
    PERSON,
    PUBLICATION,
    ContentType,
)
from app.models import (
    Affiliation,
    ArticleAuthor,
    EventParticipant,
    EventSponsor,
    Organization,
    PublicationAuthor,
    Quote,
    Tagging,
)

# The condition on an item of one type: it shows one of the (restored) ids given.
Shows = Callable[[list[int]], Any]


def _tagged(ctype: ContentType) -> Shows:
    def shows(ids: list[int]) -> Any:
        tagged = select(col(Tagging.entity_id)).where(
            col(Tagging.topic_id).in_(ids), col(Tagging.entity_type) == ctype.name
        )
        return ctype.model.id.in_(tagged)

    return shows


def _linked(ctype: ContentType, parent: Any, target: Any) -> Shows:
    """Through a link table: `parent` is its column of the showing item, `target` of the
    item shown."""
    return lambda ids: ctype.model.id.in_(select(parent).where(target.in_(ids)))


# For each (showing type, relation) to a type that only a deletion hides: the condition.
# (`related` links publishable items only.)
SHOWS: dict[tuple[str, str], Shows] = {
    **{(t.name, "topics"): _tagged(t) for t in ALL_TYPES if "topics" in RELATIONS[t.name]},
    ("organization", "parent"): lambda ids: col(Organization.parent_id).in_(ids),
    ("person", "affiliations"): _linked(
        PERSON, col(Affiliation.person_id), col(Affiliation.organization_id)
    ),
    ("event", "sponsors"): _linked(
        EVENT, col(EventSponsor.event_id), col(EventSponsor.organization_id)
    ),
    ("event", "participants"): _linked(
        EVENT, col(EventParticipant.event_id), col(EventParticipant.person_id)
    ),
    ("article", "authors"): _linked(
        ARTICLE, col(ArticleAuthor.article_id), col(ArticleAuthor.person_id)
    ),
    ("publication", "authors"): _linked(
        PUBLICATION, col(PublicationAuthor.publication_id), col(PublicationAuthor.person_id)
    ),
    ("quote", "speaker"): lambda ids: col(Quote.speaker_id).in_(ids),
}
# Every such relation: a new one that a restore did not follow would be the bug again.
assert set(SHOWS) == {
    (type_name, name)
    for type_name, relations in RELATIONS.items()
    for name, relation in relations.items()
    if relation.target is not None and not relation.target.publishable
}


def _shown_through(restored: ContentType) -> dict[str, list[str]]:
    """The relations, by showing type, through which items show an item of `restored`."""
    found: dict[str, list[str]] = {}
    for type_name, relations in RELATIONS.items():
        for name, relation in relations.items():
            if relation.target is restored:
                found.setdefault(type_name, []).append(name)
    return found


# Ids per statement: an import may restore thousands of items.
CHUNK = 500


def mark_showing(
    session: Session, restored: Iterable[tuple[ContentType, int]], now: datetime
) -> None:
    """Mark as changed at `now` each item (not deleted) that shows one of the `restored`
    items, given as (type, id): a new version and `updated_at`. Restored publishable items
    are left to `shown_change`. One statement per type showing the restored type (and per
    `CHUNK` of restored ids), whatever the number of items it marks."""
    ids: dict[str, list[int]] = {}
    for ctype, item_id in restored:
        if not ctype.publishable:
            ids.setdefault(ctype.name, []).append(item_id)
    for type_name, restored_ids in ids.items():
        through = _shown_through(BY_NAME[type_name])
        for start in range(0, len(restored_ids), CHUNK):
            chunk = restored_ids[start : start + CHUNK]
            for showing, names in through.items():
                model = BY_NAME[showing].model
                session.execute(
                    update(model)
                    .where(
                        model.deleted_at.is_(None),
                        or_(*(SHOWS[(showing, name)](chunk) for name in names)),
                    )
                    .values(version=model.version + 1, updated_at=now)
                    # The session's rows of these items take the new version: a later
                    # write of one in this session counts from it.
                    .execution_options(synchronize_session="fetch")
                )
