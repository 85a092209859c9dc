"""visibility history, visibility indexes, stored search vector

`was_public` remembers that an item has been public, so the change log can announce its
removal (and never a removal of an item that was never public). A composite index on
the visibility columns lets counts of public items run from the index alone. On
PostgreSQL the search vector becomes a stored generated column: matching and ranking no
longer re-parse every body.

Revision ID: 3a1c5e7d9b20
Revises: f6d3957cad4c
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a1c5e7d9b20"
down_revision: str | Sequence[str] | None = "f6d3957cad4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
PG_TSVECTOR = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))"


def upgrade() -> None:
    for table in PUBLISHABLE:
        # A plain ADD COLUMN (not batch mode): SQLite cannot rebuild a referenced table.
        op.add_column(
            table, sa.Column("was_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        op.create_index(f"ix_{table}_visibility", table, ["status", "published_at", "deleted_at"])
        # Items public before this column existed count as having been public.
        op.execute(
            f"UPDATE {table} SET was_public = true "
            "WHERE status = 'published' AND published_at IS NOT NULL AND published_at <= CURRENT_TIMESTAMP"
        )
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_search_document_tsv", table_name="search_document")
        op.execute(
            f"ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({PG_TSVECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_search_document_tsv", table_name="search_document")
        op.execute("ALTER TABLE search_document DROP COLUMN tsv")
        op.execute(f"CREATE INDEX ix_search_document_tsv ON search_document USING gin ({PG_TSVECTOR})")
    for table in PUBLISHABLE:
        op.drop_index(f"ix_{table}_visibility", table_name=table)
        # Native DROP COLUMN (SQLite >= 3.35) for the same reason.
        op.execute(f"ALTER TABLE {table} DROP COLUMN was_public")
