"""The order of text sorts (`sort=title`, `name`, `sort_name`), the same on SQLite and PostgreSQL.

A database orders text by its collation: SQLite by code point (capitals, then lowercase,
then accented letters after "z": "Ábrego" after "Zhang"), PostgreSQL by the database's
locale (`en_US.UTF-8` one way, `C` another). So the same list came back in another order
on each, and on SQLite in an order no reader expects.

Each sorted text field has a key column beside it (`SORT_KEYS`: `title_key` beside `title`)
holding `sort_key(value)`, which text sorts order by, the row id breaking ties. The key is
compared by code point on both databases (PostgreSQL's column collation is `C`), so both
give one order: letters without their accents and case (`unaccent`'s ł ø æ ß đ ħ too), and
punctuation before the first letter or digit ignored ("“Why Now?”" among the W's).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import Engine, String, event, text
from sqlmodel import Field

# Letters NFKD does not split into a base letter and a mark, folded as PostgreSQL's
# `unaccent` folds them (after casefolding, which makes ß "ss" itself).
_LETTERS = str.maketrans(
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

# Past this many characters a key says nothing a reader would sort by, and a longer one
# could pass PostgreSQL's limit on an index entry (NFKD turns one character into several:
# "ﷺ" is 18). Rows whose keys agree this far are ordered by id.
SORT_KEY_LENGTH = 120

# The key columns' type: compared by code point on PostgreSQL too (`C`, which every
# PostgreSQL has), as SQLite's default collation does.
KEY_TYPE: Any = String(SORT_KEY_LENGTH).with_variant(
    String(SORT_KEY_LENGTH, collation="C"), "postgresql"
)

# Table -> {sorted field: its key column}.
SORT_KEYS: dict[str, dict[str, str]] = {
    "topic": {"name": "name_key"},
    "organization": {"name": "name_key"},
    "person": {"name": "name_key", "sort_name": "sort_name_key"},
    "article": {"title": "title_key"},
    "event": {"title": "title_key"},
    "publication": {"title": "title_key"},
    "resource": {"name": "name_key"},
}


def sort_key(text: str) -> str:
    """What `text` sorts by: no marks, casefolded, punctuation before its first letter or
    digit left out, runs of spaces as one, cut to SORT_KEY_LENGTH."""
    bare = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    folded = unicodedata.normalize("NFC", bare).casefold().translate(_LETTERS)
    words = " ".join(folded.split())
    start = next((i for i, char in enumerate(words) if char.isalnum()), 0)
    return words[start:][:SORT_KEY_LENGTH]


def key_field() -> Any:
    """A key column: never NULL; "" until the row's first flush fills it (`fill_keys`)."""
    return Field(
        default="",
        sa_type=KEY_TYPE,
        nullable=False,
        sa_column_kwargs={"server_default": text("''")},
    )


def fill_keys(_mapper: Any, _connection: Any, target: Any) -> None:
    """Set a row's key columns from its fields, as every write through the ORM flushes it.
    (`dossier generate`, which inserts without the ORM, calls `sort_key` itself.)"""
    for name, key in SORT_KEYS[target.__tablename__].items():
        setattr(target, key, sort_key(getattr(target, name) or ""))


def listen(model: Any) -> None:
    event.listen(model, "before_insert", fill_keys)
    event.listen(model, "before_update", fill_keys)


def fill_missing_keys(engine: Engine) -> int:
    """Give their keys to rows a server of an earlier release wrote after the migration that
    added the keys (its inserts leave them ""): during a rolling upgrade, such a row sorted
    first until its next edit. `dossier serve` and `dossier migrate` call this; it finds
    nothing, through the keys' indexes, almost always. Returns how many keys it set."""
    from app.db import take_writers_lock

    wanted = [
        (table, field, key) for table, keys in SORT_KEYS.items() for field, key in keys.items()
    ]
    probe = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT id FROM {table} WHERE {key} = '' AND {field} <> '' LIMIT 1) AS t"
        for table, field, key in wanted
    )
    with engine.begin() as connection:
        if connection.execute(text(probe)).first() is None:
            return 0
        take_writers_lock(connection)
        filled = 0
        for table, field, key in wanted:
            rows = connection.execute(
                text(f"SELECT id, {field} FROM {table} WHERE {key} = '' AND {field} <> ''")
            ).all()
            changed = [{"id": id_, "key": sort_key(value)} for id_, value in rows]
            changed = [row for row in changed if row["key"]]
            if changed:
                connection.execute(text(f"UPDATE {table} SET {key} = :key WHERE id = :id"), changed)
                filled += len(changed)
        return filled
