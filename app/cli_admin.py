"""`dossier keys create|list|revoke`, `dossier export` and `dossier import`.

A key's secret is printed once, by `create`; only its hash is stored, so a lost key is
revoked and replaced, never recovered. Export and import move content between instances
as NDJSON (see `app.transfer`). Heavy imports happen inside the commands, so
`dossier --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SCOPE_HELP = "content:write, content:preview or admin (implies both); repeat for several."

keys_app = typer.Typer(
    name="keys",
    help="Create, list and revoke API keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# What SQLite and PostgreSQL say of a table or column the schema lacks: a database never
# migrated, or one behind this release.
_NO_SCHEMA = ("no such table", "no such column", "has no column", "does not exist")


def schema_problem(url: str) -> tuple[str, bool] | None:
    """What keeps this release from using the database at `url`, and whether migrating
    mends it (behind this release: True; migrated by a newer one: False); None: it is at
    this release's migration."""
    from app.db import make_engine
    from app.migrations import current_revision, head_revision, is_known_revision

    shown = redacted(url)
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is not None and revision != head_revision() and not is_known_revision(revision):
        return (
            f"The database {shown} is at migration {revision}, which this release "
            f"(at {head_revision()}) does not have: a newer release migrated it. Use it with "
            "that release; `dossier migrate` cannot take a database back.",
            False,
        )
    if revision != head_revision():
        return (
            f"The database {shown} is at migration {revision or 'none (empty)'}; "
            f"this release needs {head_revision()}.",
            True,
        )
    return None


def missing_file(url: str) -> tuple[str, bool] | None:
    """A SQLite URL naming a file that does not exist: opening it would create an empty
    database, left behind by the command that then fails."""
    from pathlib import Path

    from sqlalchemy import make_url

    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file in (None, "", ":memory:") or Path(str(file)).exists():
        return None
    return f"There is no database file at {file}.", True


def redacted(url: str) -> str:
    """`url` without its password, for messages."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_session() -> Iterator[Session]:
    """A unit of work on the configured database (commits at the end), which must be at
    this release's migration: behind it (or ahead), a command wrote or read a schema it
    does not know, or failed midway on a missing column."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    from app.config import get_settings
    from app.db import database_message, make_engine, make_session_factory, session_scope

    settings = get_settings()
    problem = missing_file(settings.database_url) or schema_problem(settings.database_url)
    if problem is not None:
        message, behind = problem
        typer.echo(message + (" Run `dossier migrate` first." if behind else ""), err=True)
        raise typer.Exit(1)
    engine = make_engine(settings.database_url, settings)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except (IntegrityError, OperationalError, ProgrammingError) as exc:
        message = database_message(exc)
        if isinstance(exc, IntegrityError):
            # Two imports at once (each checked the slugs before the other wrote them).
            hint = (
                ". Another writer changed the same items at the same time; nothing was "
                "written: run the command again."
            )
        elif any(sign in message for sign in _NO_SCHEMA):
            hint = " (has `dossier migrate` been run?)"
        else:
            hint = ""
        typer.echo(f"Database error: {message}{hint}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@keys_app.command("create")
def create(
    name: Annotated[
        str, typer.Option("--name", help="A unique name; it is the `actor` in the audit log.")
    ],
    scope: Annotated[list[str], typer.Option("--scope", help=SCOPE_HELP)],
) -> None:
    """Create a key and print its secret (shown this once only)."""
    from app.http.auth import ApiKeyError, create_api_key

    try:
        with database_session() as session:
            secret = create_api_key(session, name, scope)
    except ApiKeyError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created key '{name.strip()}' with scopes: {' '.join(scope)}", err=True)
    typer.echo("Store this secret now; it cannot be shown again:", err=True)
    typer.echo(secret)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


@keys_app.command("list")
def list_keys() -> None:
    """List every key: name, prefix, scopes, created, last used, revoked (never secrets)."""
    from app.http.auth import list_api_keys

    with database_session() as session:
        keys = list_api_keys(session)
        rows = [
            (
                k.name,
                f"dsk_{k.prefix}_…",
                k.scopes,
                _when(k.created_at),
                _when(k.last_used_at),
                _when(k.revoked_at),
            )
            for k in keys
        ]
    header = ("NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "REVOKED")
    if not rows:
        typer.echo("No API keys. Create one with `dossier keys create --name N --scope S`.")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


@keys_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: requests with it are refused (401) from now on."""
    from app.http.auth import ApiKeyError, revoke_api_key

    try:
        with database_session() as session:
            key = revoke_api_key(session, name)
            revoked_at = key.revoked_at
    except ApiKeyError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Revoked key '{name.strip()}' (since {_when(revoked_at)}).")


# ---------------------------------------------------------------------------------------
# Export and import (registered on `dossier` by app/cli.py).


def export_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Export every item (drafts included, deleted excluded) as NDJSON, relations by slug,
    each with its created_at."""
    from app.transfer import export_lines

    with database_session() as session:
        if output is None:
            count = _write_lines(sys.stdout.buffer, export_lines(session))
            sys.stdout.buffer.flush()
        elif output.exists() and not output.is_file():  # a device or a pipe: as it is
            try:
                with output.open("wb") as target:
                    count = _write_lines(target, export_lines(session))
            except OSError as exc:
                typer.echo(f"Error: cannot write {output}: {exc.strerror or exc}", err=True)
                raise typer.Exit(1) from None
        else:
            count = _export_to(output, export_lines(session))
    typer.echo(f"Exported {count} items" + (f" to {output}." if output else "."), err=True)


def _write_lines(target: IO[bytes], lines: Iterable[bytes]) -> int:
    count = 0
    for count, line in enumerate(lines, 1):  # noqa: B007 - the count is the result
        target.write(line)
    return count


def _export_to(output: Path, lines: Iterable[bytes]) -> int:
    """Write the lines to a file beside `output`, then rename it to `output`: an export
    stopped halfway leaves the old file (or none), never a shorter one that imports as if
    it were whole."""
    import os
    import stat
    import tempfile

    output = output.resolve()  # a symlink's target is replaced, not the link
    try:
        # The mode an existing file has, else what a new file gets (mkstemp's is 0600).
        mode = stat.S_IMODE(output.stat().st_mode) if output.exists() else None
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        handle, partial = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=".partial", dir=output.parent
        )
        os.chmod(partial, mode)
    except OSError as exc:
        typer.echo(f"Error: cannot write {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    try:
        with os.fdopen(handle, "wb") as target:
            count = _write_lines(target, lines)
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, output)
    except OSError as exc:
        typer.echo(f"Error: cannot write {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return count


def import_command(
    file: Annotated[
        str, typer.Argument(help="An NDJSON file from `dossier export` ('-' reads stdin).")
    ],
) -> None:
    """Import an NDJSON file: validated like POST, upserted by slug, all lines or none."""
    from app.transfer import ImportFailed, import_records

    try:
        source = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        typer.echo(f"Error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    try:
        with database_session() as session:
            result = import_records(session, source.splitlines())
    except ImportFailed as exc:
        for message in exc.errors:
            typer.echo(message, err=True)
        typer.echo(f"Nothing imported: {len(exc.errors)} error(s) in {file}.", err=True)
        raise typer.Exit(1) from None
    counts = ", ".join(f"{n} {t}" for t, n in result.by_type.items())
    typer.echo(
        f"Imported {result.records} records ({counts}): {result.changed} created or changed.",
        err=True,
    )
