"""The migrations build exactly the models' schema, and undo it, on both databases."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, bindparam, inspect, select, text
from sqlmodel import col

from app.db import make_engine, metadata
from app.migrations import (
    HEAD_REVISION,
    PROJECT_ROOT,
    current_revision,
    downgrade_connection,
    head_revision,
    include_name,
    include_object,
    is_at_head,
    scripts_head,
    upgrade_connection,
    upgrade_to_head,
)

# SQLite's reflection skips expression indexes (the publications' year sort) with a warning;
# autogenerate is told to ignore that index anyway (`UNMODELLED_INDEXES`).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index"
)

SQLITE_FTS_OBJECTS = {
    "search_fts",
    "search_fts_source",
    "search_document_ai",
    "search_document_ad",
    "search_document_au",
}


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": include_name,
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(context, metadata))


def sqlite_objects(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'search%'"))
        return {row[0] for row in rows}


def test_upgrade_from_empty_matches_the_models(
    empty_database_url: str, empty_engine: Engine
) -> None:
    assert current_revision(empty_engine) is None
    assert not is_at_head(empty_engine)

    upgrade_to_head(empty_database_url)

    assert current_revision(empty_engine) == head_revision()
    assert is_at_head(empty_engine)
    assert schema_differences(empty_engine) == []
    tables = set(inspect(empty_engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_full_text_index_of_each_dialect(empty_database_url: str, empty_engine: Engine) -> None:
    upgrade_to_head(empty_database_url)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO search_document (entity_type, entity_id, title, body) "
                "VALUES ('event', 1, 'Kidnapping seminars', 'Hostages and their families')"
            )
        )
    if empty_engine.dialect.name == "sqlite":
        assert sqlite_objects(empty_engine) >= SQLITE_FTS_OBJECTS
        match = "SELECT rowid FROM search_fts WHERE search_fts MATCH :q"
        with empty_engine.begin() as connection:
            # Stemmed: "seminar" finds "seminars"; triggers follow updates and deletes.
            assert connection.execute(text(match), {"q": "seminar"}).scalars().all() == [1]
            connection.execute(text("UPDATE search_document SET title = 'Lecture' WHERE id = 1"))
            assert connection.execute(text(match), {"q": "seminar"}).all() == []
            assert connection.execute(text(match), {"q": "lecture"}).scalars().all() == [1]
            connection.execute(text("DELETE FROM search_document"))
            assert connection.execute(text(match), {"q": "lecture"}).all() == []
    else:
        indexes = {index["name"] for index in inspect(empty_engine).get_indexes("search_document")}
        assert "ix_search_document_tsv" in indexes
        with empty_engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT id FROM search_document WHERE to_tsvector('english', "
                    "coalesce(title, '') || ' ' || coalesce(body, '')) "
                    "@@ plainto_tsquery('english', 'seminar')"
                )
            )
            assert found.scalars().all() == [1]


def test_downgrade_to_base_then_upgrade_again(
    empty_database_url: str, empty_engine: Engine
) -> None:
    upgrade_to_head(empty_database_url)

    with empty_engine.begin() as connection:
        downgrade_connection(connection, "base")

    assert set(inspect(empty_engine).get_table_names()) == {"alembic_version"}
    assert current_revision(empty_engine) is None
    if empty_engine.dialect.name == "sqlite":
        assert sqlite_objects(empty_engine) == set()

    with empty_engine.begin() as connection:
        upgrade_connection(connection, "head")

    assert is_at_head(empty_engine)
    assert schema_differences(empty_engine) == []


def test_head_revision_is_the_newest_script() -> None:
    assert head_revision() == scripts_head(), (
        "a migration was added: set app.migrations.HEAD_REVISION to its revision"
    )


def test_upgrade_to_head_applies_what_is_missing(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """`upgrade_to_head` skips Alembic only for a database already at the head."""
    upgrade_to_head(empty_database_url)
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "-1")
    assert current_revision(empty_engine) not in (None, head_revision())

    upgrade_to_head(empty_database_url)

    assert is_at_head(empty_engine)
    assert schema_differences(empty_engine) == []


def test_migrations_are_a_single_linear_history() -> None:
    from alembic.script import ScriptDirectory

    from app.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.module.__file__ is not None
        name = revision.module.__file__.rsplit("/", 1)[-1]
        assert re.fullmatch(r"\d{8}_[a-z0-9_]+\.py", name), name  # date-slug file names


def test_migrators_starting_together_take_turns(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Replicas starting at once each migrate: one builds the schema, the others wait for
    it and find the database at head (they crashed on "already exists" before)."""
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade_to_head(empty_database_url)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert current_revision(empty_engine) == HEAD_REVISION


def test_connecting_waits_for_a_writer_to_switch_a_new_database_to_wal(
    tmp_path: Path,
) -> None:
    """The flake behind the test above: the first connection to a new database switches it
    to WAL, which SQLite refuses at once (no busy timeout) while another connection writes
    in the old mode. Connecting now waits for that writer, as for any other lock."""
    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    finishing = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    finishing.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT x FROM t").scalar() == 1
    finally:
        finishing.join()
        engine.dispose()
        writer.close()


def test_alembic_on_its_own_saves_what_it_runs(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """`alembic upgrade head`, as the README offers it beside `dossier migrate`: on
    PostgreSQL its statements ran in a transaction nobody committed."""
    run = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={empty_database_url}", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert current_revision(empty_engine) == HEAD_REVISION


def test_a_migrator_waits_for_another_longer_than_the_statement_timeout(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """The wait for another migrator is no statement to time out: a replica starting while
    another migrates for longer than 5 s (the per-request timeout) waits, then finds the
    database at head."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("SQLite waits on its busy timeout, 30 s")
    from app.migrations import _MIGRATION_LOCK

    with empty_engine.connect() as holder:
        holder.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
        timer = threading.Timer(
            5.5, lambda: holder.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
        )
        timer.start()
        try:
            upgrade_to_head(empty_database_url)
        finally:
            timer.join()
    assert current_revision(empty_engine) == HEAD_REVISION


def test_plain_text_is_recomputed_where_it_now_breaks(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration 2f9c4e8a1b70: text stored before figures, lists and tables broke it is
    written again, in the item and in its search document; text it would not change is
    left alone. The expected text is written out, not computed: the migration holds its own
    copy of the rule, and this is what that copy must give."""
    from sqlalchemy.orm import Session

    from app.content.writes import create_item

    upgrade_to_head(empty_database_url)
    figure = '<p>Seen</p><figure><img src="/a.jpg"><figcaption>Rod Searcey</figcaption></figure>'
    # Each part of the rule, each the only break between two words: lists, figures and
    # captions open and close blocks, <hr> breaks, cells meet at a space, entities are
    # unescaped and runs of white space become one space.
    blocks = (
        "Ways in:<ul><li>Rock &amp; roll</li><li>Jazz</li></ul>Or<ol><li>One</li></ol>Between"
        '<hr>After<figure><img src="/a.jpg">Photo<figcaption>Caption</figcaption>Credit</figure>'
        "Then<table><thead><tr><th>Year</th><th>Cases</th></tr></thead>"
        "<tbody><tr><td>2024</td><td>12</td></tr></tbody></table><p>Done   \n here</p>"
    )
    with Session(empty_engine) as session, session.begin():
        create_item(session, "people", {"name": "Ann", "bio": figure + "<p>After</p>"}, "t")
        create_item(session, "people", {"name": "Bo", "bio": "<p>Plain</p>"}, "t")
        create_item(session, "articles", {"title": "Cy", "subtitle": "Sub", "body": blocks}, "t")
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "c7a2e5f1d9b3")  # before 2f9c4e8a1b70
        connection.execute(
            text("UPDATE person SET bio_text = 'Seen\n\nRod SearceyAfter' WHERE name = 'Ann'")
        )
        # What the rule before 2f9c4e8a1b70 stored for the article's body.
        old = "Ways in:Rock & roll\n\nJazz\n\nOrOne\n\nBetweenAfterPhotoCaptionCreditThenYearCases"
        connection.execute(
            text("UPDATE article SET body_text = :old"), {"old": old + "\n\n202412\n\nDone here"}
        )
        connection.execute(text("UPDATE search_document SET body = 'Rod SearceyAfter'"))
    upgrade_to_head(empty_database_url)
    with empty_engine.connect() as connection:
        texts = dict(connection.execute(text("SELECT name, bio_text FROM person")).all())
        article_text = connection.execute(text("SELECT body_text FROM article")).scalar()
        bodies = connection.execute(
            text(
                "SELECT p.name, d.body FROM search_document d JOIN person p"
                " ON d.entity_type = 'person' AND p.id = d.entity_id"
            )
        ).all()
        article_body = connection.execute(
            text("SELECT body FROM search_document WHERE entity_type = 'article'")
        ).scalar()
    assert texts == {"Ann": "Seen\n\nRod Searcey\n\nAfter", "Bo": "Plain"}
    assert sorted(bodies) == [("Ann", " Seen\n\nRod Searcey\n\nAfter"), ("Bo", "Rod SearceyAfter")]
    blocks_text = (
        "Ways in:\n\nRock & roll\n\nJazz\n\nOr\n\nOne\n\nBetween\n\nAfter\n\nPhoto\n\nCaption"
        "\n\nCredit\n\nThen\n\nYear Cases\n\n2024 12\n\nDone here"
    )
    assert article_text == blocks_text
    assert article_body == "Sub " + blocks_text  # subtitle and text, as index_item joins them


def test_search_documents_gain_the_fields_search_now_reads(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration 6b1d8e3f5a27: an article's byline, a publication's publisher and a
    resource's hours are searched; documents written before it are written again."""
    from sqlalchemy.orm import Session

    from app.content.writes import create_item

    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session, session.begin():
        create_item(session, "articles", {"title": "A", "byline": "Quetzal Desk"}, "t")
        create_item(
            session,
            "resources",
            {"name": "R", "resource_type": "hotline", "hours": "24/7 urgent"},
            "t",
        )
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "2f9c4e8a1b70")
        connection.execute(text("UPDATE search_document SET body = 'old'"))
    upgrade_to_head(empty_database_url)
    with empty_engine.connect() as connection:
        bodies = dict(
            connection.execute(text("SELECT entity_type, body FROM search_document")).all()
        )
    assert bodies["article"] == "  Quetzal Desk"  # as index_item joins subtitle, text, byline
    assert "24/7 urgent" in bodies["resource"]


def test_search_documents_are_normalized_as_queries_are(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration bc061dd78952: search documents written before it, in fullwidth letters or
    decomposed accents, hold their NFKC form after it and are found by their words (on
    SQLite, FTS5 re-indexes them); ASCII documents are left alone."""
    from sqlalchemy.orm import Session

    from app.content.search import search
    from app.content.types import ALL_TYPES
    from app.content.visibility import Viewer
    from app.content.writes import create_item

    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session, session.begin():
        create_item(session, "topics", {"name": "Hostage desk"}, "t")
        create_item(session, "topics", {"name": "Medellin office"}, "t")
        create_item(session, "topics", {"name": "Plain"}, "t")
    wide = "\uff28\uff2f\uff33\uff34\uff21\uff27\uff25 desk"
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "9d38d00c2f1c")  # before bc061dd78952
        for old, new in (("Hostage desk", wide), ("Medellin office", "Medelli\u0301n office")):
            connection.execute(
                text("UPDATE search_document SET title = :new WHERE title = :old"),
                {"new": new, "old": old},
            )
        connection.execute(text("UPDATE search_document SET body = 'x' WHERE title = 'Plain'"))
    if empty_engine.dialect.name == "sqlite":  # PostgreSQL's `unaccent` folds fullwidth
        with Session(empty_engine) as session:
            assert search(session, "hostage", ALL_TYPES, Viewer(), 20)[1] == 0
    upgrade_to_head(empty_database_url)
    with empty_engine.connect() as connection:
        documents = sorted(connection.execute(text("SELECT title, body FROM search_document")))
    assert documents == [("HOSTAGE desk", ""), ("Medellín office", ""), ("Plain", "x")]
    with Session(empty_engine) as session:
        assert search(session, "hostage", ALL_TYPES, Viewer(), 20)[1] == 1
        assert search(session, "medellín", ALL_TYPES, Viewer(), 20)[1] == 1


def test_taggings_gain_their_items_visibility(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration 0b70a7beb28e: each tagging holds its item's `public_since`, as the write
    layer keeps it: published, draft, scheduled and deleted items, and a person."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from app.content.writes import create_item, delete_item
    from app.db import utcnow
    from app.models import Article
    from tests.support import tagging_mismatches

    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session, session.begin():
        create_item(session, "topics", {"name": "T"}, "t")
        later = (utcnow() + timedelta(days=1)).isoformat()
        for slug, fields in (
            ("public", {"status": "published"}),
            ("draft", {"status": "draft"}),
            ("scheduled", {"status": "published", "published_at": later}),
            ("gone", {"status": "published"}),
        ):
            create_item(session, "articles", {"title": slug, "topics": ["t"], **fields}, "t")
        create_item(session, "people", {"name": "Ann", "topics": ["t"]}, "t")
        gone = session.scalars(select(Article).where(col(Article.slug) == "gone")).one()
        delete_item(session, "articles", gone, "t")
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "bc061dd78952")  # before 0b70a7beb28e
    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session:
        assert tagging_mismatches(session) == []
        stored = session.execute(text("SELECT count(public_at) FROM tagging")).scalar()
    assert stored == 3  # the public article, the scheduled one, the person


# A name of 199 characters with a suffix: the old rule's sort name, the suffix first, is 200
# (it fits the column), and the migration's "Family, Given, Jr." would be 201, so migration
# d2168608de6d leaves it as it is. Since 746386c the app's `derive_sort_name` cuts a sort
# name to fit instead; the migration keeps the rule it was written with, and must not follow.
LONG_NAME = f"{'G' * 94} {'F' * 100} Jr."
LONG_NAME_OLD_SORT_NAME = f"Jr., {'G' * 94} {'F' * 100}"


def test_sort_names_derived_the_old_way_are_derived_again(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration d2168608de6d: a sort name the old rule derived from a name with a
    generational suffix or a post-nominal ("Jr., Martin Luther King") is derived again, and
    a live person's version and `updated_at` move (partners' mirrors, ETags); a sort name set
    by hand, an ordinary name's, a deleted person's version, and a sort name whose new
    derivation would not fit the column stay."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from app.content.writes import create_item, delete_item
    from app.db import UTCDateTime, utcnow
    from app.models import Person

    assert (len(LONG_NAME), len(LONG_NAME_OLD_SORT_NAME)) == (199, 200)
    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session, session.begin():
        for data in (
            {"name": "Martin Luther King Jr."},
            {"name": "Jane Doe, PhD"},
            {"name": "Ann Lee"},
            {"name": "Peter Paul Jr.", "sort_name": "Paul, Peter (Jr.)"},
            {"name": "Henry Ford II"},
            {"name": "Ann Roe, PH.D."},
            {"name": "Sam Poe JR."},
            {"name": LONG_NAME},
        ):
            create_item(session, "people", data, "t")
        ford = session.scalars(select(Person).where(col(Person.name) == "Henry Ford II")).one()
        delete_item(session, "people", ford, "t")
    old = {
        "Martin Luther King Jr.": "Jr., Martin Luther King",
        "Jane Doe, PhD": "PhD, Jane Doe,",
        "Henry Ford II": "II, Henry Ford",
        "Ann Roe, PH.D.": "PH.D., Ann Roe,",
        "Sam Poe JR.": "JR., Sam Poe",
        LONG_NAME: LONG_NAME_OLD_SORT_NAME,
    }
    long_ago = utcnow() - timedelta(days=30)
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "0b70a7beb28e")  # before d2168608de6d
        for name, sort_name in old.items():
            connection.execute(
                text("UPDATE person SET sort_name = :s WHERE name = :n"),
                {"s": sort_name, "n": name},
            )
        # In SQL: the models have columns this revision lacks.
        connection.execute(
            text("UPDATE person SET updated_at = :t").bindparams(bindparam("t", type_=UTCDateTime)),
            {"t": long_ago},
        )
        before = {
            name: version
            for name, version in connection.execute(text("SELECT name, version FROM person"))
        }
    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session:
        after = {p.name: p for p in session.scalars(select(Person))}
    assert {name: p.sort_name for name, p in after.items()} == {
        "Martin Luther King Jr.": "King, Martin Luther, Jr.",
        "Jane Doe, PhD": "Doe, Jane",
        "Ann Lee": "Lee, Ann",
        "Peter Paul Jr.": "Paul, Peter (Jr.)",
        "Henry Ford II": "Ford, Henry, II",
        "Ann Roe, PH.D.": "Roe, Ann",
        "Sam Poe JR.": "Poe, Sam, JR.",
        LONG_NAME: LONG_NAME_OLD_SORT_NAME,
    }
    moved = {name for name, p in after.items() if p.updated_at > long_ago}
    assert moved == {"Martin Luther King Jr.", "Jane Doe, PhD", "Ann Roe, PH.D.", "Sam Poe JR."}
    assert {name for name, p in after.items() if p.version != before[name]} == moved
    assert all(after[name].version == before[name] + 1 for name in moved)


def test_taggings_of_rows_deleted_behind_the_apis_back_are_deleted(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration c29c004091e6: a tagging whose item's row is gone (deleted in `psql` before
    the triggers that now take them along) is deleted; the others stay."""
    from sqlalchemy.orm import Session

    from app.content.writes import create_item

    upgrade_to_head(empty_database_url)
    with Session(empty_engine) as session, session.begin():
        create_item(session, "topics", {"name": "T"}, "t")
        for title in ("Kept", "Purged"):
            create_item(session, "articles", {"title": title, "topics": ["t"]}, "t")
    with empty_engine.begin() as connection:
        downgrade_connection(connection, "9d84df82911f")  # before c29c004091e6
        connection.execute(text("DELETE FROM article WHERE title = 'Purged'"))
        assert connection.execute(text("SELECT count(*) FROM tagging")).scalar() == 2
    upgrade_to_head(empty_database_url)
    with empty_engine.connect() as connection:
        kept = connection.execute(
            text("SELECT a.title FROM tagging JOIN article a ON a.id = tagging.entity_id")
        ).scalars()
        assert list(kept) == ["Kept"]
        assert connection.execute(text("SELECT count(*) FROM tagging")).scalar() == 1


def test_affiliations_with_an_end_year_are_the_ones_not_current(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration e23e12bc058c: `is_current` is filled as `end_year` was read before it (no
    end year: current). Its downgrade refuses, changing nothing, while a role has ended in a
    year unknown, which the older schema would read as current; it names each and says what
    to do. Marked current first, as the message offers, they are current in the older
    schema, and so after an upgrade again."""
    from alembic.util import CommandError
    from sqlalchemy.orm import Session

    from app.content.writes import create_item

    upgrade_to_head(empty_database_url)
    roles = [
        {"organization": "meta", "role": "Founder"},
        {"organization": "meta", "role": "Fellow", "start_year": 2008, "end_year": 2009},
        {"organization": "meta", "role": "COO", "is_current": False},
    ]
    with Session(empty_engine) as session, session.begin():
        create_item(session, "organizations", {"slug": "meta", "name": "Meta"}, "t")
        create_item(session, "people", {"name": "Ann", "affiliations": roles}, "t")

    def found() -> list[tuple[str, bool]]:
        with empty_engine.connect() as connection:
            rows = connection.execute(
                text("SELECT role, is_current FROM affiliation ORDER BY position")
            ).all()
        return [(role, bool(current)) for role, current in rows]

    with empty_engine.begin() as connection:  # the later migrations' own downgrades
        downgrade_connection(connection, "e23e12bc058c")
    with empty_engine.begin() as connection, pytest.raises(CommandError) as refused:
        downgrade_connection(connection, "5c1f0e2d7a93")
    message = str(refused.value)
    assert message.startswith(
        "Not downgraded below e23e12bc058c: 1 affiliation has ended in a year unknown"
    )
    assert "\n  ann: COO at meta\n" in message
    assert current_revision(empty_engine) == "e23e12bc058c"
    assert found() == [("Founder", True), ("Fellow", False), ("COO", False)]

    remedy = message.splitlines()[-1].strip()
    assert remedy.startswith("UPDATE affiliation SET is_current = true")
    with empty_engine.begin() as connection:
        connection.execute(text(remedy))
        downgrade_connection(connection, "5c1f0e2d7a93")
    upgrade_to_head(empty_database_url)
    assert found() == [("Founder", True), ("Fellow", False), ("COO", True)]


def test_each_type_has_a_gin_index_of_its_search_vectors(
    empty_database_url: str, empty_engine: Engine
) -> None:
    """Migration e354dc538fd8 (PostgreSQL): a partial GIN index of the search vectors of
    each type, on the predicate only the counts with words say; its downgrade drops them
    all, and leaves the index of every type. SQLite: nothing."""
    from app.content.types import ALL_TYPES

    def per_type() -> dict[str, str]:
        with empty_engine.connect() as connection:
            if empty_engine.dialect.name == "sqlite":
                found = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE name LIKE 'ix_search%'")
                )
            else:
                found = connection.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = 'search_document' AND indexname LIKE 'ix_search%'"
                    )
                )
            return {name: definition for name, definition in found}

    upgrade_to_head(empty_database_url)
    if empty_engine.dialect.name == "sqlite":
        assert set(per_type()) == {"ix_search_document_entity"}
        return
    expected = {f"ix_search_document_tsv_{ctype.name}": ctype.name for ctype in ALL_TYPES}
    indexes = per_type()
    assert set(indexes) == {"ix_search_document_entity", "ix_search_document_tsv", *expected}
    for name, type_name in expected.items():
        assert "USING gin (tsv)" in indexes[name], indexes[name]
        predicate = f"WHERE (((entity_type)::text = '{type_name}'::text) IS TRUE)"
        assert indexes[name].endswith(predicate), indexes[name]

    with empty_engine.begin() as connection:
        downgrade_connection(connection, "e23e12bc058c")
    assert set(per_type()) == {"ix_search_document_entity", "ix_search_document_tsv"}
    upgrade_to_head(empty_database_url)
    assert per_type() == indexes
