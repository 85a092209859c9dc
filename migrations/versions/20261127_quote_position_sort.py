"""an index for the quotes' `position` sort

Every sort a list offers has an index to walk (`4506d4422588`) but the quotes' `position`:
a page of quotes sorted by it read and sorted every public quote. With a common word, SQLite
checked each against the search index first (`/api/v1/quotes?q=security&sort=position`:
0.8 s at `bench` scale `large`). On (position, id), the keyset's order: nine quotes in ten
share position 0, which an index on `position` alone left PostgreSQL to sort by id.

Revision ID: 4e3fe91bd102
Revises: c29c004091e6
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4e3fe91bd102"
down_revision: str | Sequence[str] | None = "c29c004091e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_quote_position_sort", "quote", ["position", "id"])
    # Statistics of the new index, without which SQLite's planner (when the database has
    # any) treats it as unselective.
    op.execute("ANALYZE quote")


def downgrade() -> None:
    op.drop_index("ix_quote_position_sort", table_name="quote")
