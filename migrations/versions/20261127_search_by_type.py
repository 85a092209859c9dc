"""SQLite's full-text index holds each document's type

A search of one type (`/search?type=person`, a collection's `q`) asked FTS5 for every
match of the words and then looked for matches of that type among them: for a common word
and a rare type, the newest hundreds of thousands of matches were read to find 2,000
(0.46 s at `large`). With the type in the index (column `entity_type`, the name the
external-content table `search_document` gives it), FTS5 intersects the word's matches
with the type's own. The triggers index the type too, and follow updates of the indexed
columns only: later columns of `search_document` can change without re-indexing its text.

The index is rebuilt from `search_document` (SQLite only; PostgreSQL's schema is
unchanged): at `large` (605,000 documents, a 5 GB file) it took 1 min 51 s on a busy
2-core machine, in the migration's one transaction (readers of a WAL database go on).

Revision ID: 618478cd4d4e
Revises: 9e4a2c6d8f13
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "618478cd4d4e"
down_revision: str | Sequence[str] | None = "9e4a2c6d8f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


def _fts(columns: Sequence[str], update_of: str) -> list[str]:
    """The FTS5 table over `search_document`'s `columns` and the triggers that keep it."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='search_document', "
        f"content_rowid='id', {TOKENIZE})",
        "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
        f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new}); END",
        "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER search_document_au AFTER UPDATE{update_of} ON search_document BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new}); END",
        # Read every document into the new index, then merge it into one segment, as
        # `dossier generate` leaves it (queries read one b-tree, not dozens).
        "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
        "INSERT INTO search_fts(search_fts) VALUES ('optimize')",
    ]


DROP = [
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_fts",
]


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    # The row id, the type and the text: an update of anything else is no change to index.
    columns = ("title", "body", "entity_type")
    for statement in [*DROP, *_fts(columns, " OF id, title, body, entity_type")]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for statement in [*DROP, *_fts(("title", "body"), "")]:
        op.execute(statement)
