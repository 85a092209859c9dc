"""indexes for every sort a list offers

Lists sort by `created_at` (every type), `title` (articles, events, publications) and
`name` (topics, organizations, people, resources) as well. Without an index such a page
read and sorted every visible row: at 200,000 events, `/api/v1/events?sort=title` took
0.55 s on SQLite and 0.19 s on PostgreSQL for a popular topic. (`slug` is unique, hence
indexed; the other sorts had their indexes already.) Publications sort by
`coalesce(year, 0)`, by default: an index on that expression, which the models cannot
describe (`app.migrations.UNMODELLED_INDEXES`).

Revision ID: 4506d4422588
Revises: 5d8f3b2c7a61
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4506d4422588"
down_revision: str | Sequence[str] | None = "5d8f3b2c7a61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_COLUMNS = {
    "topic": ["created_at", "name"],
    "organization": ["created_at", "name"],
    "person": ["created_at", "name"],
    "article": ["created_at", "title"],
    "quote": ["created_at"],
    "event": ["created_at", "title"],
    "publication": ["created_at", "title"],
    "resource": ["created_at", "name"],
}


def upgrade() -> None:
    for table, columns in SORT_COLUMNS.items():
        for column in columns:
            op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_index("ix_publication_year_sort", "publication", [sa.text("coalesce(year, 0)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_publication_year_sort", table_name="publication")
    for table, columns in SORT_COLUMNS.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
