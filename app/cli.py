"""The `dossier` command.

Each command imports what it needs when it runs, so `dossier --help` stays fast and a
command whose module is still missing fails alone. Commands owned by other modules are
registered at the bottom with `cli.add_typer(...)` / `cli.command()(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from app.config import get_settings

cli = typer.Typer(
    name="dossier",
    help="Dossier: a headless content API for research institutes' websites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cli.command()
def migrate() -> None:
    """Apply every pending database migration (creates the schema on a new database)."""
    from app.cli_admin import redacted
    from app.http.request_id import configure_logging
    from app.migrations import upgrade_to_head

    settings = get_settings()
    # As `dossier serve` does: what a migration says (Alembic's steps, a warning such as
    # PostgreSQL's `unaccent` missing) reaches the operator. Alembic gives its loggers a
    # NullHandler, so without a handler here its warnings were dropped.
    configure_logging(settings.log_level)
    upgrade_to_head(settings.database_url)
    _fill_missing_sort_keys(settings.database_url)
    typer.echo(f"Database {redacted(settings.database_url)} is at the newest migration.")


def _fill_missing_sort_keys(url: str) -> None:
    """Rows a server of an earlier release wrote since the migration that added the sort
    keys, given theirs (`app.models.sort_keys.fill_missing_keys`)."""
    import logging

    from app.db import make_engine
    from app.models.sort_keys import fill_missing_keys

    engine = make_engine(url)
    try:
        if filled := fill_missing_keys(engine):
            logging.getLogger("app.cli").info(
                "%d sort key(s) set on rows an earlier release wrote.", filled
            )
    finally:
        engine.dispose()


def _load_demo() -> int:
    """The demo dataset loaded in one unit of work. As `keys` and `import`: a database
    without the schema (never migrated, or behind this release) is a one-line error naming
    `dossier migrate`, not a traceback."""
    from app.cli_admin import database_session
    from app.demo.loader import load_demo

    with database_session() as session:
        return load_demo(session)


@cli.command()
def demo() -> None:
    """Load the demo dataset (the seed topic page's content). Running it again changes nothing."""
    typer.echo(f"Demo dataset loaded: {_load_demo()} record(s) changed.")


def _has_topics() -> bool:
    from sqlalchemy import func, select

    from app.db import make_engine
    from app.models import Topic

    settings = get_settings()
    engine = make_engine(settings.database_url, settings)
    try:
        with engine.connect() as connection:
            return bool(connection.scalar(select(func.count()).select_from(Topic)))
    finally:
        engine.dispose()


def _refuse_an_old_schema(url: str) -> None:
    """With `MIGRATE_ON_START=false`, a database behind this release is an error at start,
    not a server whose every request fails: migrating is a deploy's own step."""
    from app.cli_admin import missing_file, schema_problem

    # (A SQLite file that is not there is not opened: that would leave an empty one.)
    problem = missing_file(url) or schema_problem(url)
    if problem is not None:
        message, behind = problem
        hint = (
            " MIGRATE_ON_START is false, so `dossier serve` does not migrate: run "
            "`dossier migrate` first."
            if behind
            else ""
        )
        typer.echo(message + hint, err=True)
        raise typer.Exit(1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate (unless MIGRATE_ON_START=false), load the demo dataset into an empty database,
    and serve the API."""
    import gc

    import uvicorn

    # Start-up makes objects that live as long as the process (modules, routes, the
    # schema): collecting them while they are made was a tenth of the time to ready. The
    # app's lifespan collects once, freezes what is left and turns the collector back on.
    gc.disable()

    from app.http.request_id import configure_logging
    from app.migrations import upgrade_to_head

    settings = get_settings()
    configure_logging(settings.log_level)
    _wait_for_the_database(settings.database_url, settings.database_wait)
    if settings.migrate_on_start:
        upgrade_to_head(settings.database_url)
    else:
        _refuse_an_old_schema(settings.database_url)
    _fill_missing_sort_keys(settings.database_url)
    if not _has_topics():
        typer.echo(f"Empty database: loaded the demo dataset ({_load_demo()} records).")
    with _shared_metrics(workers):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,  # the app's logging (with request ids) applies to uvicorn's loggers
            proxy_headers=True,
            ws="none",  # no WebSocket routes: skip importing a WebSocket implementation
        )


def _wait_for_the_database(url: str, seconds: float) -> None:
    """Until the database at `url` answers, for up to `seconds`, trying each second: a
    server started beside its database (a compose stack, a host's boot) would otherwise
    exit before the database accepts connections. Whatever PostgreSQL refuses a connection
    for (not listening yet, a database not created yet, but also a wrong password) is
    waited out, logged each second; past the wait it fails as before, as does a URL that
    is no database URL."""
    import logging
    import time

    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from app.db import database_message, make_engine

    if seconds <= 0 or not url.startswith("postgresql"):
        return  # SQLite is a file: nothing to wait for
    deadline = time.monotonic() + seconds
    engine = make_engine(url)
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
                if time.monotonic() >= deadline:
                    raise
                logging.getLogger("app.cli").warning(
                    "Waiting for the database (DATABASE_WAIT=%ss): %s",
                    f"{seconds:g}",
                    database_message(exc),
                )
                engine.dispose()
                time.sleep(1.0)
    finally:
        engine.dispose()


@contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, an empty directory in which they all keep their metrics, so
    that `/metrics` answers for the server, not for the one worker that took the scrape
    (`app.http.metrics`). Workers are new processes: they inherit it from the environment.
    One the operator set is used as it is (prometheus_client wants it emptied between
    runs)."""
    import os
    import shutil
    import tempfile

    from app.http.metrics import MULTIPROCESS_DIR

    if workers == 1 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    directory = tempfile.mkdtemp(prefix="dossier-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


@cli.command()
def schema() -> None:
    """Print the GraphQL schema (SDL) the server exposes."""
    try:
        from app.graphql.schema import export_sdl
    except ImportError as exc:
        typer.echo(f"The GraphQL schema is not available: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(export_sdl())


from app.cli_admin import export_command, import_command, keys_app  # noqa: E402

cli.add_typer(keys_app, name="keys")
cli.command("export")(export_command)
cli.command("import")(import_command)
cli.command("generate")(__import__("app.generate.command", fromlist=["_"]).generate_command)


def main() -> None:
    """`dossier`: a database that cannot be used is a one-line message, not a traceback."""
    try:
        cli()
    except Exception as exc:
        message = _database_problem(exc)
        if message is None:
            raise
        typer.echo(f"Error: {message}", err=True)
        raise SystemExit(1) from None


def _database_problem(exc: Exception) -> str | None:
    """What is wrong with DATABASE_URL or its database, when that is what `exc` says."""
    import re

    from alembic.util.exc import CommandError
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy import exc as sa_exc

    from app.db import database_message

    settings_url = "DATABASE_URL"
    first_line = database_message(exc)
    if isinstance(exc, ValidationError):  # the settings
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
    if isinstance(exc, SettingsError):  # a list or object setting that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1).upper() if field else "A list or object setting"
        return (
            f"{name} is not valid JSON: lists and objects are given as JSON "
            """(e.g. CORS_ORIGINS='["https://www.example.org"]')."""
        )
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return f"{settings_url} is not a database URL Dossier can use ({first_line})."
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return f"cannot use the database in {settings_url}: {first_line}"
    if isinstance(exc, CommandError) and "Can't locate revision" in first_line:
        return (
            f"the database is at a migration this version of Dossier does not know "
            f"({first_line}): it was migrated by a newer version."
        )
    return None
