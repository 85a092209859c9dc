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

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app.content.relations import RELATIONS, Shows
from app.content.types import BY_NAME, ContentType


def _shown_through(restored: ContentType) -> dict[str, list[Shows]]:
    """By showing type, the conditions (`Relation.shows`) under which its items show an
    item of `restored`."""
    found: dict[str, list[Shows]] = {}
    for type_name, relations in RELATIONS.items():
        for relation in relations.values():
            if relation.target is restored and relation.shows is not None:
                found.setdefault(type_name, []).append(relation.shows)
    return found


# Every relation to a type that only a deletion hides says which items show its targets:
# a new one that a restore did not follow would be the bug again.
assert all(
    relation.shows is not None
    for relations in RELATIONS.values()
    for relation in relations.values()
    if relation.target is not None and not relation.target.publishable
)


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
            for showing, conditions in through.items():
                model = BY_NAME[showing].model
                session.execute(
                    update(model)
                    .where(
                        model.deleted_at.is_(None),
                        or_(*(shows(model, chunk) for shows in conditions)),
                    )
                    .values(version=model.version + 1, updated_at=now)
                    # The session's rows of these items take the new version: a later
                    # write of one in this session counts from it.
                    .execution_options(synchronize_session="fetch")
                )
