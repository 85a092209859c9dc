"""The `dossier` command: migrate, demo, serve (without starting a server), schema."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from app.migrations import current_revision, is_at_head
from app.models import Topic

runner = CliRunner()


@pytest.fixture
def cli_database(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL points the CLI at a fresh, unmigrated database."""
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def topic_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Topic)) or 0)
    finally:
        engine.dispose()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("migrate", "demo", "serve", "schema"):
        assert command in result.output


def test_migrate(cli_database: str) -> None:
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    engine = make_engine(cli_database)
    try:
        assert is_at_head(engine)
    finally:
        engine.dispose()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0  # nothing to do is fine


def test_demo_is_idempotent(cli_database: str) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert topic_count(cli_database) > 0
    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0, second.output
    assert "0 record(s) changed" in second.output


@pytest.mark.parametrize("revision", [None, "8b3e5d1f7c42"], ids=["unmigrated", "behind"])
def test_demo_on_a_database_without_the_schema_says_to_migrate(
    cli_database: str, revision: str | None
) -> None:
    """Before, on PostgreSQL, `dossier demo` on a database never migrated, or behind this
    release, ended in a traceback (an undefined table or column is a ProgrammingError)."""
    from app.migrations import upgrade_connection

    if revision is not None:
        engine = make_engine(cli_database)
        with engine.begin() as connection:
            upgrade_connection(connection, revision)
        engine.dispose()
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not an error escaping
    assert "`dossier migrate`" in result.output
    assert "Traceback" not in result.output


def test_commands_refuse_a_database_one_migration_behind(cli_database: str, tmp_path: Any) -> None:
    """A database one migration behind this release has every table: `keys`, `import` and
    `export` ran on it (a missing column the only way to fail, midway, or a schema they
    did not know written to silently). Each refuses it, naming both migrations."""
    from alembic.script import ScriptDirectory

    from app.migrations import alembic_config, head_revision, upgrade_connection

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision())
    behind = previous.down_revision
    assert isinstance(behind, str)
    engine = make_engine(cli_database)
    with engine.begin() as connection:
        upgrade_connection(connection, behind)
    engine.dispose()
    line = tmp_path / "one.ndjson"
    line.write_text('{"type": "topic", "data": {"slug": "t", "name": "T"}}\n')
    for command in (["keys", "list"], ["export"], ["import", str(line)], ["demo"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1, (command, result.output)
        assert f"is at migration {behind}; this release needs {head_revision()}" in result.output
        assert "Run `dossier migrate` first." in result.output
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["keys", "list"]).exit_code == 0


def test_serve_migrates_loads_demo_and_runs_the_factory(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append((args, kwargs)))

    result = runner.invoke(cli, ["serve", "--port", "8123", "--workers", "2"])

    assert result.exit_code == 0, result.output
    assert topic_count(cli_database) > 0
    [(args, kwargs)] = calls
    assert args == ("app.main:create_app",)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8123, 2)

    # A database that already has content is served as it is.
    before = topic_count(cli_database)
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    assert "demo dataset" not in runner.invoke(cli, ["serve"]).output
    assert topic_count(cli_database) == before


def test_serve_gives_its_workers_one_metrics_directory(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several workers keep their metrics in one directory (summed by any worker's
    `/metrics`), empty at start and removed at the end; one worker needs none."""
    import os

    from app.http.metrics import MULTIPROCESS_DIR

    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    seen: list[str | None] = []

    def run(*args: Any, **kwargs: Any) -> None:
        directory = os.environ.get(MULTIPROCESS_DIR)
        seen.append(directory)
        if directory is not None:
            assert os.listdir(directory) == []

    monkeypatch.setattr("uvicorn.run", run)
    assert runner.invoke(cli, ["serve", "--workers", "2"]).exit_code == 0
    assert runner.invoke(cli, ["serve", "--workers", "1"]).exit_code == 0
    directory, single = seen
    assert directory is not None
    assert single is None
    assert MULTIPROCESS_DIR not in os.environ
    assert not os.path.exists(directory)


def test_serve_without_migrating_refuses_a_database_behind_this_release(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    get_settings.cache_clear()
    engine = make_engine(cli_database)
    engine.connect().close()  # there, empty (a SQLite file too)
    engine.dispose()

    refused = runner.invoke(cli, ["serve"])

    assert refused.exit_code == 1
    assert "is at migration none" in refused.output
    assert "run `dossier migrate` first" in refused.output
    assert calls == []
    engine = make_engine(cli_database)
    try:
        assert current_revision(engine) is None  # nothing was migrated
    finally:
        engine.dispose()

    # Once a deploy step has migrated it, the same start serves.
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    served = runner.invoke(cli, ["serve"])
    assert served.exit_code == 0, served.output
    assert len(calls) == 1


def test_serve_without_migrating_leaves_no_file_where_there_was_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It refused the missing database, but opening it to look had made an empty file
    there: the next start with migrations on found a database where none was meant."""
    calls: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    file = tmp_path / "absent.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{file}")
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    get_settings.cache_clear()

    refused = runner.invoke(cli, ["serve"])

    assert refused.exit_code == 1
    assert f"There is no database file at {file}." in refused.output
    assert "run `dossier migrate` first" in refused.output
    assert not file.exists()
    assert calls == []
    get_settings.cache_clear()


def test_serve_without_migrating_names_a_database_of_a_newer_release(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database a newer release migrated is not 'behind': the advice to run `dossier
    migrate` (which then refuses it) was wrong."""
    calls: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    engine = make_engine(cli_database)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    finally:
        engine.dispose()
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    get_settings.cache_clear()

    refused = runner.invoke(cli, ["serve"])

    assert refused.exit_code == 1
    assert "is at migration f00dfeedbeef" in refused.output
    assert "a newer release migrated it" in refused.output
    assert "run `dossier migrate` first" not in refused.output
    assert calls == []


def test_schema_without_graphql_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "app.graphql.schema", None)  # import raises ImportError
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 1
    assert "not available" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("garbage", "DATABASE_URL is not a database URL Dossier can use"),
        ("mysql://user@localhost/db", "Dossier runs on SQLite or PostgreSQL, not 'mysql'"),
        # Drivers Dossier does not install: their module's ImportError was a traceback.
        (
            "postgresql+asyncpg://postgres@127.0.0.1/x",
            "Dossier connects to PostgreSQL with psycopg, not 'asyncpg'",
        ),
        ("sqlite+aiosqlite:///x.db", "Dossier connects to SQLite with pysqlite, not 'aiosqlite'"),
        # psycopg2's URL is libpq's, as psycopg's: read with psycopg.
        ("postgresql+psycopg2://postgres@127.0.0.1:1/nothing", "cannot use the database in"),
        ("postgresql://postgres@127.0.0.1:1/nothing", "cannot use the database in DATABASE_URL"),
        ("sqlite:////nonexistent/dir/x.db", "cannot use the database in DATABASE_URL"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    _migrate_fails_in_one_line(monkeypatch, capsys, "DATABASE_URL", url, message)


def _migrate_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    """`dossier migrate` with the setting `name` at `value` exits 1 with one line saying
    `message`, no traceback."""
    from app.cli import main

    monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["dossier", "migrate"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CORS_ORIGINS", "https://www.example.org", "CORS_ORIGINS is not valid JSON"),
        ("URL_TEMPLATES", "/news/{slug}", "URL_TEMPLATES is not valid JSON"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL: Value error, should be one of DEBUG"),
        ("CACHE_MAX_AGE", "-1", "CACHE_MAX_AGE: Input should be greater than or equal to 0"),
        ("MAX_BODY_BYTES", "0", "MAX_BODY_BYTES: Input should be greater than or equal to 1"),
        ("DB_POOL_SIZE", "0", "DB_POOL_SIZE: Input should be greater than or equal to 1"),
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL: Value error, should be a redis://"),
    ],
)
def test_a_setting_that_cannot_be_used_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    """Before, a list given as plain text (CORS_ORIGINS, the README asks for JSON) or an
    unknown LOG_LEVEL stopped every command with a traceback, and a negative max-age or body
    bound was served as it was (`max-age=-1`; every write a 413 "larger than -5 bytes"), and a
    REDIS_URL without its scheme failed in the app factory, after migrating, with a
    traceback (in each worker, over and over, with `--workers N`)."""
    _migrate_fails_in_one_line(monkeypatch, capsys, name, value, message)


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings

    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert Settings().log_level == "WARNING"


def test_a_database_migrated_by_a_newer_version_is_named_so(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    from app.cli import main

    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    engine = make_engine(cli_database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    engine.dispose()
    monkeypatch.setattr(sys, "argv", ["dossier", "migrate"])
    with pytest.raises(SystemExit):
        main()
    assert "migrated by a newer version" in capsys.readouterr().err


def test_an_empty_database_url_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import DEFAULT_DATABASE_URL, Settings

    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().database_url == DEFAULT_DATABASE_URL


def test_serve_refuses_a_port_that_does_not_exist() -> None:
    result = runner.invoke(cli, ["serve", "--port", "99999"])
    assert result.exit_code == 2
    assert "65535" in result.output


def test_serve_waits_for_a_database_that_is_not_there_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Started beside its database (a compose stack), `dossier serve` exited at once while
    PostgreSQL did not accept connections yet. It tries each second for DATABASE_WAIT
    seconds, then migrates and serves; with 0 it gives up at once, in one line."""
    import threading
    import uuid

    import psycopg
    from sqlalchemy import make_url

    from tests.support import PG_ADMIN_URL, require_postgres

    require_postgres()
    admin = PG_ADMIN_URL
    name = f"dossier_later_{uuid.uuid4().hex[:8]}"
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    plain_admin = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    calls: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setenv("DATABASE_URL", rendered)
    monkeypatch.setenv("DATABASE_WAIT", "0")
    get_settings.cache_clear()
    try:
        refused = runner.invoke(cli, ["serve"])
        assert refused.exit_code == 1
        assert calls == []

        def create_later() -> None:
            import time

            time.sleep(1.5)
            with psycopg.connect(plain_admin, autocommit=True) as db:
                db.execute(f"CREATE DATABASE {name}")

        monkeypatch.setenv("DATABASE_WAIT", "30")
        get_settings.cache_clear()
        later = threading.Thread(target=create_later)
        later.start()
        served = runner.invoke(cli, ["serve"])
        later.join()
        assert served.exit_code == 0, served.output
        assert len(calls) == 1
        assert topic_count(rendered) > 0  # migrated, and the demo loaded
    finally:
        get_settings.cache_clear()
        with psycopg.connect(plain_admin, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_commands_on_a_missing_sqlite_file_leave_none_behind(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys list`, `export`, `import` on a SQLite path with no file said what was wrong,
    but opening it left an empty database file behind. They say there is none, and create
    nothing; `migrate` makes it."""
    path = tmp_path / "nothing.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        for command in (["keys", "list"], ["export"]):
            result = runner.invoke(cli, command)
            assert result.exit_code == 1, (command, result.output)
            assert f"There is no database file at {path}." in result.output
            assert "Run `dossier migrate` first." in result.output
            assert not path.exists()
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        assert runner.invoke(cli, ["keys", "list"]).exit_code == 0
    finally:
        get_settings.cache_clear()
