"""what the seed page shows and the schema could not say

The review of the demo dataset against the seed page found information the page shows and
no column held:

- `quote.after_block`: where a pull quote stands in its article's body (the number of the
  body's top-level blocks before it; null: no place in the body). The Sandberg article
  shows its three quotes between particular paragraphs; `position` only orders them.

Plain ADD COLUMN throughout: a batch rebuild of a table on SQLite would drop its triggers.

Revision ID: e23e12bc058c
Revises: 5c1f0e2d7a93
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e23e12bc058c"
down_revision: str | Sequence[str] | None = "5c1f0e2d7a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quote", sa.Column("after_block", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE quote DROP COLUMN after_block")
