"""plain text of rich text breaks at figures, lists and tables: recompute it where it changed

`bio_text` and `body_text` (and the search documents made of them) ran the words on either
side of a figure, list or table together: "Rod SearceyAfter" was neither readable nor
searchable. `app.content.text.html_to_text` now breaks there; this recomputes the stored
text of the rows whose HTML has such an element (a write that changes nothing no longer
rewrites anything, so re-importing would not). No schema change; downgrading keeps the
new text.

Revision ID: 2f9c4e8a1b70
Revises: c7a2e5f1d9b3
Create Date: 2026-11-26
"""

import html
import re
from collections.abc import Sequence

import nh3
import sqlalchemy as sa
from alembic import op

revision: str = "2f9c4e8a1b70"
down_revision: str | Sequence[str] | None = "c7a2e5f1d9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (rich text column, its plain text column, the search document's body fields)
RICH = {
    "person": ("bio", "bio_text", ("title", "bio_text")),
    "article": ("body", "body_text", ("subtitle", "body_text")),
    "event": ("body", "body_text", ("subtitle", "summary", "body_text")),
}
# Elements that newly break the text (sanitized HTML writes its tags in lower case).
TAGS = ("<figure", "<figcaption", "<ul", "<ol", "<table", "<thead", "<tbody", "<td", "<th", "<hr")
SEARCH_TEXT_LIMIT = 100_000  # app.content.search

# The plain text of sanitized HTML, frozen here as `app.content.text.html_to_text` had it
# when this migration was written (3697e53), so that a later change to the app's rule does
# not change what this migration writes to a database that has not run it yet. Never edit
# this copy to follow the app; a new rule for stored rows is a new migration.
#
# Where the text breaks a paragraph: at either end of a block, and where table cells meet
# (a space).
BLOCK = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|thead|tbody|figure|figcaption)\b[^>]*>"
    r"|<(?:br|hr)\b[^>]*>",
    re.IGNORECASE,
)
CELL = re.compile(r"</t[dh]>", re.IGNORECASE)
SPACE = re.compile(r"\s+")


def _html_to_text(value: str) -> str:
    """Plain text of sanitized HTML, paragraphs separated by blank lines."""
    marked = BLOCK.sub("\n\n", CELL.sub(" ", value))
    stripped = nh3.clean(marked, tags=set(), attributes={})
    text = html.unescape(stripped)
    paragraphs = [SPACE.sub(" ", p).strip() for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def upgrade() -> None:
    bind = op.get_bind()
    for table, (rich, plain, fields) in RICH.items():
        having = " OR ".join(f"{rich} LIKE '%{tag}%'" for tag in TAGS)
        columns = ", ".join(dict.fromkeys(("id", rich, plain, *fields)))
        rows = bind.execute(sa.text(f"SELECT {columns} FROM {table} WHERE {having}")).mappings()
        for row in list(rows):
            text = _html_to_text(row[rich]) if row[rich] else None
            if text == row[plain]:
                continue
            bind.execute(
                sa.text(f"UPDATE {table} SET {plain} = :text WHERE id = :id"),
                {"text": text, "id": row["id"]},
            )
            values = {**row, plain: text}
            body = " ".join(str(values[f] or "") for f in fields)[:SEARCH_TEXT_LIMIT]
            bind.execute(
                sa.text(
                    "UPDATE search_document SET body = :body"
                    " WHERE entity_type = :type AND entity_id = :id"
                ),
                {"body": body, "type": table, "id": row["id"]},
            )


def downgrade() -> None:
    pass  # the new text is as valid under the old schema
