"""text sorts order by a key of their own: one order on SQLite and PostgreSQL

`sort=title`, `name` and `sort_name` ordered by the column itself, so by each database's
collation: SQLite by code point ("Ábrego" and "de Soto" after "Zhang"), PostgreSQL by the
database's locale. The same list came back in two orders, and on SQLite in one no reader
expects.

Each sorted text column gets a key column beside it (`title_key` beside `title`), filled
from it by `app.models.sort_keys.sort_key` on every write, and here for the rows already
stored; lists order by the key and the row id, through an index on both. The key has no
accents or case, ignores punctuation before the first letter or digit, and is compared by
code point on both databases (PostgreSQL: collation `C`).

Filling the keys updates every row of those tables, which moves each type's version
(cached lists are dropped: their order may change) but no item's `version` or
`updated_at` (the items themselves do not change). At `large`, about a minute on either
database. Downgrading drops the columns and indexes.

Revision ID: 3c9e0f6a2d71
Revises: 7b2d41c9e5a0
Create Date: 2026-11-28
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9e0f6a2d71"
down_revision: str | Sequence[str] | None = "7b2d41c9e5a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000
KEYS = {
    "topic": {"name": "name_key"},
    "organization": {"name": "name_key"},
    "person": {"name": "name_key", "sort_name": "sort_name_key"},
    "article": {"title": "title_key"},
    "event": {"title": "title_key"},
    "publication": {"title": "title_key"},
    "resource": {"name": "name_key"},
}

# `app.models.sort_keys.sort_key` as it was when this migration was written, so that a
# later change to the app's rule does not change what this writes to a database that has
# not run it yet. Never edit this copy to follow the app: a new rule for stored rows is a
# new migration.
LENGTH = 120
LETTERS = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "ŀ": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "\u0131": "i",  # dotless i
        "ŧ": "t",
        "þ": "th",
    }
)


def _sort_key(text: str) -> str:
    bare = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    folded = unicodedata.normalize("NFC", bare).casefold().translate(LETTERS)
    words = " ".join(folded.split())
    start = next((i for i, char in enumerate(words) if char.isalnum()), 0)
    return words[start:][:LENGTH]


def _key_type() -> sa.types.TypeEngine:
    if op.get_bind().dialect.name == "postgresql":
        return sa.String(LENGTH, collation="C")
    return sa.String(LENGTH)


def upgrade() -> None:
    bind = op.get_bind()
    for table, keys in KEYS.items():
        for key in keys.values():
            op.add_column(
                table, sa.Column(key, _key_type(), nullable=False, server_default=sa.text("''"))
            )
        fields = list(keys)
        select = sa.text(
            f"SELECT id, {', '.join(fields)} FROM {table} WHERE id > :after ORDER BY id "
            "LIMIT :batch"
        )
        update = sa.text(
            f"UPDATE {table} SET "
            + ", ".join(f"{key} = :{key}" for key in keys.values())
            + " WHERE id = :id"
        )
        after = 0
        while rows := bind.execute(select, {"after": after, "batch": BATCH}).all():
            after = rows[-1][0]
            bind.execute(
                update,
                [
                    {"id": row[0]}
                    | {keys[field]: _sort_key(value or "") for field, value in zip(fields, row[1:])}
                    for row in rows
                ],
            )
        for key in keys.values():
            op.create_index(f"ix_{table}_{key}", table, [key, "id"])


def downgrade() -> None:
    for table, keys in KEYS.items():
        for key in keys.values():
            op.drop_index(f"ix_{table}_{key}", table_name=table)
            op.drop_column(table, key)
