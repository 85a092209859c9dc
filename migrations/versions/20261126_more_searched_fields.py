"""search reads an article's byline, a publication's publisher and a resource's hours

`q` is "full-text search over the collection's text fields" (API.md), and these three were
left out: `?q=hotline` missed the hotline whose hours say so. The search documents of rows
that have one of them are written again; the others' text is unchanged. No schema change;
downgrading keeps the documents.

Revision ID: 6b1d8e3f5a27
Revises: 2f9c4e8a1b70
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6b1d8e3f5a27"
down_revision: str | Sequence[str] | None = "2f9c4e8a1b70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (its title column, the search document's body fields, the field now searched)
SEARCHED = {
    "article": ("title", ("subtitle", "body_text", "byline"), "byline"),
    "publication": ("title", ("abstract", "journal", "publisher"), "publisher"),
    "resource": ("name", ("description", "audience", "hours"), "hours"),
}
SEARCH_TEXT_LIMIT = 100_000  # app.content.search


def upgrade() -> None:
    # One statement per table (a row at a time took a minute at a million rows): the body
    # as `app.content.search.indexed_as` joins it, on both databases.
    for table, (_title, fields, added) in SEARCHED.items():
        joined = " || ' ' || ".join(f"coalesce(t.{field}, '')" for field in fields)
        op.execute(
            f"UPDATE search_document SET body = (SELECT substr({joined}, 1, {SEARCH_TEXT_LIMIT})"
            f" FROM {table} t WHERE t.id = search_document.entity_id)"
            f" WHERE entity_type = '{table}' AND entity_id IN"
            f" (SELECT id FROM {table} WHERE {added} IS NOT NULL AND {added} <> '')"
        )


def downgrade() -> None:
    pass  # the documents are as valid under the old code
