"""Run and inspect the Alembic migrations from code (CLI, /readyz, tests).

`migrations/` and `alembic.ini` live at the repository root, beside the `app` package
(the Docker image keeps that layout), so paths are resolved from this file, not the cwd.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from app.content.types import ALL_TYPES
from app.db import make_engine, take_writers_lock

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The newest revision in migrations/versions. Known here so that starting the server on a
# database already at it, and every /readyz probe, need neither Alembic nor the migration
# scripts (loading both was ~0.5 s of `dossier serve`'s start). A new migration changes
# it; tests/test_migrations.py fails until it does.
HEAD_REVISION = "8e1f4b7c2a90"

# Objects the migrations create by hand and the models cannot describe: SQLite's FTS5
# table (and the shadow tables FTS5 makes), PostgreSQL's GIN indexes, and indexes on
# expressions or partial ones. Autogenerate must neither drop them nor report them as
# differences.
FTS_TABLE = "search_fts"
VERSION_TABLE = "alembic_version"
_TABLES = tuple(ctype.model.__tablename__ for ctype in ALL_TYPES)
_PUBLISHABLE_TABLES = tuple(ctype.model.__tablename__ for ctype in ALL_TYPES if ctype.publishable)
UNMODELLED_INDEXES = frozenset(
    {
        "ix_search_document_tsv",
        # PostgreSQL's GIN index of each type's search documents (e354dc538fd8).
        *(f"ix_search_document_tsv_{ctype.name}" for ctype in ALL_TYPES),
        "ix_publication_year_sort",
        # A publication's type and visibility indexes, on coalesce(year, 0) (9d84df82911f).
        "ix_publication_type_year",
        "ix_publication_visibility",
        # The change log's partial indexes (migration 8b3e5d1f7c42).
        *(f"ix_{table}_deleted_at" for table in _TABLES),
        *(f"ix_{table}_left_public_at" for table in _PUBLISHABLE_TABLES),
        # A preview's published_at sort, coalesce(published_at, created_at) (9d38d00c2f1c).
        *(f"ix_{table}_published_sort" for table in _PUBLISHABLE_TABLES),
    }
)


def _migrations_dir() -> Path:
    for candidate in (PROJECT_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError(
        f"Alembic migrations not found in {PROJECT_ROOT / 'migrations'}; "
        "install Dossier from its source tree (pip install -e .)."
    )


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the project's migrations; `url` overrides the settings' URL."""
    from alembic.config import Config

    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    # Logging belongs to the application when Alembic runs inside it.
    config.attributes["configure_logger"] = False
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic `include_name` hook: skip the dialect-specific search objects."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if (
        type_ == "column"
        and name == "tsv"
        and (parent_names or {}).get("table_name") in (None, "search_document")
    ):
        return False  # PostgreSQL's stored search vector (a generated column)
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic `include_object` hook; the same rule as `include_name`."""
    return include_name(name, type_, None)


# The key of PostgreSQL's advisory lock migrators take turns on ("dossier" in ASCII).
_MIGRATION_LOCK = 0x646F7373696572


def take_migration_lock(connection: Connection) -> None:
    """Make this migration one transaction that other migrators wait for, so two
    processes migrating at once (two replicas starting) do not both create the schema:
    PostgreSQL's DDL is transactional, and an advisory lock held until the end makes the
    second wait and then find the database at head. SQLite's driver runs DDL outside a
    transaction unless one is open: `BEGIN IMMEDIATE` opens one (a killed first migration
    left 25 tables and no revision, which no later start could get past) and takes the
    database's write lock."""
    if connection.dialect.name == "postgresql":
        # No statement timeout: waiting for another migrator, and building indexes on a big
        # table, may outlast the per-request one.
        connection.exec_driver_sql("SET statement_timeout = 0")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade_to_head(url: str) -> None:
    """Apply every pending migration to the database at `url`, in one transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            take_migration_lock(connection)
            if _revision(connection) == HEAD_REVISION:
                return
            if inspect(connection).has_table("content_version"):
                # A migration that rewrites content (its triggers take `content_version`)
                # takes that lock first, like every writer: not after its UPDATEs have
                # locked the rows an API write holding it waits for.
                take_writers_lock(connection)
            upgrade_connection(connection)
    finally:
        engine.dispose()


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def downgrade_connection(connection: Connection, revision: str = "base") -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated.

    Read directly rather than through Alembic's MigrationContext, which logs two INFO
    lines per call, and /readyz calls this on every probe.
    """
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def head_revision() -> str:
    """The newest revision in `migrations/` (`HEAD_REVISION`)."""
    return HEAD_REVISION


def scripts_head() -> str | None:
    """The head revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this release's migrations (not one of a newer release's)."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
