"""Search of some types: the index itself answers for the type, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.content import search as search_module
from app.content.queries import ListParams, list_items
from app.content.types import ALL_TYPES, BY_NAME, PERSON
from app.content.visibility import Viewer
from app.content.writes import create_item, delete_item
from app.db import make_engine, session_scope
from app.migrations import downgrade_connection, upgrade_to_head


def found(
    session: Session, q: str, *type_names: str, preview: bool = False
) -> tuple[list[str], int]:
    types = [BY_NAME[n] for n in type_names] if type_names else list(ALL_TYPES)
    hits, total = search_module.search(session, q, types, Viewer(preview=preview), 100)
    return sorted(f"{h.ctype.name}:{h.entity_id}" for h in hits), total


def test_a_rare_type_is_found_behind_many_newer_matches_of_other_types(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL took its candidates from the first matches of any type, then kept those
    of the types asked for: a person among many articles with the word went missing."""
    monkeypatch.setattr(search_module, "MATCH_CAP", 3)
    monkeypatch.setattr(search_module, "RANK_ALL", 4)
    with session_scope(session_factory) as session:
        for i in range(12):
            create_item(session, "articles", {"title": f"Ransom {i}", "status": "published"}, "t")
        person = create_item(session, "people", {"name": "Ransom Expert"}, "t")
        hidden = create_item(session, "people", {"name": "Ransom Gone"}, "t")
        delete_item(session, "people", hidden, "t")
        event = create_item(
            session,
            "events",
            {"title": "Ransom talk", "status": "published", "starts_at": "2024-01-01T10:00:00Z"},
            "t",
        )
        for i in range(12):
            create_item(
                session, "articles", {"title": f"Ransom again {i}", "status": "published"}, "t"
            )
    with session_scope(session_factory) as session:
        assert found(session, "ransom", "person") == ([f"person:{person.id}"], 1)
        assert found(session, "ransom", "person", "event") == (
            sorted([f"person:{person.id}", f"event:{event.id}"]),
            2,
        )
        hits, total = found(session, "ransom", "article")
        assert (len(hits), total) == (3, 3)  # the cap still holds
        assert found(session, "ransom expert", "person", "topic") == ([f"person:{person.id}"], 1)


def test_type_names_are_words_like_any_other(session_factory: sessionmaker[Session]) -> None:
    """SQLite's index holds each document's type beside its text: searching for the word
    `person` or `publication` finds the documents that say it, not those of that type."""
    with session_scope(session_factory) as session:
        quiet = create_item(session, "people", {"name": "Ann Quiet"}, "t")
        talker = create_item(
            session, "people", {"name": "Bo Talker", "bio": "<p>A person of note</p>"}, "t"
        )
        pub = create_item(
            session,
            "publications",
            {"title": "On security", "status": "published", "publication_type": "report"},
            "t",
        )
        article = create_item(
            session, "articles", {"title": "A publication on security", "status": "published"}, "t"
        )
    with session_scope(session_factory) as session:
        assert found(session, "person") == ([f"person:{talker.id}"], 1)
        assert found(session, "person", "person") == ([f"person:{talker.id}"], 1)
        assert found(session, "publication") == ([f"article:{article.id}"], 1)
        assert found(session, "publication", "publication") == ([], 0)
        assert found(session, "security", "publication") == ([f"publication:{pub.id}"], 1)
        assert found(session, "quiet", "person") == ([f"person:{quiet.id}"], 1)
        assert found(session, "event") == ([], 0)
        # A collection's `q` filter goes through the same index.
        page = list_items(session, PERSON, ListParams(limit=10, q="person"), Viewer(), "secret")
        assert [row.id for row in page.items] == [talker.id]


def test_the_migration_indexes_the_types_of_documents_already_there(
    empty_database_url: str,
) -> None:
    """Migration 618478cd4d4e rebuilds SQLite's index from `search_document`: documents
    written before it are found by type, and the triggers keep it in step afterwards."""
    upgrade_to_head(empty_database_url)
    engine: Engine = make_engine(empty_database_url)
    try:
        with Session(engine) as session, session.begin():
            person_id = create_item(session, "people", {"name": "Kidnapping scholar"}, "t").id
            create_item(session, "topics", {"name": "Kidnapping"}, "t")
        with engine.begin() as connection:  # back to before the index knew types
            downgrade_connection(connection, "9e4a2c6d8f13")
        upgrade_to_head(empty_database_url)
        with Session(engine) as session:
            assert found(session, "kidnapping", "person") == ([f"person:{person_id}"], 1)
            assert found(session, "kidnapping")[1] == 2
        with Session(engine) as session, session.begin():
            session.execute(
                text(
                    "UPDATE search_document SET entity_type = 'event' WHERE entity_type = 'person'"
                )
            )
        with Session(engine) as session:
            assert found(session, "kidnapping", "person") == ([], 0)
    finally:
        engine.dispose()


def test_each_type_is_a_word_of_its_own_in_sqlites_index(
    session_factory: sessionmaker[Session],
) -> None:
    """SQLite's index held each document's type stemmed like its text (`organization` as
    `organ`, `publication` as `public`), one list of documents per word whatever the
    column: a search of one type read every text that said the word as well. Each type's
    word in the index is now held by that type's documents only."""
    with session_scope(session_factory) as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's FTS5 index")
        create_item(session, "organizations", {"name": "Crime Lab"}, "t")
        create_item(session, "people", {"name": "Ann Quoted", "bio": "<p>Personal notes</p>"}, "t")
        create_item(
            session,
            "articles",
            {
                "title": "Organized publications, quoted articles and events",
                "body": "<p>An organization publishes; a person quotes resources on topics.</p>",
                "status": "published",
            },
            "t",
        )
    with session_scope(session_factory) as session:
        session.execute(
            text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, search_fts, col)")
        )
        session.execute(
            text("CREATE VIRTUAL TABLE temp.rows USING fts5vocab(main, search_fts, row)")
        )
        columns = [r[1] for r in session.execute(text("PRAGMA table_info(search_fts)"))]
        type_column = columns[2]  # title, body, then the type
        held = session.execute(
            text(
                "SELECT w.term, w.doc, r.doc FROM temp.words w JOIN temp.rows r USING (term) "
                "WHERE w.col = :col"
            ),
            {"col": type_column},
        ).all()
        session.execute(text("DROP TABLE temp.words"))
        session.execute(text("DROP TABLE temp.rows"))
    # Each term of the type column: in as many documents as in that column alone.
    assert len(held) >= 3
    assert [(term, in_type) for term, in_type, anywhere in held if anywhere != in_type] == []
    with session_scope(session_factory) as session:
        assert found(session, "crime", "organization")[1] == 1
        assert found(session, "organization", "article")[1] == 1
        assert found(session, "organization", "organization") == ([], 0)
