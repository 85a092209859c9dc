"""search documents hold NFKC-normalized text, as queries are

Search normalizes `q` to NFKC (decomposed accents, fullwidth letters). SQLite's
tokenizer keeps fullwidth letters as written, so an item written in them was found by no
query any more, normalized or not. `app.content.search.document_text` now normalizes the
text it indexes; this rewrites the documents whose text NFKC changes. Only documents with
a character outside ASCII can change (ASCII is its own NFKC), and the database finds
those (their text is longer in bytes than in characters), a batch at a time, without
sending every body to Python. On SQLite the update triggers re-index the rows in FTS5; on
PostgreSQL the stored tsvector follows its columns. No schema change; downgrading keeps
the normalized text, which the older code searches as before.

Revision ID: bc061dd78952
Revises: 9d38d00c2f1c
Create Date: 2026-11-27
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bc061dd78952"
down_revision: str | Sequence[str] | None = "9d38d00c2f1c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TEXT_LIMIT = 100_000  # app.content.search
BATCH = 1_000


def upgrade() -> None:
    bind = op.get_bind()
    octets = "length(CAST({c} AS BLOB))" if bind.dialect.name == "sqlite" else "octet_length({c})"
    wide = " OR ".join(f"{octets.format(c=c)} <> length({c})" for c in ("title", "body"))
    select = sa.text(
        f"SELECT id, title, body FROM search_document WHERE id > :after AND ({wide})"
        " ORDER BY id LIMIT :batch"
    )
    update = sa.text("UPDATE search_document SET title = :title, body = :body WHERE id = :id")
    after = 0
    while rows := bind.execute(select, {"after": after, "batch": BATCH}).all():
        after = rows[-1][0]
        changed = []
        for id_, title, body in rows:
            new = (_nfkc(title), _nfkc(body)[:SEARCH_TEXT_LIMIT])
            if new != (title, body):
                changed.append({"id": id_, "title": new[0], "body": new[1]})
        if changed:
            bind.execute(update, changed)


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def downgrade() -> None:
    pass  # the normalized text is as valid under the old schema
