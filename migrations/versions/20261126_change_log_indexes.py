"""indexes for the change log's polls: deleted_at, left_public_at (partial: IS NOT NULL)

`/api/v1/changes?since=<token>` orders every type's rows by when the public last saw them
change: `updated_at`, `published_at`, `left_public_at` or `deleted_at`, by the row's state.
A poll now also asks for rows with one of those at or after the token's time, which the
indexes answer; without them each poll read every row (0.5 s at a million rows on
PostgreSQL, 1 s on SQLite, however little had changed). The models do not describe these
partial indexes (`app.migrations.UNMODELLED_INDEXES`).

Revision ID: 8b3e5d1f7c42
Revises: 4506d4422588
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b3e5d1f7c42"
down_revision: str | Sequence[str] | None = "4506d4422588"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITIES = ("topic", "organization", "person", "article", "quote", "event", "publication", "resource")
PUBLISHABLE = ("article", "quote", "event", "publication", "resource")


def _partial(name: str, table: str, column: str) -> None:
    """Only the rows that have the column (few: deleted or withdrawn items). A full index
    of a column that is NULL in nearly every row told SQLite's planner (ANALYZE) that a
    range on it matches every row, and it scanned the tables instead."""
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index(name, table, [column], postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    for table in ENTITIES:
        _partial(f"ix_{table}_deleted_at", table, "deleted_at")
    for table in PUBLISHABLE:
        _partial(f"ix_{table}_left_public_at", table, "left_public_at")


def downgrade() -> None:
    for table in PUBLISHABLE:
        op.drop_index(f"ix_{table}_left_public_at", table_name=table)
    for table in ENTITIES:
        op.drop_index(f"ix_{table}_deleted_at", table_name=table)
