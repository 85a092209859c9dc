"""Each search document stores its item's visibility, and every write keeps it in step.

Search filters matches on `search_document.public_at` / `deleted` instead of the items'
own tables: a path that changes status, published_at or deleted_at and forgets the
document would show a hidden item, or hide a public one. Each test here walks one path
and checks every document against the rule (`public_since`) computed from its item.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.content import search as search_module
from app.content.types import ALL_TYPES, BY_COLLECTION, BY_NAME
from app.content.visibility import PUBLIC_SINCE_EVER, Viewer, is_visible, public_since
from app.content.writes import create_item, delete_item, update_item, upsert_item
from app.db import make_engine, session_scope, utcnow
from app.demo.loader import load_demo
from app.migrations import downgrade_connection, upgrade_to_head
from app.models import SearchDocument
from app.transfer import export_lines, import_records
from tests.admin_helpers import bearer, make_key


def assert_in_step(session: Session) -> int:
    """Every document's (public_at, deleted) is what the rule says of its item now."""
    checked = 0
    for ctype in ALL_TYPES:
        documents = {
            d.entity_id: (d.public_at, d.deleted)
            for d in session.scalars(
                select(SearchDocument).where(SearchDocument.entity_type == ctype.name)
            )
        }
        rows = session.scalars(select(ctype.model)).all()
        assert set(documents) == {row.id for row in rows}, ctype.name
        for row in rows:
            expected = (
                public_since(ctype.model, partial(getattr, row)),
                row.deleted_at is not None,
            )
            assert documents[row.id] == expected, (ctype.name, row.slug)
            checked += 1
    return checked


def hits(session: Session, q: str, viewer: Viewer | None = None) -> set[str]:
    found, _ = search_module.search(session, q, ALL_TYPES, viewer or Viewer(), 100)
    return {f"{h.ctype.name}:{h.entity_id}" for h in found}


PUBLISHED = {"status": "published", "published_at": "2024-03-01T12:00:00Z"}


def test_every_write_keeps_the_stored_visibility(session_factory: sessionmaker[Session]) -> None:
    future = (utcnow() + timedelta(days=30)).isoformat()
    with session_scope(session_factory) as session:
        topic = create_item(session, "topics", {"name": "Ransom topic"}, "t")
        person = create_item(session, "people", {"name": "Ransom Person"}, "t")
        public = create_item(session, "articles", {"title": "Ransom public", **PUBLISHED}, "t")
        draft = create_item(session, "articles", {"title": "Ransom draft"}, "t")
        scheduled = create_item(
            session,
            "quotes",
            {"text": "Ransom later", "status": "published", "published_at": future},
            "t",
        )
        assert_in_step(session)
        ids = {
            n: r.id
            for n, r in (
                ("topic", topic),
                ("person", person),
                ("public", public),
                ("draft", draft),
                ("scheduled", scheduled),
            )
        }
    with session_scope(session_factory) as session:
        assert hits(session, "ransom") == {
            f"topic:{ids['topic']}",
            f"person:{ids['person']}",
            f"article:{ids['public']}",
        }
        assert len(hits(session, "ransom", Viewer(preview=True))) == 5
        # Scheduled: public once its time comes, with no write in between.
        later = Viewer(now=utcnow() + timedelta(days=31))
        assert f"quote:{ids['scheduled']}" in hits(session, "ransom", later)

    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("articles", "draft", {"status": "published"}),  # published now
        ("articles", "public", {"published_at": future}),  # rescheduled
        ("articles", "public", {"status": "archived"}),
        ("articles", "public", {"status": "draft", "published_at": None}),
        ("quotes", "scheduled", {"published_at": "2020-01-01T00:00:00Z"}),  # brought forward
        ("articles", "draft", None),  # deleted
        ("topics", "topic", None),
        ("people", "person", None),
        ("quotes", "scheduled", {"text": "Ransom, edited"}),  # text only: still public
    ]
    for collection, name, patch in steps:
        with session_scope(session_factory) as session:
            row = session.get(BY_COLLECTION[collection].model, ids[name])
            if patch is None:
                delete_item(session, collection, row, "t")
            else:
                update_item(session, collection, row, patch, "t")
        with session_scope(session_factory) as session:
            assert_in_step(session)
            for ctype in ALL_TYPES:  # what search shows is what the items' rule shows
                for row in session.scalars(select(ctype.model)):
                    for viewer in (Viewer(), Viewer(preview=True)):
                        key = f"{ctype.name}:{row.id}"
                        assert (key in hits(session, "ransom", viewer)) == is_visible(
                            row, viewer
                        ), (collection, name, patch, key, viewer.preview)


def test_a_restore_by_import_makes_the_document_visible_again(
    session_factory: sessionmaker[Session],
) -> None:
    """`dossier import` (and the demo loader) upsert by slug: an item deleted since the
    export comes back, with nothing else changed. The document must come back too."""
    with session_scope(session_factory) as session:
        create_item(session, "articles", {"title": "Ransom economics", **PUBLISHED}, "t")
        create_item(session, "people", {"name": "Ransom Scholar"}, "t")
    with session_factory() as session:
        lines = list(export_lines(session))
    with session_scope(session_factory) as session:
        for ctype in (BY_NAME["article"], BY_NAME["person"]):
            for row in session.scalars(select(ctype.model)):
                delete_item(session, ctype.collection, row, "t")
    with session_scope(session_factory) as session:
        assert hits(session, "ransom") == set()
        assert_in_step(session)
    with session_scope(session_factory) as session:
        import_records(session, lines)
    with session_scope(session_factory) as session:
        assert_in_step(session)
        assert len(hits(session, "ransom")) == 2
    with session_scope(session_factory) as session:  # upsert_item, one at a time
        row = session.scalars(select(BY_NAME["article"].model)).one()
        delete_item(session, "articles", row, "t")
        slug = row.slug
    with session_scope(session_factory) as session:
        upsert_item(
            session, "articles", {"title": "Ransom economics", "slug": slug, **PUBLISHED}, "t"
        )
    with session_scope(session_factory) as session:
        assert_in_step(session)
        assert len(hits(session, "ransom")) == 2


def test_writes_through_the_api_keep_it_in_step(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(make_key(session_factory, "editor", "content:write"))
    created = client.post(
        "/api/v1/articles", json={"title": "Kidnap report", **PUBLISHED}, headers=headers
    )
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    search = "/api/v1/search?q=kidnap"
    assert len(client.get(search).json()["data"]) == 1
    etag = client.get(f"/api/v1/articles/{slug}").headers["etag"]
    patched = client.patch(
        f"/api/v1/articles/{slug}", json={"status": "draft"}, headers={**headers, "If-Match": etag}
    )
    assert patched.status_code == 200, patched.text
    assert client.get(search).json()["data"] == []
    with session_scope(session_factory) as session:
        assert_in_step(session)
    assert client.delete(f"/api/v1/articles/{slug}", headers=headers).status_code == 204
    with session_scope(session_factory) as session:
        assert_in_step(session)


def test_the_demo_dataset_is_in_step(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as session:
        load_demo(session)
    with session_scope(session_factory) as session:
        assert assert_in_step(session) > 50


def test_hidden_items_cannot_crowd_public_ones_out(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL took its candidates from the first 4 x MATCH_CAP matches and only then
    left hidden ones out: more hidden matches than that, and the public one was gone."""
    monkeypatch.setattr(search_module, "MATCH_CAP", 2)
    with session_scope(session_factory) as session:
        public = create_item(session, "articles", {"title": "Ransom economics", **PUBLISHED}, "t")
        for i in range(12):
            create_item(session, "articles", {"title": f"Ransom draft {i}"}, "t")
        for i in range(6):
            gone = create_item(session, "articles", {"title": f"Ransom gone {i}", **PUBLISHED}, "t")
            delete_item(session, "articles", gone, "t")
        public_id = public.id
    for types in (ALL_TYPES, [BY_NAME["article"]]):
        with session_scope(session_factory) as session:
            found, total = search_module.search(session, "ransom", types, Viewer(), 10)
            assert ([h.entity_id for h in found], total) == ([public_id], 1)
    with session_scope(session_factory) as session:
        _, total = search_module.search(session, "ransom", ALL_TYPES, Viewer(preview=True), 10)
        assert total == 2  # the cap, over the 13 a preview may see


def test_the_migration_fills_in_the_visibility_of_documents_already_there(
    empty_database_url: str,
) -> None:
    """Migration e08422a35171 computes each document's visibility from its item."""
    upgrade_to_head(empty_database_url)
    engine: Engine = make_engine(empty_database_url)
    try:
        with Session(engine) as session, session.begin():
            create_item(session, "topics", {"name": "Kidnapping"}, "t")
            gone = create_item(session, "topics", {"name": "Gone"}, "t")
            delete_item(session, "topics", gone, "t")
            create_item(session, "articles", {"title": "Public", **PUBLISHED}, "t")
            create_item(session, "articles", {"title": "Draft"}, "t")
            create_item(
                session, "articles", {"title": "Archived", **PUBLISHED, "status": "archived"}, "t"
            )
            create_item(
                session,
                "events",
                {
                    "title": "Later",
                    "status": "published",
                    "published_at": "2999-01-01T00:00:00Z",
                    "starts_at": "2999-02-01T00:00:00Z",
                },
                "t",
            )
            removed = create_item(session, "quotes", {"text": "Removed", **PUBLISHED}, "t")
            delete_item(session, "quotes", removed, "t")
        with engine.begin() as connection:
            downgrade_connection(connection, "618478cd4d4e")
            assert "public_at" not in {
                c[1] if engine.dialect.name == "sqlite" else c[0]
                for c in connection.execute(
                    text("PRAGMA table_info(search_document)")
                    if engine.dialect.name == "sqlite"
                    else text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'search_document'"
                    )
                )
            }
        upgrade_to_head(empty_database_url)
        with Session(engine) as session:
            assert assert_in_step(session) == 7
            publics = session.scalars(
                select(SearchDocument.public_at).where(SearchDocument.entity_type == "topic")
            ).all()
            assert sorted(publics, key=lambda p: p is None) == [PUBLIC_SINCE_EVER, None]
            assert hits(session, "kidnapping") != set()
    finally:
        engine.dispose()
