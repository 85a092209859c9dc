"""indexes for the published_at sort as a preview has it

A preview sees drafts, which have no `published_at`: its lists and topic streams sort by
`coalesce(published_at, created_at)` instead (`app.content.queries._published`), which no
index ordered. Every page read and sorted the whole collection: at `bench` scale `large`,
a preview page of articles took 0.24 s on SQLite and a preview topic stream 0.7 s. An
index on that expression and the id (the keyset's tie-break) for every type that sorts by
`published_at`; like `ix_publication_year_sort`, one the models cannot describe
(`app.migrations.UNMODELLED_INDEXES`). SQLite uses an expression index only for the
expression written the same way.

Revision ID: 9d38d00c2f1c
Revises: a3a0fcf88e30
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d38d00c2f1c"
down_revision: str | Sequence[str] | None = "a3a0fcf88e30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The publishable types: each offers the `published_at` sort (the default of articles and
# quotes), and articles, events, publications and quotes make up topic streams.
TABLES = ("article", "quote", "event", "publication", "resource")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_published_sort",
            table,
            [sa.text("coalesce(published_at, created_at)"), "id"],
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_published_sort", table_name=table)
