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
`updated_at` (the items themselves do not change). On PostgreSQL one UPDATE per batch of
rows: the statement-level triggers that bump the versions fire once a statement, and one
UPDATE per row bumped the same two rows hundreds of thousands of times in one
transaction, which grew slower with each (hours at `large`). The indexes on the text
columns themselves (`ix_article_title`, `ix_person_sort_name`, …), made for those sorts
and read by nothing else, are dropped. Downgrading drops the keys and makes them again.
At bench scale `large` (605,400 items), on a slow 2-core machine: 2 min 13 s on
PostgreSQL, 1 min 37 s on SQLite.

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
    if not words:
        words = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    start = next((i for i, char in enumerate(words) if char.isalnum()), 0)
    return words[start:][:LENGTH]


def _write_keys(bind: sa.Connection, table: str, keys: list[str], rows: list[dict]) -> None:
    """Set `keys` of `rows` ({"id": …, key: …}): on PostgreSQL in one statement."""
    if bind.dialect.name != "postgresql":
        update = f"UPDATE {table} SET {', '.join(f'{k} = :{k}' for k in keys)} WHERE id = :id"
        bind.execute(sa.text(update), rows)
        return
    values, params = [], {}
    for n, row in enumerate(rows):
        values.append(
            f"(CAST(:id{n} AS integer), " + ", ".join(f"CAST(:{k}{n} AS text)" for k in keys) + ")"
        )
        params[f"id{n}"] = row["id"]
        params.update({f"{k}{n}": row[k] for k in keys})
    bind.execute(
        sa.text(
            f"UPDATE {table} SET {', '.join(f'{k} = v.{k}' for k in keys)} "
            f"FROM (VALUES {', '.join(values)}) AS v(id, {', '.join(keys)}) "
            f"WHERE {table}.id = v.id"
        ),
        params,
    )


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
        after = 0
        while rows := bind.execute(select, {"after": after, "batch": BATCH}).all():
            after = rows[-1][0]
            _write_keys(
                bind,
                table,
                list(keys.values()),
                [
                    {"id": row[0]}
                    | {keys[field]: _sort_key(value or "") for field, value in zip(fields, row[1:])}
                    for row in rows
                ],
            )
        for field, key in keys.items():
            op.create_index(f"ix_{table}_{key}", table, [key, "id"])
            # (if it exists: a development build of this migration left them be)
            op.drop_index(f"ix_{table}_{field}", table_name=table, if_exists=True)


def downgrade() -> None:
    for table, keys in KEYS.items():
        for field, key in keys.items():
            op.create_index(f"ix_{table}_{field}", table, [field], if_not_exists=True)
            op.drop_index(f"ix_{table}_{key}", table_name=table)
            op.drop_column(table, key)
