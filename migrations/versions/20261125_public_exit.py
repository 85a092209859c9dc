"""remember when and under which slug an item left the public surface

The change log's `deleted` entry for an unpublished item must not move or change its
slug when editors keep working on the draft: it says what the public last saw.

Revision ID: 7c2e9a4b1d33
Revises: 3a1c5e7d9b20
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "7c2e9a4b1d33"
down_revision: str | Sequence[str] | None = "3a1c5e7d9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")


def upgrade() -> None:
    for table in PUBLISHABLE:
        # Plain ADD COLUMN: SQLite cannot rebuild (batch mode) a table others reference.
        op.add_column(table, sa.Column("left_public_at", app.db.UTCDateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("public_slug", sa.String(length=200), nullable=True))


def downgrade() -> None:
    for table in PUBLISHABLE:
        op.execute(f"ALTER TABLE {table} DROP COLUMN public_slug")
        op.execute(f"ALTER TABLE {table} DROP COLUMN left_public_at")
