"""visibility indexes that also cover each type's default sort

A page's ids are chosen on (sort key, id) among visible rows; with the sort column in the
visibility index that choice never touches the table. On SQLite this matters most: the
sort columns sit after the long text columns, so reading them from the table walks
overflow pages.

Revision ID: 9d4f6b2a8e51
Revises: 7c2e9a4b1d33
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d4f6b2a8e51"
down_revision: str | Sequence[str] | None = "7c2e9a4b1d33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_COLUMN = {"event": "starts_at", "publication": "year", "quote": "position", "resource": "position"}
VISIBILITY = ["status", "published_at", "deleted_at"]


def upgrade() -> None:
    for table, column in SORT_COLUMN.items():
        op.drop_index(f"ix_{table}_visibility", table_name=table)
        op.create_index(f"ix_{table}_visibility", table, [*VISIBILITY, column])


def downgrade() -> None:
    for table in SORT_COLUMN:
        op.drop_index(f"ix_{table}_visibility", table_name=table)
        op.create_index(f"ix_{table}_visibility", table, VISIBILITY)
