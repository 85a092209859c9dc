"""Accents fold alike on both databases: `q=bogota` finds "Bogotá", and `q=Bogotá` "Bogota"."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.content.search import search
from app.content.types import ALL_TYPES
from app.content.visibility import Viewer
from app.content.writes import create_item
from app.db import make_engine, make_session_factory, session_scope
from app.migrations import upgrade_to_head
from tests.support import PG_ADMIN_URL, TestDatabases

PLACES = {
    "Bogotá": "Kidnapping in Bogotá",
    "Zürich": "Negotiators meet in Zürich",
    "São Paulo": "Ransom insurance in São Paulo",
    "Ciudad Juárez": "Hostages of Ciudad Juárez",
    "Plain": "Sequestration in Bogota",
}


@pytest.fixture
def places(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_scope(session_factory) as session:
        for title in PLACES.values():
            create_item(session, "topics", {"name": title}, "t")
    return session_factory


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("bogota", {"Kidnapping in Bogotá", "Sequestration in Bogota"}),
        ("Bogotá", {"Kidnapping in Bogotá", "Sequestration in Bogota"}),
        ("BOGOTÁ kidnapping", {"Kidnapping in Bogotá"}),
        ("zurich", {"Negotiators meet in Zürich"}),
        ("sao paulo", {"Ransom insurance in São Paulo"}),
        ("juarez hostage", {"Hostages of Ciudad Juárez"}),
        # Decomposed (NFD, as macOS and many PDFs give text): the accent is a mark of its
        # own after the letter, and must not cut the word in two.
        ("Bogota\u0301", {"Kidnapping in Bogotá", "Sequestration in Bogota"}),
        ("Sa\u0303o Paulo", {"Ransom insurance in São Paulo"}),
        # Fullwidth letters (an East Asian keyboard's): compatibility forms of ASCII.
        (
            "\uff42\uff4f\uff47\uff4f\uff54\uff41",
            {"Kidnapping in Bogotá", "Sequestration in Bogota"},
        ),
    ],
)
def test_accents_fold_on_both_databases(
    places: sessionmaker[Session], q: str, expected: set[str]
) -> None:
    with session_scope(places) as session:
        hits, total = search(session, q, ALL_TYPES, Viewer(), 20)
        names = {h.snippet.replace("<mark>", "").replace("</mark>", "") for h in hits}
    assert (names, total) == (expected, len(expected))


# Items written in compatibility or decomposed forms: fullwidth "HOSTAGE", and "Medellín"
# with its accent as a mark of its own.
WRITTEN_ODDLY = ("\uff28\uff2f\uff33\uff34\uff21\uff27\uff25 desk", "Medelli\u0301n office")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hostage", "HOSTAGE desk"),
        ("\uff48\uff4f\uff53\uff54\uff41\uff47\uff45", "HOSTAGE desk"),
        ("medellin", "Medellín office"),
        ("Medellín", "Medellín office"),
        ("Medelli\u0301n", "Medellín office"),
    ],
)
def test_text_written_in_other_forms_is_found_as_its_words(
    session_factory: sessionmaker[Session], q: str, expected: str
) -> None:
    """The index holds an item's text NFKC-normalized, as `q` is: on SQLite, an item in
    fullwidth letters was found by no query at all. The snippet shows the normalized text."""
    with session_scope(session_factory) as session:
        for name in WRITTEN_ODDLY:
            create_item(session, "topics", {"name": name}, "t")
    with session_scope(session_factory) as session:
        hits, total = search(session, q, ALL_TYPES, Viewer(), 20)
    snippets = [h.snippet.replace("<mark>", "").replace("</mark>", "") for h in hits]
    assert (snippets, total) == ([expected], 1)


def test_the_snippet_marks_the_word_as_written(places: sessionmaker[Session]) -> None:
    with session_scope(places) as session:
        hits, _ = search(session, "bogota kidnapping", ALL_TYPES, Viewer(), 20)
    assert [h.snippet for h in hits] == ["<mark>Kidnapping</mark> in <mark>Bogotá</mark>"]


def test_without_unaccent_the_migration_warns_and_search_still_works(
    test_databases: TestDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    """Where `unaccent` cannot be installed (here: a role without CREATE on the database),
    the migration says so and search works as before, without folding accents."""
    url = test_databases.create("postgresql")
    role = f"{make_url(url).database}_owner"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            connection.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
        as_role = make_url(url).set(username=role).render_as_string(hide_password=False)
        with caplog.at_level(logging.WARNING):
            upgrade_to_head(as_role)
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("unaccent extension could not be installed" in m for m in warned), warned
        engine = make_engine(as_role)
        try:
            with session_scope(make_session_factory(engine)) as session:
                create_item(session, "topics", {"name": "Kidnapping in Bogotá"}, "t")
            with session_scope(make_session_factory(engine)) as session:
                assert search(session, "bogota", ALL_TYPES, Viewer(), 20)[1] == 0
                assert search(session, "Bogotá", ALL_TYPES, Viewer(), 20)[1] == 1
        finally:
            engine.dispose()
    finally:
        admin.dispose()
        test_databases.drop(url)
        with create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
