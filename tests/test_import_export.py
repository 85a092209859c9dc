"""`dossier export` / `dossier import`: NDJSON round trips, idempotence, all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.content.queries import changes
from app.content.types import BY_NAME
from app.content.visibility import Viewer
from app.content.writes import delete_item, upsert_item
from app.db import as_utc, make_engine, make_session_factory, session_scope
from app.main import create_app
from app.migrations import upgrade_to_head
from app.models import Article, AuditEntry, Event, Topic, TypeVersion
from app.transfer import ImportFailed, export_lines, import_records, parse_lines
from tests.admin_helpers import Keys, event_body
from tests.support import make_settings, tagging_mismatches

runner = CliRunner()


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """`use_database(url)`: point the CLI at `url`."""

    def use(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


@pytest.fixture
def second_database(empty_database_url: str) -> str:
    upgrade_to_head(empty_database_url)
    return empty_database_url


def _export(session_factory: sessionmaker[Session]) -> bytes:
    with session_factory() as session:
        return b"".join(export_lines(session))


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def _count_in(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _type_versions(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(select(TypeVersion.name, TypeVersion.version)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_drafts_exported_deleted_not(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as session:
        upsert_item(session, "people", {"slug": "larry-diamond", "name": "Larry Diamond"}, "test")
        upsert_item(
            session,
            "articles",
            {"slug": "a-draft", "title": "Draft", "status": "draft", "authors": ["larry-diamond"]},
            "test",
        )
        gone, _ = upsert_item(
            session,
            "events",
            {"slug": "cancelled-talk", "title": "Gone", "starts_at": "2024-01-01T10:00:00Z"},
            "test",
        )
        delete_item(session, "events", gone, "test")
    lines = [orjson.loads(line) for line in _export(session_factory).splitlines()]
    assert [(line["type"], line["data"]["slug"]) for line in lines] == [
        ("person", "larry-diamond"),
        ("article", "a-draft"),
    ]
    assert lines[1]["data"]["status"] == "draft"
    assert lines[1]["data"]["authors"] == ["larry-diamond"]


def test_round_trip_is_byte_identical(
    demo_app: FastAPI, second_database: str, use_database: object, tmp_path: Path
) -> None:
    exported = _export(demo_app.state.session_factory)  # the demo database: read only
    lines = [orjson.loads(line) for line in exported.splitlines()]
    order = [line["type"] for line in lines]
    assert order == sorted(
        order,
        key=[
            "topic",
            "organization",
            "person",
            "resource",
            "article",
            "quote",
            "event",
            "publication",
        ].index,
    )
    assert len(lines) > 80
    assert any(line["data"].get("related") for line in lines)  # related items point further down

    path = tmp_path / "content.ndjson"
    path.write_bytes(exported)
    use_database(second_database)  # type: ignore[operator]
    first = runner.invoke(cli, ["import", str(path)])
    assert first.exit_code == 0, first.output
    assert f"Imported {len(lines)} records" in first.output
    again = runner.invoke(cli, ["export"])
    assert again.exit_code == 0
    assert again.stdout_bytes == exported

    audit = _count(second_database, AuditEntry)
    versions = _type_versions(second_database)
    repeat = runner.invoke(cli, ["import", str(path)])
    assert repeat.exit_code == 0, repeat.output
    assert "0 created or changed" in repeat.output
    assert _count(second_database, AuditEntry) == audit  # idempotent: nothing was written
    # ... not even links or search rows: no type's version moved, so no cache was purged
    assert _type_versions(second_database) == versions
    out = tmp_path / "again.ndjson"
    assert runner.invoke(cli, ["export", "--output", str(out)]).exit_code == 0
    assert out.read_bytes() == exported


def test_import_updates_by_slug(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    with session_scope(session_factory) as session:
        upsert_item(
            session,
            "topics",
            {"slug": "kidnapping", "name": "Old name", "description": "Old"},
            "test",
        )
    path = tmp_path / "in.ndjson"
    path.write_text('{"type": "topic", "data": {"slug": "kidnapping", "name": "Kidnapping"}}\n')
    use_database(database_url)  # type: ignore[operator]
    assert runner.invoke(cli, ["import", str(path)]).exit_code == 0
    with session_factory() as session:
        topic = session.scalars(select(Topic)).one()
        assert (topic.name, topic.description) == ("Kidnapping", None)  # a full replacement


def test_a_file_imports_twice_with_a_published_item_that_gives_no_time(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    """A line's absent fields are null in the replacement, but a published item with no
    `published_at` is published at its first import and keeps that time: a second import
    of the same file changes nothing (it re-dated the item to the top of every feed)."""
    path = tmp_path / "in.ndjson"
    path.write_text(
        '{"type": "article", "data": {"slug": "dated-now", "title": "Now", "status": "published"}}\n'
    )
    use_database(database_url)  # type: ignore[operator]
    seen = []
    for expected in ("1 created or changed", "0 created or changed"):
        result = runner.invoke(cli, ["import", str(path)])
        assert result.exit_code == 0, result.output
        assert expected in result.output
        with session_factory() as session:
            article = session.scalars(select(Article)).one()
            seen.append((article.status, article.published_at, article.version))
    assert seen[0] == seen[1]
    assert seen[0][1] is not None


def test_importing_a_deleted_item_brings_it_back_for_partners(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    """Restored by an import of its old line, an item is public again with a new version
    and time, so `/changes` shows it again (its last entry there was `deleted`)."""
    with session_scope(session_factory) as session:
        upsert_item(session, "topics", {"slug": "back", "name": "Back"}, "test")
    exported = _export(session_factory)
    with session_scope(session_factory) as session:
        delete_item(session, "topics", session.scalars(select(Topic)).one(), "test")
    with session_factory() as session:
        gone = session.scalars(select(Topic)).one()
        gone_version, gone_at = gone.version, gone.updated_at
    path = tmp_path / "in.ndjson"
    path.write_bytes(exported)
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created or changed" in result.output
    with session_factory() as session:
        topic = session.scalars(select(Topic)).one()
        assert topic.deleted_at is None
        assert topic.version == gone_version + 1
        assert topic.updated_at > gone_at
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None
        assert (last.action, last.entity_id) == ("update", topic.id)
        page = changes(session, None, 10, Viewer(), "secret")
        assert [(c.action, c.slug) for c in page.items] == [("updated", "back")]


def test_forward_references_resolve(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    records = [
        {"type": "organization", "data": {"slug": "cddrl", "name": "CDDRL", "parent": "fsi"}},
        {"type": "organization", "data": {"slug": "fsi", "name": "FSI"}},
        {
            "type": "article",
            "data": {
                "slug": "one",
                "title": "One",
                "related": [{"type": "article", "slug": "two"}],
            },
        },
        {
            "type": "article",
            "data": {
                "slug": "two",
                "title": "Two",
                "related": [{"type": "article", "slug": "one"}, {"type": "quote", "slug": "q"}],
            },
        },
        {"type": "quote", "data": {"slug": "q", "text": "Q", "article": "two"}},
    ]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    exported = [orjson.loads(line) for line in _export(session_factory).splitlines()]
    by_slug = {line["data"]["slug"]: line["data"] for line in exported}
    assert by_slug["cddrl"]["parent"] == "fsi"
    assert by_slug["one"]["related"] == [{"type": "article", "slug": "two"}]
    assert by_slug["two"]["related"] == [
        {"type": "article", "slug": "one"},
        {"type": "quote", "slug": "q"},
    ]
    assert [line["data"]["slug"] for line in exported][:2] == ["fsi", "cddrl"]  # parents first


def test_invalid_lines_are_all_reported(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text(
        "\n".join(
            [
                '{"type": "topic", "data": {"slug": "fine", "name": "Fine"}}',
                '{"type": "topic", "data": {"slug": "broken", "name": ',
                '{"type": "widget", "data": {"slug": "w"}}',
                '{"type": "event", "data": {"slug": "e", "title": "No start"}}',
                '{"type": "topic", "data": {"name": "No slug"}}',
                "",
                '{"type": "topic", "data": {"slug": "fine", "name": "Twice"}}',
                '["not", "an", "object"]',
                '{"type": "topic", "created_at": "yesterday", "data": {"slug": "t9", "name": "T"}}',
                '{"type": "topic", "created_at": 5, "data": {"slug": "t10", "name": "T"}}',
                '{"type": "topic", "updated_at": "2020-01-01", "data": {"slug": "t11", "name": "T"}}',
                '{"type": "topic", "id": "evt_3", "data": {"slug": "t12", "name": "T"}}',
                '{"type": "topic", "id": 3, "data": {"slug": "t13", "name": "T"}}',
            ]
        )
        + "\n"
    )
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    for expected in (
        "line 2: not valid JSON",
        "line 3: unknown type 'widget'",
        "line 4: event 'e'",
        "starts_at",
        "line 5: data.slug is required",
        "line 7: topic 'fine' is already on line 1",
        "line 8:",
        "line 9: created_at must be ISO 8601 text",
        "line 10: created_at must be ISO 8601 text",
        "line 11: expected an object",
        "line 12: id 'evt_3' is not a topic id (top_12, say)",
        "line 13: id '3' is not a topic id",
    ):
        assert expected in result.output, expected
    assert "line 1:" not in result.output
    assert "Nothing imported" in result.output
    assert _count(database_url, Topic) == 0


def test_import_is_all_or_nothing(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    path = tmp_path / "refs.ndjson"
    path.write_text(
        '{"type": "topic", "data": {"slug": "kidnapping", "name": "Kidnapping"}}\n'
        '{"type": "article", "data": {"slug": "a", "title": "A", "topics": ["kidnapping"]}}\n'
        '{"type": "article", "data": {"slug": "b", "title": "B", "authors": ["ghost-writer"]}}\n'
    )
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    assert "line 3: article 'b'" in result.output
    assert "ghost-writer" in result.output
    assert (
        _count(database_url, Topic),
        _count(database_url, Article),
        _count(database_url, AuditEntry),
    ) == (0, 0, 0)


def test_every_line_the_database_refuses_is_reported(
    session_factory: sessionmaker[Session], database_url: str, use_database: object, tmp_path: Path
) -> None:
    """Lines that parse can still be refused once written (an unknown reference, a cycle).
    The first such line stopped the import, and the others showed up one run at a time;
    now every one is named, in line order, and still nothing is written."""
    with session_scope(session_factory) as session:
        upsert_item(session, "topics", {"slug": "kidnapping", "name": "Kidnapping"}, "test")
    audit = _count(database_url, AuditEntry)
    path = tmp_path / "refused.ndjson"
    path.write_text(
        '{"type": "topic", "data": {"slug": "kidnapping", "name": "Renamed"}}\n'
        '{"type": "organization", "data": {"slug": "loop", "name": "Loop", "parent": "loop"}}\n'
        '{"type": "article", "data": {"slug": "a", "title": "A", "topics": ["kidnaping"]}}\n'
        '{"type": "article", "data": {"slug": "fine", "title": "Fine"}}\n'
        '{"type": "article", "data": {"slug": "b", "title": "B", "authors": ["ghost-writer"]}}\n'
    )
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    reported = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in reported] == ["line 2", "line 3", "line 5"]
    for expected in ("own ancestor", "unknown topic 'kidnaping'", "unknown person 'ghost-writer'"):
        assert expected in result.output, expected
    assert "Nothing imported: 3 error(s)" in result.output
    with session_factory() as session:
        assert session.scalars(select(Topic.name)).all() == ["Kidnapping"]
    assert (_count(database_url, Article), _count(database_url, AuditEntry)) == (0, audit)


def test_import_missing_file(use_database: object, database_url: str, tmp_path: Path) -> None:
    use_database(database_url)  # type: ignore[operator]
    result = runner.invoke(cli, ["import", str(tmp_path / "nope.ndjson")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_an_export_that_fails_halfway_leaves_the_old_file(
    session_factory: sessionmaker[Session],
    database_url: str,
    use_database: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file is written beside the target and renamed when whole: a broken export
    must not leave a shorter file that imports as if it were complete."""
    import app.transfer

    with session_scope(session_factory) as session:
        for n in range(3):
            upsert_item(session, "topics", {"slug": f"t{n}", "name": f"T{n}"}, "test")
    use_database(database_url)  # type: ignore[operator]
    target = tmp_path / "out.ndjson"
    target.write_bytes(b"previous export\n")
    real = app.transfer.export_lines

    def breaks(session: Session) -> Iterator[bytes]:
        lines = real(session)
        yield next(lines)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(app.transfer, "export_lines", breaks)
    result = runner.invoke(cli, ["export", "-o", str(target)])
    assert result.exit_code == 1
    assert target.read_bytes() == b"previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ndjson"]
    monkeypatch.setattr(app.transfer, "export_lines", real)
    assert runner.invoke(cli, ["export", "-o", str(target)]).exit_code == 0
    assert target.read_bytes().count(b"\n") == 3


def test_an_import_dates_its_changes_when_it_ends(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/api/v1/changes` lists a change once it is CHANGES_SETTLE old: a long import whose
    rows carried the times of their lines let a partner's token pass them before they were
    committed (on a scheduled item going live meanwhile). Its changes now carry one time,
    read as it ends."""
    from datetime import UTC, datetime

    from app.content import writes
    from app.db import utcnow

    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(writes, "utcnow", lambda: long_ago)  # each line "processed" long ago
    lines = [
        b'{"type": "topic", "data": {"slug": "late", "name": "Late"}}',
        b'{"type": "article", "data": {"slug": "late-news", "title": "Late news",'
        b' "status": "published", "published_at": "2024-01-01T00:00:00Z", "topics": ["late"]}}',
    ]
    before = utcnow()
    with session_scope(session_factory) as session:
        import_records(session, lines)
    with session_factory() as session:
        topic = session.scalars(select(Topic)).one()
        article = session.scalars(select(Article)).one()
        stamps = {topic.updated_at, article.updated_at}
    assert len(stamps) == 1
    assert min(stamps).astimezone(UTC) >= before


def test_a_restored_article_no_longer_counts_as_having_left(
    session_factory: sessionmaker[Session],
) -> None:
    """Restored unchanged (a new version, nothing else), a published article is public
    again: the marks of its exit (`left_public_at`, `public_slug`) go."""
    data = {
        "slug": "back",
        "title": "Back",
        "status": "published",
        "published_at": "2024-01-01T00:00:00Z",
    }
    with session_scope(session_factory) as session:
        row, _ = upsert_item(session, "articles", dict(data), "t")
    with session_scope(session_factory) as session:
        delete_item(session, "articles", session.get(Article, row.id), "t")
    with session_scope(session_factory) as session:
        assert session.get(Article, row.id).left_public_at is not None
        _, changed = upsert_item(session, "articles", dict(data), "t")
        assert changed
    with session_factory() as session:
        article = session.get(Article, row.id)
        assert (article.deleted_at, article.left_public_at, article.public_slug) == (
            None,
            None,
            None,
        )


def _link_to_items_to_delete(client: TestClient, writer: dict[str, str]) -> dict[str, str]:
    """Items linked, by every kind of relation, to items about to be deleted (between two
    live links, where the relation is a list); returns those, {collection: slug}."""
    doomed = {
        "topics": {"name": "Gone topic", "slug": "gone-topic"},
        "organizations": {"name": "Gone org", "slug": "gone-org"},
        "people": {"name": "Gone person", "slug": "gone-person"},
        "resources": {"name": "Gone help", "slug": "gone-help"},
        "articles": {"title": "Gone story", "slug": "gone-story"},
    }
    live = {
        "topics": [{"name": "Kept topic", "slug": "kept-topic"}],
        "organizations": [{"name": "Kept org", "slug": "kept-org"}],
        "people": [{"name": "First", "slug": "first"}, {"name": "Last", "slug": "last"}],
        "resources": [{"name": "Kept help", "slug": "kept-help"}],
    }
    topics = ["kept-topic", "gone-topic"]
    authors = ["first", "gone-person", "last"]
    linked = {
        "organizations": {"slug": "child", "name": "Child", "parent": "gone-org", "topics": topics},
        "people": {
            "slug": "kept",
            "name": "Kept",
            "affiliations": [
                {"organization": "kept-org", "role": "Fellow", "end_year": 2020},
                {"organization": "gone-org", "role": "Fellow"},
                {"organization": "kept-org", "role": "Director"},
            ],
            "topics": topics,
        },
        "articles": {
            "slug": "story",
            "title": "Story",
            "authors": authors,
            "resources": ["kept-help", "gone-help"],
            "related": [
                {"type": "article", "slug": "gone-story"},
                {"type": "resource", "slug": "kept-help"},
            ],
            "topics": topics,
        },
        "quotes": {
            "slug": "said",
            "text": "Said",
            "speaker": "gone-person",
            "article": "gone-story",
        },
        "events": event_body(
            slug="talk",
            participants=[
                {"person": "first", "role": "speaker"},
                {"person": "gone-person", "role": "speaker"},
                {"person": "gone-person", "role": "moderator", "title": "Chair"},
                {"person": "last", "role": "host"},
            ],
            sponsors=["kept-org", "gone-org"],
            topics=topics,
        ),
        "publications": {"slug": "paper", "title": "Paper", "authors": authors, "topics": topics},
        "resources": {"slug": "help", "name": "Help", "topics": ["gone-topic"]},
    }
    for collection, body in doomed.items():
        for item in (*live.get(collection, []), body):
            created = client.post(f"/api/v1/{collection}", json=item, headers=writer)
            assert created.status_code == 201, created.text
    for collection, body in linked.items():
        created = client.post(f"/api/v1/{collection}", json=body, headers=writer)
        assert created.status_code == 201, created.text
    return {collection: body["slug"] for collection, body in doomed.items()}


def _lines_by_slug(session_factory: sessionmaker[Session]) -> dict[str, bytes]:
    with session_factory() as session:
        return {orjson.loads(line)["data"]["slug"]: line for line in export_lines(session)}


def _untitled(line: bytes) -> dict[str, object]:
    """A line's data without its title (or name, or text)."""
    record = orjson.loads(line)
    data: dict[str, object] = record["data"]
    del data[BY_NAME[record["type"]].title_field]
    return data


def test_an_import_keeps_the_links_its_lines_cannot_name(
    client: TestClient,
    writer: dict[str, str],
    session_factory: sessionmaker[Session],
    second_database: str,
) -> None:
    """An exported line is what an editor sees: links to deleted items are not in it.
    Imported with a field changed (an edited file, an older export), a line replaced every
    relation of its item, so those links were dropped: restoring the deleted items found
    them gone, and nothing had said so. A line now replaces the links it can name and keeps
    the others, in their places. Into an empty database, the file is what was visible."""
    doomed = _link_to_items_to_delete(client, writer)
    whole = _lines_by_slug(session_factory)
    for collection, slug in doomed.items():
        assert client.delete(f"/api/v1/{collection}/{slug}", headers=writer).status_code == 204
    exported = _lines_by_slug(session_factory)
    assert set(exported) == set(whole) - set(doomed.values())

    audit = _count_in(session_factory, AuditEntry)
    with session_scope(session_factory) as session:  # the same file again: nothing to do
        assert import_records(session, list(exported.values())).changed == 0
    assert _count_in(session_factory, AuditEntry) == audit
    edited = []
    for line in exported.values():
        record = orjson.loads(line)
        record["data"][BY_NAME[record["type"]].title_field] += " (edited)"
        edited.append(orjson.dumps(record))
    with session_scope(session_factory) as session:
        assert import_records(session, edited).changed == len(edited)
    # What is visible is the file, edits included, each a version later.
    after = [orjson.loads(line) for line in _lines_by_slug(session_factory).values()]
    assert [record.pop("version") for record in after] == [
        orjson.loads(line)["version"] + 1 for line in edited
    ]
    assert after == [
        {k: v for k, v in orjson.loads(line).items() if k != "version"} for line in edited
    ]

    with session_scope(session_factory) as session:  # the deleted items come back
        import_records(session, [whole[slug] for slug in doomed.values()])
    restored = _lines_by_slug(session_factory)
    for slug, line in whole.items():
        if slug not in doomed.values():  # as before, but for the edits
            assert _untitled(restored[slug]) == _untitled(line), slug
    with session_factory() as session:  # kept taggings hold their items' visibility
        assert tagging_mismatches(session) == []

    engine = make_engine(second_database)  # into an empty database: what was visible
    try:
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, list(exported.values()))
        with make_session_factory(engine)() as session:
            assert b"".join(export_lines(session)) == b"".join(exported.values())
    finally:
        engine.dispose()


def test_an_export_of_rich_text_imports_as_itself(
    session_factory: sessionmaker[Session], database_url: str
) -> None:
    """A stored body is exported as it is and sanitized again on import: a body that
    sanitizing changed again (a code block's blank first line, a heading left inside a
    heading) was written again by each import of the unchanged file, with a new version."""
    body = "<pre>\n\nquoted code</pre><h2><span><h3>Sub</h3></span></h2>"
    with session_scope(session_factory) as session:
        upsert_item(session, "articles", {"slug": "code", "title": "Code", "body": body}, "t")
    exported = _export(session_factory)
    assert orjson.loads(exported)["data"]["body"].startswith("<pre>\n\nquoted code</pre>")
    audit, versions = _count(database_url, AuditEntry), _type_versions(database_url)
    with session_scope(session_factory) as session:
        assert import_records(session, exported.splitlines()).changed == 0
    assert (_count(database_url, AuditEntry), _type_versions(database_url)) == (audit, versions)
    assert _export(session_factory) == exported


def test_an_import_bumps_the_versions_once_at_its_end(
    demo_app: FastAPI, second_database: str
) -> None:
    """PostgreSQL: the triggers' version bumps are deferred to the import's end (migration
    e26ebf82ba8a). Bumped a dozen times a line, the same rows made each line slower than
    the last (PostgreSQL keeps every version of a row until the commit): 10k items took
    5.5 minutes. Every type's version still moves, in the import's own transaction."""
    if make_url(second_database).get_backend_name() != "postgresql":
        pytest.skip("SQLite updates a row in place")
    exported = _export(demo_app.state.session_factory)
    before = _type_versions(second_database)
    engine = make_engine(second_database)
    try:
        with Session(engine) as session, session.begin():
            result = import_records(session, exported.splitlines())
            updates: dict[str, int] = dict(
                session.execute(
                    text(
                        "SELECT relname, n_tup_upd FROM pg_stat_xact_user_tables"
                        " WHERE relname IN ('content_version', 'type_version')"
                    )
                ).all()
            )
            # Later writes in the same transaction bump as ever.
            session.execute(text("UPDATE topic SET name = name || '.' WHERE slug = 'kidnapping'"))
            after_write = session.scalar(
                text(
                    "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'type_version'"
                )
            )
    finally:
        engine.dispose()
    assert result.changed == len(exported.splitlines())
    assert updates == {"content_version": 1, "type_version": len(before)}
    assert after_write == len(before) + 1
    after = _type_versions(second_database)
    assert all(after[name] > before[name] for name in before), (before, after)


def test_an_import_keeps_when_items_were_created_where_they_came_from(
    session_factory: sessionmaker[Session],
) -> None:
    """A line's `created_at` (written by `dossier export`) dates an item the import creates;
    an item that exists keeps its own; a line without one (an older file) is dated now."""
    lines = [
        b'{"type": "topic", "created_at": "2019-05-01T08:30:00+00:00",'
        b' "data": {"slug": "old", "name": "Old"}}',
        b'{"type": "topic", "data": {"slug": "undated", "name": "Undated"}}',
        b'{"type": "topic", "created_at": "2018-01-01T00:00:00Z",'
        b' "data": {"slug": "kept", "name": "Kept again"}}',
    ]
    with session_scope(session_factory) as session:
        kept = upsert_item(session, "topics", {"slug": "kept", "name": "Kept"}, "t")[0]
        kept_at = as_utc(kept.created_at)
    with session_scope(session_factory) as session:
        import_records(session, lines)
    with session_scope(session_factory) as session:
        created = {t.slug: as_utc(t.created_at) for t in session.scalars(select(Topic))}
    exported = [orjson.loads(line) for line in _export(session_factory).splitlines()]
    assert created["old"] == datetime(2019, 5, 1, 8, 30, tzinfo=UTC)
    assert created["undated"] > kept_at
    assert created["kept"] == kept_at
    assert {line["data"]["slug"]: line["created_at"] for line in exported}["old"] == (
        "2019-05-01T08:30:00+00:00"
    )


def test_a_byte_order_mark_before_the_first_line_is_not_content(
    session_factory: sessionmaker[Session],
) -> None:
    """A file saved as "UTF-8 with BOM" (Windows editors) imports; the mark was "line 1:
    not valid JSON". A mark anywhere else is still an error."""
    first = b'\xef\xbb\xbf{"type": "topic", "data": {"slug": "bom", "name": "Bom"}}'
    with session_scope(session_factory) as session:
        assert import_records(session, [first]).changed == 1
    later = first.replace(b"bom", b"later")
    with session_scope(session_factory) as session, pytest.raises(ImportFailed) as failed:
        import_records(session, [b"", later])
    assert failed.value.errors[0].startswith("line 2: not valid JSON")


def test_a_lines_created_at_is_bounded_as_every_written_time(
    session_factory: sessionmaker[Session],
) -> None:
    """A line's `created_at` is a time written to the item, refused as a POST refuses
    `published_at`: with an offset, between the years 1000 and 2999 in UTC. The import
    took any year from 2 to 9998 as written (before its conversion to UTC), stored
    0001-12-31 and 9999-01-01 as they are once converted, and the export of that database
    was then refused by every import ("created_at is out of range")."""
    times = [
        "0002-01-01T00:00:00+14:00",  # year 1 in UTC
        "9998-12-31T23:59:59-12:00",  # year 9999 in UTC
        "0999-12-31T00:00:00Z",
        "3000-01-01T00:00:00Z",
        "2020-01-01T00:00:00",  # no offset: an hour it cannot tell
        "2020-01-01",
        # In the future: created after its export? It led every created_at sort.
        "2999-12-31T00:00:00Z",
        (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    ]
    lines = [
        orjson.dumps({"type": "topic", "created_at": at, "data": {"slug": f"t{i}", "name": "T"}})
        for i, at in enumerate(times, start=1)
    ]
    with session_scope(session_factory) as session, pytest.raises(ImportFailed) as failed:
        import_records(session, lines)
    assert [error.split(":")[0] for error in failed.value.errors] == [
        f"line {i}" for i in range(1, len(times) + 1)
    ]
    assert "created_at" in failed.value.errors[0]
    assert "is in the future" in failed.value.errors[-1]
    assert _count_in(session_factory, Topic) == 0
    # What an import takes, its export gives back, and that imports again.
    edge = b'{"type": "topic", "created_at": "1000-01-01T00:00:00+00:00",'
    with session_scope(session_factory) as session:
        import_records(session, [edge + b' "data": {"slug": "edge", "name": "Edge"}}'])
    exported = _export(session_factory)
    with session_scope(session_factory) as session:
        assert import_records(session, exported.splitlines()).changed == 0


def test_a_moved_instance_shows_items_in_the_same_order(
    client: TestClient,
    writer: dict[str, str],
    session_factory: sessionmaker[Session],
    second_database: str,
) -> None:
    """Items that tie on what orders them (an article's quotes, all at position 0; resources
    at the same position; publications of one year) come in the order they were created
    (ids). The export listed each type by slug, so an instance made from it created them in
    slug order: an article page moved to a new instance showed its quotes alphabetically."""
    past = {"status": "published", "published_at": "2024-01-01T00:00:00Z"}
    bodies = [
        ("articles", {"slug": "story", "title": "Story", **past}),
        *(("quotes", {"slug": s, "text": s, "article": "story", **past}) for s in ("zu", "al")),
        *(("resources", {"slug": s, "name": s, **past}) for s in ("zz-help", "aa-help")),
        *(("publications", {"slug": s, "title": s, "year": 2020, **past}) for s in ("zp", "ap")),
    ]
    for collection, body in bodies:
        assert client.post(f"/api/v1/{collection}", json=body, headers=writer).status_code == 201

    def orders(api: TestClient) -> list[list[str]]:
        lists = [api.get(f"/api/v1/{c}").json()["data"] for c in ("quotes", "resources")]
        lists.append(api.get("/api/v1/publications").json()["data"])
        lists.append(api.get("/api/v1/articles/story").json()["quotes"])
        return [[item["slug"] for item in items] for items in lists]

    exported = _export(session_factory)
    engine = make_engine(second_database)
    try:
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, exported.splitlines())
    finally:
        engine.dispose()
    moved = create_app(make_settings(second_database))
    try:
        with TestClient(moved) as other:
            assert orders(other) == orders(client)
            assert orders(client)[3] == ["zu", "al"]
        with moved.state.session_factory() as session:  # and it exports the same file
            assert b"".join(export_lines(session)) == exported
    finally:
        moved.state.engine.dispose()


def test_a_moved_instance_keeps_the_items_ids(
    client: TestClient,
    writer: dict[str, str],
    session_factory: sessionmaker[Session],
    second_database: str,
) -> None:
    """An export leaves deleted items out, and an instance made from it numbered the items
    afresh: the events after a deleted one moved down, and a calendar UID (`evt_2@…`),
    feed GUID and citation id passed to another item (RFC 5545: a UID persists). Lines
    carry the item's id, kept where free, in whatever order the file's lines come (so the
    quotes at one place keep their order too); a POST on the new instance then gets an id
    past them (PostgreSQL's sequences moved on)."""
    past = {"status": "published", "published_at": "2024-01-01T00:00:00Z"}
    for slug in ("first-talk", "gone-talk", "third-talk", "fourth-talk"):
        body = {"slug": slug, "title": slug, "starts_at": "2026-12-01T10:00:00Z", **past}
        assert client.post("/api/v1/events", json=body, headers=writer).status_code == 201
    assert (
        client.post(
            "/api/v1/articles", json={"slug": "story", "title": "S", **past}, headers=writer
        ).status_code
        == 201
    )
    for slug in ("zu", "al"):
        quote = {"slug": slug, "text": slug, "article": "story", **past}
        assert client.post("/api/v1/quotes", json=quote, headers=writer).status_code == 201
    assert client.delete("/api/v1/events/gone-talk", headers=writer).status_code == 204
    ids = {e["slug"]: e["id"] for e in client.get("/api/v1/events").json()["data"]}
    calendar = _uids(client.get("/calendar/events.ics").text)
    assert len(calendar) == 3
    exported = _export(session_factory)
    lines = exported.splitlines()
    assert [orjson.loads(line)["id"] for line in lines if b'"event"' in line] == [
        ids["first-talk"],
        ids["third-talk"],
        ids["fourth-talk"],
    ]
    engine = make_engine(second_database)
    try:
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, list(reversed(lines)))
    finally:
        engine.dispose()
    moved = create_app(make_settings(second_database))
    try:
        with TestClient(moved) as other:
            moved_ids = {e["slug"]: e["id"] for e in other.get("/api/v1/events").json()["data"]}
            assert moved_ids == ids
            assert _uids(other.get("/calendar/events.ics").text) == calendar
            quotes = other.get("/api/v1/articles/story").json()["quotes"]
            assert [q["slug"] for q in quotes] == ["zu", "al"]
            keys = Keys(moved.state.session_factory)
            body = {"title": "New talk", "starts_at": "2026-12-02T10:00:00Z"}
            created = other.post("/api/v1/events", json=body, headers=keys.writer)
            assert created.status_code == 201, created.text
            assert created.json()["id"] not in ids.values()
    finally:
        moved.state.engine.dispose()


def _uids(calendar: str) -> list[tuple[str, str]]:
    """Each event's (UID, SUMMARY) in a calendar."""
    lines = calendar.replace("\r\n ", "").splitlines()
    uids = [line.removeprefix("UID:") for line in lines if line.startswith("UID:")]
    titles = [line.removeprefix("SUMMARY:") for line in lines if line.startswith("SUMMARY:")]
    return sorted(zip(uids, titles, strict=True))


def test_kept_ids_are_never_given_again(session_factory: sessionmaker[Session]) -> None:
    """An item created with its line's id took no number from PostgreSQL's sequence: a
    later line without an id (or whose id is taken) was given that same number, a
    duplicate key that failed the import again and again. The sequence moves past each
    kept id as it is kept."""
    lines = [
        '{"type": "topic", "id": "top_2", "data": {"slug": "second", "name": "Second"}}',
        '{"type": "topic", "id": "top_1", "data": {"slug": "first", "name": "First"}}',
        '{"type": "topic", "data": {"slug": "no-id", "name": "No id"}}',
        '{"type": "topic", "id": "top_1", "data": {"slug": "taken", "name": "Taken"}}',
    ]
    with session_scope(session_factory) as session:
        import_records(session, lines)
    with session_scope(session_factory) as session:
        ids = dict(session.execute(select(Topic.slug, Topic.id)).tuples().all())
        more = [
            '{"type": "topic", "data": {"slug": "later", "name": "Later"}}',
            '{"type": "topic", "id": "top_40", "data": {"slug": "forty", "name": "Forty"}}',
            '{"type": "topic", "data": {"slug": "after", "name": "After"}}',
        ]
        import_records(session, more)
    with session_scope(session_factory) as session:
        after = dict(session.execute(select(Topic.slug, Topic.id)).tuples().all())
    assert (ids["second"], ids["first"]) == (2, 1)
    assert {ids["no-id"], ids["taken"]}.isdisjoint({1, 2})
    assert len(set(after.values())) == len(after) == 7
    assert after["forty"] == 40
    assert after["after"] > 40


def test_a_moved_events_calendar_sequence_never_goes_back(
    client: TestClient,
    writer: dict[str, str],
    session_factory: sessionmaker[Session],
    second_database: str,
) -> None:
    """An export carries each item's version, and an import raises the item's to it: an
    event edited twice was SEQUENCE:2 in calendars, and SEQUENCE:0 once moved to a new
    instance (same UID), which calendar clients may read as stale (RFC 5545 §3.8.7.4)."""
    event = {
        "title": "Moved",
        "starts_at": "2030-01-01T10:00:00Z",
        "status": "published",
        "published_at": "2026-01-01T00:00:00Z",
    }
    assert client.post("/api/v1/events", json=event, headers=writer).status_code == 201
    for title in ("Moved twice", "Moved thrice"):
        patch = client.patch("/api/v1/events/moved", json={"title": title}, headers=writer)
        assert patch.status_code == 200
    assert "SEQUENCE:2" in client.get("/calendar/events.ics").text
    lines = _export(session_factory).splitlines()
    assert orjson.loads(lines[0])["version"] == 3
    engine = make_engine(second_database)
    try:
        # Moved before exports carried versions: the event starts again at version 1...
        without = [
            orjson.dumps({k: v for k, v in orjson.loads(line).items() if k != "version"})
            for line in lines
        ]
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, without)
        # ...and a later import of the file with versions raises it: a change like any
        # other (counted, restamped, purged), though nothing else about it changed.
        with session_scope(make_session_factory(engine)) as session:
            assert import_records(session, lines).changed == 1
        with make_session_factory(engine)() as session:  # (export opens its snapshot first)
            assert b"".join(export_lines(session)) == b"".join(line + b"\n" for line in lines)
        with make_session_factory(engine)() as session:
            assert session.scalars(select(Event.version)).one() == 3
        # A line's version lower than the item's changes nothing; the next edit goes on.
        lower = orjson.loads(lines[0]) | {"version": 1}
        lower["data"]["title"] = "Edited in the file"
        with session_scope(make_session_factory(engine)) as session:
            import_records(session, [orjson.dumps(lower)])
        with make_session_factory(engine)() as session:
            assert session.scalars(select(Event.version)).one() == 4
    finally:
        engine.dispose()


@pytest.mark.parametrize("version", [0, -1, True, 1.5, "3", 2**31])
def test_a_line_with_a_bad_version_is_refused(version: object) -> None:
    line = orjson.dumps({"type": "topic", "version": version, "data": {"slug": "t", "name": "T"}})
    with pytest.raises(ImportFailed) as failed:
        parse_lines([line])
    assert "version" in str(failed.value.errors[0])
