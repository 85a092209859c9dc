"""Load the demo dataset through the same write path the API uses. Idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.types import BY_NAME
from app.content.writes import lock_writers, upsert_item
from app.demo.data import DEMO_DATASET

ACTOR = "demo-loader"


def load_demo(session: Session) -> int:
    """Upsert every demo record by slug; returns how many records changed.

    Related items may point at any collection, so they are written in a second pass,
    once every target exists. Running it twice changes nothing the second time.
    """
    lock_writers(session)  # before the first read, as every writer
    changed = 0
    deferred: list[tuple[str, dict[str, object]]] = []
    for collection, records in DEMO_DATASET.items():
        for record in records:
            first = dict(record)
            related = list(first.get("related") or [])
            ready = [r for r in related if _exists(session, r["type"], r["slug"])]
            if len(ready) < len(related):
                deferred.append((collection, record))
                first["related"] = ready
            _, did_change = upsert_item(session, collection, first, ACTOR)
            changed += did_change
    for collection, record in deferred:
        _, did_change = upsert_item(session, collection, dict(record), ACTOR)
        changed += did_change
    return changed


def _exists(session: Session, type_name: str, slug: str) -> bool:
    model = BY_NAME[type_name].model
    return session.scalar(select(model.id).where(model.slug == slug)) is not None
