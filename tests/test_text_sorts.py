"""Text sorts (`sort=title`, `name`, `sort_name`) give one order on SQLite and PostgreSQL:
by a key without accents, case or leading punctuation (`app.models.sort_keys`), then id.
SQLite ordered by code point ("Ábrego" after "Zhang"), PostgreSQL by its locale."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from app.content.cursors import encode_token
from app.content.writes import create_item
from app.db import UTCDateTime, make_engine, session_scope, utcnow
from app.migrations import upgrade_connection, upgrade_to_head
from app.models.sort_keys import SORT_KEY_LENGTH, SORT_KEYS, sort_key
from app.transfer import import_records
from tests.admin_helpers import bearer, make_key
from tests.test_migrations import downgrade_connection

# Written in this order; read back in the order of `SORTED`.
TITLES = (
    "Zhang on kidnapping",
    "Ábrego's report",
    "brown bag seminar",
    "“Why now?” A panel",
    "Łódź and Lviv",
    "de Soto, revisited",
    "Apple",
    "apple",
    "Östlund",
    "  Oslo   accords",
    "ßtraße",  # casefolds to "sstrasse"
    "Æthelred",
)
SORTED = [
    "Ábrego's report",
    "Æthelred",
    "Apple",
    "apple",  # ties with "Apple": by id
    "brown bag seminar",
    "de Soto, revisited",
    "Łódź and Lviv",
    "  Oslo   accords",
    "Östlund",
    "ßtraße",
    "“Why now?” A panel",
    "Zhang on kidnapping",
]


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Ábrego", "abrego"),
        ("ÉCOLE", "ecole"),
        ("Łukasz Ødegaard", "lukasz odegaard"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("“Why now?”", "why now?”"),
        ("  many   spaces\there ", "many spaces here"),
        ("(1968)", "1968)"),
        ("...", "..."),  # nothing to skip to: kept
        ("", ""),
        ("  ", ""),
        # Nothing but marks once decomposed (a space and a combining accent each): kept,
        # so that only blank text has an empty key.
        ("\u00b4", "\u00b4"),
        ("\u02dd \u00a8", "\u02dd \u00a8"),
        ("ﬁnal", "final"),  # compatibility forms fold too
        ("한국", "한국"),  # composed again after the marks are taken out
    ],
)
def test_sort_key(written: str, key: str) -> None:
    assert sort_key(written) == key


def test_a_sort_key_is_cut_to_its_length() -> None:
    assert len(sort_key("ﷺ" * 100)) == SORT_KEY_LENGTH
    assert sort_key("a" * 500) == "a" * SORT_KEY_LENGTH


def test_rest_text_sorts_agree_on_both_databases(api: TestClient, writer: dict[str, str]) -> None:
    for title in TITLES:
        assert (
            api.post("/api/v1/articles", json={"title": title}, headers=writer).status_code == 201
        )
    preview = bearer(make_key(api.app.state.session_factory, "p", "content:preview"))  # type: ignore[attr-defined]
    up = api.get("/api/v1/articles?sort=title&limit=5&preview=true", headers=preview)
    assert up.status_code == 200, up.text
    titles = [item["title"] for item in up.json()["data"]]
    cursor = up.json()["meta"]["next_cursor"]
    while cursor:
        page = api.get(
            f"/api/v1/articles?sort=title&limit=5&preview=true&cursor={cursor}", headers=preview
        ).json()
        titles += [item["title"] for item in page["data"]]
        cursor = page["meta"]["next_cursor"]
    assert titles == SORTED
    down = api.get("/api/v1/articles?sort=-title&limit=100&preview=true", headers=preview).json()
    assert [item["title"] for item in down["data"]] == SORTED[::-1]


def test_graphql_sorts_people_by_the_same_keys(api: TestClient, writer: dict[str, str]) -> None:
    for name in ("Zoe Zhang", "Ana Ábrego", "ana brown", "Łucja Łoś"):
        assert api.post("/api/v1/people", json={"name": name}, headers=writer).status_code == 201
    query = "{ people(sort: SORT_NAME, first: 10) { edges { node { sortName } } } }"
    answer = api.post("/graphql", json={"query": query})
    assert answer.status_code == 200, answer.text
    names = [e["node"]["sortName"] for e in answer.json()["data"]["people"]["edges"]]
    assert names == ["Ábrego, Ana", "brown, ana", "Łoś, Łucja", "Zhang, Zoe"]


def _keys_agree(session: Session) -> int:
    """How many keys were checked; fails on any key that is not its field's."""
    checked = 0
    for table, keys in SORT_KEYS.items():
        for field, key in keys.items():
            rows = session.execute(text(f"SELECT {field}, {key} FROM {table}")).all()
            for value, stored in rows:
                assert stored == sort_key(value), (table, field, value, stored)
            checked += len(rows)
    return checked


def test_every_write_keeps_the_keys(
    session_factory: sessionmaker[Session], api: TestClient, writer: dict[str, str]
) -> None:
    with session_scope(session_factory) as session:
        create_item(session, "topics", {"name": "Érosion"}, "t")
        create_item(session, "organizations", {"name": "“Ōtani” Institute"}, "t")
        create_item(session, "people", {"name": "Øystein Ås"}, "t")
        create_item(
            session, "events", {"title": "Événement", "starts_at": "2026-01-01T10:00:00Z"}, "t"
        )
        create_item(session, "publications", {"title": "Ünder"}, "t")
        create_item(session, "resources", {"name": "Ōbject"}, "t")
    lines = [
        b'{"type": "article", "data": {"slug": "imported", "title": "\\u00c9t\\u00e9"}}',
        b'{"type": "topic", "data": {"slug": "erosion", "name": "\\u00c9rosion again"}}',
    ]
    with session_scope(session_factory) as session:
        import_records(session, lines)
    # A rename through the API moves the key; a person's sort name too.
    renamed = api.patch("/api/v1/people/oystein-as", json={"name": "Ærling Ås"}, headers=writer)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["sort_name"] == "Ås, Ærling"
    with session_factory() as session:
        assert _keys_agree(session) == 8
        assert session.execute(text("SELECT name_key FROM topic")).scalar() == "erosion again"
        assert session.execute(text("SELECT sort_name_key FROM person")).scalar() == "as, aerling"


def test_a_cursor_from_before_the_keys_is_refused(api: TestClient) -> None:
    """A cursor minted when `sort=title` ordered by the title holds a title, not a key: read
    as a key it would skip or repeat items, so its scope no longer matches (400)."""
    from app.content.queries import _fingerprint

    secret = api.app.state.settings.secret_key  # type: ignore[attr-defined]
    old_scope = "list:" + _fingerprint("articles", "title", False, [], None, None, {}, False)
    cursor = encode_token(secret, old_scope, ["Zhang on kidnapping", 1])
    answer = api.get(f"/api/v1/articles?sort=title&cursor={cursor}")
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_migration_fills_the_keys_of_stored_rows(
    empty_database_url: str, fresh_engine: Engine
) -> None:
    """Migration 3c9e0f6a2d71: rows stored before it get their keys; the types' versions move
    (cached lists' order may change), the items' versions do not."""
    upgrade_to_head(empty_database_url)
    with Session(fresh_engine) as session, session.begin():
        create_item(session, "topics", {"name": "Ébola"}, "t")
        create_item(session, "people", {"name": "Ana Ábrego", "sort_name": "Ábrego, Ana"}, "t")
        create_item(session, "articles", {"title": "“Quoted”"}, "t")
    with fresh_engine.begin() as connection:
        downgrade_connection(connection, "7b2d41c9e5a0")
        versions = dict(
            connection.execute(text("SELECT name, version FROM type_version")).tuples().all()
        )
        item_versions = connection.execute(text("SELECT version FROM person")).scalars().all()
    upgrade_to_head(empty_database_url)
    with Session(fresh_engine) as session:
        assert _keys_agree(session) == 4
        keys = session.execute(text("SELECT name_key, sort_name_key FROM person")).one()
        assert tuple(keys) == ("ana abrego", "abrego, ana")
        assert session.execute(text("SELECT title_key FROM article")).scalar() == "quoted”"
        moved = dict(session.execute(text("SELECT name, version FROM type_version")).tuples().all())
        assert all(moved[t] > versions[t] for t in ("topic", "person", "article")), (
            versions,
            moved,
        )
        assert session.execute(text("SELECT version FROM person")).scalars().all() == item_versions


def test_generated_rows_have_their_keys(session: Session) -> None:
    assert _keys_agree(session) > 100


@pytest.fixture
def session(generated_engine: Engine) -> Session:
    return Session(generated_engine)


@pytest.fixture
def fresh_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def generated_engine(empty_database_url: str, fresh_engine: Engine) -> Engine:
    from app.generate.generator import generate

    upgrade_to_head(empty_database_url)
    generate(fresh_engine, 0.0005, 3)
    return fresh_engine


def _insert_as_before(
    connection: Connection, table: str, slug: str, name: str, **more: str
) -> None:
    """A row inserted as a server of the release before the keys would: without them."""
    values = {"slug": slug, "name": name, **more}
    connection.execute(
        text(
            f"INSERT INTO {table} (created_at, updated_at, version, {', '.join(values)}) "
            f"VALUES (:at, :at, 1, {', '.join(':' + k for k in values)})"
        ).bindparams(bindparam("at", type_=UTCDateTime)),
        {"at": utcnow(), **values},
    )


def test_rows_an_earlier_release_wrote_get_their_keys(fresh_engine: Engine) -> None:
    """During a rolling upgrade a server of the previous release inserts rows without keys
    (""): `dossier serve` and `dossier migrate` give them theirs, and find nothing to do
    after that."""
    from app.models.sort_keys import fill_missing_keys

    with fresh_engine.begin() as connection:
        upgrade_connection(connection)
        _insert_as_before(connection, "person", "old", "Ana Ábrego", sort_name="Ábrego, Ana")
    assert fill_missing_keys(fresh_engine) == 2
    with fresh_engine.connect() as connection:
        keys = connection.execute(text("SELECT name_key, sort_name_key FROM person")).one()
    assert tuple(keys) == ("ana abrego", "abrego, ana")
    assert fill_missing_keys(fresh_engine) == 0


def test_migrate_fills_missing_keys(
    empty_database_url: str, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    upgrade_to_head(empty_database_url)
    with fresh_engine.begin() as connection:
        _insert_as_before(connection, "topic", "old", "Érable")
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with fresh_engine.connect() as connection:
        assert connection.execute(text("SELECT name_key FROM topic")).scalar() == "erable"


def test_only_blank_text_has_an_empty_key() -> None:
    """A valid title such as U+00B4 (a spacing accent) folded to "", which `fill_missing_keys` takes for a row
    an earlier release wrote: every start took the writers' lock for it."""
    import sys

    empty = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if not (0xD800 <= code <= 0xDFFF) and chr(code).strip() and not sort_key(chr(code))
    ]
    assert empty == []


def test_filling_missing_keys_gives_way_to_a_writer(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Best effort: with the writers' lock held (an import running), a start neither waits
    long nor fails; the rows keep their empty keys for the next start."""
    import threading

    from app.db import take_writers_lock
    from app.models import sort_keys

    monkeypatch.setattr(sort_keys, "LOCK_WAIT_S", 0.2)
    with fresh_engine.begin() as connection:
        upgrade_connection(connection)
        _insert_as_before(connection, "topic", "old", "Érable")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with fresh_engine.begin() as connection:
            take_writers_lock(connection)
            connection.execute(text("UPDATE topic SET version = version"))
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        assert sort_keys.fill_missing_keys(fresh_engine) == 0
    finally:
        release.set()
        thread.join()
    assert sort_keys.fill_missing_keys(fresh_engine) == 1


def test_a_blank_name_from_before_writes_refused_one_takes_no_lock(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name left blank before writes refused one folds to an empty key itself: the
    repair finds nothing to set, so no start waits for the writers' lock over it."""
    from app.models import sort_keys

    def no_lock(connection: object) -> None:
        raise AssertionError("took the writers' lock for nothing")

    monkeypatch.setattr("app.db.take_writers_lock", no_lock)
    with fresh_engine.begin() as connection:
        upgrade_connection(connection)
        _insert_as_before(connection, "topic", "blank", "   ")
    assert sort_keys.fill_missing_keys(fresh_engine) == 0
