"""SQLite: each document's type is a word of its own in the full-text index

Migration `search_by_type` put each document's type in SQLite's FTS5 index (column
`entity_type`) so that a search of one type intersects the words' matches with the type's.
But the type went through the same tokenizer as the text: `organization` was indexed as
the stem `organ`, `publication` as `public`, `quote` as `quot`, `article` as `articl`,
the same words as those of every text that says "organized", "public", "quoted",
"articles". FTS5 keeps one list of documents per word, whatever the column: asking for the
organisations read the documents of every organisation and of every text with "organ..."
in it, and dropped the latter by column (at `large`: 3,043 organisations, 12.8 ms of a
`search(types: [ORGANIZATION])` alone; with a word, and ranked by `bm25()`, which counts
each phrase's documents over the whole index, 50-64 ms).

Now the index's third column is `type_word`, `dossiertype` + the type
(`dossiertypeorganization`), which no text says: its list of documents is the type's own.
FTS5 reads it through the view `search_fts_source` (`search_document` with that column
computed), which its external-content table names as its content; the triggers index the
same value. Queries ask `type_word : ("dossiertypeorganization")` (`app.content.search`).

The index is rebuilt from `search_document` (SQLite only; PostgreSQL's schema is
unchanged), as `search_by_type` did: ~2 min at `large` on a 2-core machine.

Revision ID: fa4233ee9d8e
Revises: e354dc538fd8
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "fa4233ee9d8e"
down_revision: str | Sequence[str] | None = "e354dc538fd8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"
# The type's word, `app.content.search.TYPE_WORD` + the type's name: letters only, so
# unicode61 keeps it one token.
TYPE_WORD = "'dossiertype' || {row}.entity_type"

DROP = [
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_fts",
    "DROP VIEW IF EXISTS search_fts_source",
]


def _fts(content: str, columns: Sequence[str], values: Sequence[str]) -> list[str]:
    """The FTS5 table over `content` (`search_document` or the view) and the triggers that
    keep it: the index's `columns` hold each row's `values` (`{row}` is `new` or `old`)."""
    names = ", ".join(columns)

    def of(row: str) -> str:
        return ", ".join(value.format(row=row) for value in values)

    delete = f"INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {of('old')});"
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {of('new')});"
    return [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, content='{content}', "
        f"content_rowid='id', {TOKENIZE})",
        f"CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN {insert} END",
        f"CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN {delete} END",
        # The row id, the type and the text: an update of anything else is no change to index.
        "CREATE TRIGGER search_document_au AFTER UPDATE OF id, title, body, entity_type "
        f"ON search_document BEGIN {delete} {insert} END",
        # Read every document into the new index, then merge it into one segment, as
        # `dossier generate` leaves it (queries read one b-tree, not dozens).
        "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
        "INSERT INTO search_fts(search_fts) VALUES ('optimize')",
    ]


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    view = (
        "CREATE VIEW search_fts_source AS SELECT id, title, body, "
        f"{TYPE_WORD.format(row='search_document')} AS type_word FROM search_document"
    )
    columns = ("title", "body", "type_word")
    values = ("{row}.title", "{row}.body", TYPE_WORD)
    for statement in [*DROP, view, *_fts("search_fts_source", columns, values)]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    columns = ("title", "body", "entity_type")
    values = tuple(f"{{row}}.{c}" for c in columns)
    for statement in [*DROP, *_fts("search_document", columns, values)]:
        op.execute(statement)
