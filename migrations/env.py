"""Alembic environment: Dossier's models, its settings' database URL, its naming convention."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import Settings
from app.db import make_engine, metadata
from app.migrations import include_name, include_object, take_migration_lock

config = context.config

# Only when run as `alembic ...`: inside the app, logging is the app's (see app/migrations.py).
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """`-x url=...` first, then `sqlalchemy.url` if set, then DATABASE_URL / the default."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    return Settings(database_url=url).database_url if url else Settings().database_url


def configure(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Building indexes on a big table may outlast the per-request statement timeout.
        connection.exec_driver_sql("SET statement_timeout = 0")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=include_name,
        include_object=include_object,
        # SQLite alters tables by copying them; Alembic's batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=metadata,
        include_name=include_name,
        include_object=include_object,
        render_as_batch=url.startswith("sqlite"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by app.migrations (CLI, tests)
        configure(connection)
        return
    engine = make_engine(database_url())
    try:
        # A transaction of our own, committed at the end: `configure`'s SET opens one on
        # PostgreSQL, which Alembic then left uncommitted (nothing was saved).
        with engine.begin() as connection:
            take_migration_lock(connection)
            configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
