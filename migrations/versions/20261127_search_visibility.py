"""search_document stores its item's visibility: public_at, deleted

Search left hidden items out by joining each match back to its item's table, after
PostgreSQL had capped the matches it would look at (4 x MATCH_CAP): drafts, scheduled and
deleted items with the words could crowd public ones out of the results. Each document
now holds `public_at`, the instant from which the public sees the item (NULL: never, a
draft, an archived or a deleted item; topics, organizations and people: 0001-01-01), and
`deleted` (previews see the rest), as `app.content.visibility.public_since` computes them
and the write layer keeps them; search filters the index's matches on them directly.

Filled here from the items' tables, one UPDATE per type. On PostgreSQL every row of
`search_document` is rewritten (its stored search vector with it): the GIN index is
dropped first and built again after, in bulk, which is much faster than updating it row
by row. At `large` (605,000 documents) this took 2 min on a busy 2-core machine
(PostgreSQL; the table then holds the old row versions until it is vacuumed: 2.0 GB
became 2.8 GB before autovacuum or a `VACUUM search_document`) and 45 s (SQLite).

Revision ID: e08422a35171
Revises: 618478cd4d4e
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "e08422a35171"
down_revision: str | Sequence[str] | None = "618478cd4d4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
ALWAYS_PUBLIC = ("topic", "organization", "person")
# Bound as SQLAlchemy's own DateTime, which stores this aware UTC instant as the app's
# timestamp columns hold it (naive UTC text on SQLite, timestamptz on PostgreSQL), so that
# no later change to an app type can change what this migration writes.
PUBLIC_SINCE_EVER = datetime(1, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    op.add_column("search_document", sa.Column("public_at", app.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "search_document", sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    if postgresql:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.drop_index("ix_search_document_tsv", table_name="search_document")
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        public = (
            "CASE WHEN t.deleted_at IS NULL AND t.status = 'published' THEN t.published_at END"
            if table in PUBLISHABLE
            else "CASE WHEN t.deleted_at IS NULL THEN :ever END"
        )
        # A document whose item is gone (none should be) counts as deleted.
        statement = sa.text(
            f"UPDATE search_document SET "
            f"public_at = (SELECT {public} FROM {table} t WHERE t.id = search_document.entity_id), "
            f"deleted = coalesce((SELECT t.deleted_at IS NOT NULL FROM {table} t "
            "WHERE t.id = search_document.entity_id), true) "
            "WHERE entity_type = :type"
        ).bindparams(sa.bindparam("type", table))
        if table in ALWAYS_PUBLIC:
            statement = statement.bindparams(
                sa.bindparam("ever", PUBLIC_SINCE_EVER, type_=sa.DateTime(timezone=True))
            )
        op.execute(statement)
    if postgresql:
        op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")
        op.execute("ANALYZE search_document")


def downgrade() -> None:
    # Native DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop the FTS triggers.
    op.execute("ALTER TABLE search_document DROP COLUMN deleted")
    op.execute("ALTER TABLE search_document DROP COLUMN public_at")
