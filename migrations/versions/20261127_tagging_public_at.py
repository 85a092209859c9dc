"""tagging stores its item's visibility, public_at, and an index for public topic streams

A topic's public stream of a type is its items newest first by `published_at`. The
taggings did not hold that time, so a page read every tagging of the topic and joined
each to its item to sort them, or (a popular topic) walked the type's `published_at`
index, probing each item for the tag. GraphQL's `topics { stream }` at `bench` scale
`large` took 0.25 s for 20 topics' first pages on PostgreSQL (4 types, up to 2,000
taggings each). Each tagging now holds `public_at`, the instant from which the public
sees its item (NULL: never), as `app.content.visibility.public_since` computes it and the
write layer keeps it, as for search documents (`e08422a35171`): for a published item its
`published_at`. `ix_tagging_topic_type_public` on (topic, type, public_at, id) then gives
a topic's public page of a type, and its count, from the index alone.

Triggers keep it, not the write layer: an item's row updated by anything (the API, `psql`,
a script) updates its taggings in the same statement, as the version triggers
(`c7a2e5f1d9b3`) count it. A stale copy would show a draft in a public stream: the page
reads no item table. A tagging written behind the API's back without `public_at` is
hidden (NULL: never public) until its item is written again.

Filled here from the items' tables, one UPDATE per type. At `large` (1.15 M taggings) it
took 31 s on PostgreSQL and 11 s on SQLite, each beside another busy process. On
PostgreSQL every tagging is rewritten: until (auto)vacuum has passed, counting a topic's
items reads the table as well as the index (65,000 taggings: 440 ms cold, 66 ms warm,
10 ms after a `VACUUM ANALYZE tagging`). The totals are kept per type version, so a page
pays for them once.

Revision ID: 0b70a7beb28e
Revises: bc061dd78952
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0b70a7beb28e"
down_revision: str | Sequence[str] | None = "bc061dd78952"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
ALWAYS_PUBLIC = ("topic", "organization", "person")
# Bound as SQLAlchemy's own DateTime, which stores this aware UTC instant as the app's
# timestamp columns hold it (naive UTC text on SQLite, timestamptz on PostgreSQL), so that
# no later change to an app type can change what this migration writes.
PUBLIC_SINCE_EVER = datetime(1, 1, 1, tzinfo=UTC)


# When the public sees an item, from the row a trigger has (NEW), as `public_since`.
EVER = {"sqlite": "'0001-01-01 00:00:00.000000'", "postgresql": "'0001-01-01 00:00:00+00'::timestamptz"}
PUBLIC = "CASE WHEN NEW.deleted_at IS NULL AND NEW.status = 'published' THEN NEW.published_at END"


def _public(table: str, dialect: str) -> str:
    return PUBLIC if table in PUBLISHABLE else f"CASE WHEN NEW.deleted_at IS NULL THEN {EVER[dialect]} END"


def _columns(table: str) -> tuple[str, ...]:
    return ("status", "published_at", "deleted_at") if table in PUBLISHABLE else ("deleted_at",)


def _create_triggers(dialect: str) -> None:
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        columns = _columns(table)
        changed = " OR ".join(
            f"OLD.{c} IS {'DISTINCT FROM' if dialect == 'postgresql' else 'NOT'} NEW.{c}" for c in columns
        )
        follow = (
            f"UPDATE tagging SET public_at = {_public(table, dialect)} "
            f"WHERE entity_type = '{table}' AND entity_id = NEW.id"
        )
        if dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION tagging_follows_{table}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {follow}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER tagging_follows_{table} AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} FOR EACH ROW WHEN ({changed}) "
                f"EXECUTE FUNCTION tagging_follows_{table}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER tagging_follows_{table} AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} FOR EACH ROW WHEN {changed} BEGIN {follow}; END"
            )


def upgrade() -> None:
    op.add_column("tagging", sa.Column("public_at", app.db.UTCDateTime(timezone=True), nullable=True))
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        public = (
            "CASE WHEN t.deleted_at IS NULL AND t.status = 'published' THEN t.published_at END"
            if table in PUBLISHABLE
            else "CASE WHEN t.deleted_at IS NULL THEN :ever END"
        )
        statement = sa.text(
            f"UPDATE tagging SET public_at = (SELECT {public} FROM {table} t "
            "WHERE t.id = tagging.entity_id) WHERE entity_type = :type"
        ).bindparams(sa.bindparam("type", table))
        if table in ALWAYS_PUBLIC:
            statement = statement.bindparams(
                sa.bindparam("ever", PUBLIC_SINCE_EVER, type_=sa.DateTime(timezone=True))
            )
        op.execute(statement)
    op.create_index(
        "ix_tagging_topic_type_public", "tagging", ["topic_id", "entity_type", "public_at", "entity_id"]
    )
    dialect = op.get_context().dialect.name
    _create_triggers(dialect)
    if dialect == "postgresql":
        op.execute("ANALYZE tagging")


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        op.execute(f"DROP TRIGGER tagging_follows_{table}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION tagging_follows_{table}()")
    op.drop_index("ix_tagging_topic_type_public", table_name="tagging")
    # Native DROP COLUMN (SQLite >= 3.35), as `e08422a35171` does.
    op.execute("ALTER TABLE tagging DROP COLUMN public_at")
