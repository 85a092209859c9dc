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

import logging
import unicodedata
from typing import Any

from sqlalchemy import Connection, Engine, String, event, text
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
    digit left out, runs of spaces as one, cut to SORT_KEY_LENGTH. Text that is nothing
    but marks once decomposed (U+00B4, a spacing accent, is a space and a mark) keeps them:
    only blank text has an empty key (`fill_missing_keys` looks for empty keys)."""
    bare = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    folded = unicodedata.normalize("NFC", bare).casefold().translate(_LETTERS)
    words = " ".join(folded.split())
    if not words:
        words = " ".join(unicodedata.normalize("NFC", text).casefold().split())
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
    for name, key in SORT_KEYS.get(target.__tablename__, {}).items():
        setattr(target, key, sort_key(getattr(target, name) or ""))


def listen(base: Any) -> None:
    """Fill the keys of every table below `base` that has some (`SORT_KEYS`), as it is
    flushed: one listener for all, so that a table given a key needs no other change."""
    event.listen(base, "before_insert", fill_keys, propagate=True)
    event.listen(base, "before_update", fill_keys, propagate=True)


def fill_missing_keys(engine: Engine) -> int:
    """Give their keys to rows a server of an earlier release inserted after the migration
    that added the keys (its inserts leave them ""): during a rolling upgrade, such a row
    sorted first until its next edit. `dossier serve` and `dossier migrate` call this; it
    finds nothing, through the keys' indexes, almost always. Best effort: when another
    writer holds the writers' lock past LOCK_WAIT_S, it leaves the rows to the next start
    rather than keep the server from starting. Returns how many keys it set (a person has
    two)."""
    from sqlalchemy.exc import OperationalError

    from app.db import take_writers_lock

    wanted = [
        (table, field, key) for table, keys in SORT_KEYS.items() for field, key in keys.items()
    ]
    probe = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT id FROM {table} WHERE {key} = '' AND {field} <> '' LIMIT 1) AS t"
        for table, field, key in wanted
    )
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if connection.execute(text(probe)).first() is None or not _missing(connection, wanted):
            return 0  # (a name left blank before writes refused one folds to "" itself)
        wait_ms = int(LOCK_WAIT_S * 1000)
        if postgresql:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
        else:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            take_writers_lock(connection)
        except OperationalError:
            logging.getLogger(__name__).warning(
                "Rows an earlier release wrote have no sort keys yet; another writer holds "
                "the writers' lock, so the next start (or `dossier migrate`) will give them."
            )
            return 0
        filled = 0
        for (table, _, key), changed in _missing(connection, wanted).items():
            _write_key(connection, table, key, changed)
            filled += len(changed)
        return filled


def _missing(
    connection: Connection, wanted: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """The keys `fill_missing_keys` would set: {(table, field, key): [{"id", "key"}]}."""
    found = {}
    for table, field, key in wanted:
        rows = connection.execute(
            text(f"SELECT id, {field} FROM {table} WHERE {key} = '' AND {field} <> ''")
        ).all()
        changed = [{"id": id_, "key": sort_key(value)} for id_, value in rows]
        if changed := [row for row in changed if row["key"]]:
            found[(table, field, key)] = changed
    return found


# How long `fill_missing_keys` waits for the writers' lock.
LOCK_WAIT_S = 2.0
_BATCH = 2_000


def _write_key(connection: Connection, table: str, key: str, rows: list[dict[str, Any]]) -> None:
    """Set `key` of `rows` ({"id", "key"}). On PostgreSQL one UPDATE per batch: the
    statement-level triggers that bump the versions fire once a statement, and bumping
    the same rows once a row grew slower with each in one transaction."""
    if connection.dialect.name != "postgresql":
        connection.execute(text(f"UPDATE {table} SET {key} = :key WHERE id = :id"), rows)
        return
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        values = ", ".join(
            f"(CAST(:id{n} AS integer), CAST(:key{n} AS text))" for n in range(len(batch))
        )
        params: dict[str, Any] = {}
        for n, row in enumerate(batch):
            params[f"id{n}"], params[f"key{n}"] = row["id"], row["key"]
        connection.execute(
            text(
                f"UPDATE {table} SET {key} = v.key FROM (VALUES {values}) AS v(id, key) "
                f"WHERE {table}.id = v.id"
            ),
            params,
        )
