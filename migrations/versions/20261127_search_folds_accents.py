"""PostgreSQL folds accents as SQLite does: `q=bogota` finds "Bogotá"

SQLite's FTS5 tokenizer removes diacritics (`remove_diacritics 2`); PostgreSQL's `english`
configuration kept them, so the same query found an item on one database and not on the
other. PostgreSQL now searches with the text search configuration `dossier_search`: a
copy of `english` whose words pass through the `unaccent` dictionary before stemming.
Matching, ranking and snippets all use it, and `ts_headline` still shows and marks the
text as written ("<mark>Bogotá</mark>").

`unaccent` is a contrib extension that PostgreSQL (13+) marks trusted: a role with CREATE
on the database (its owner) may install it, no superuser needed; managed services offer
it. Where it cannot be installed (contrib missing, no privilege), this migration still
creates `dossier_search`, without the folding (as before), and warns; installing
`unaccent` later and running the statements in `fold_accents()` by hand adds it (the
search vectors must then be recomputed: `UPDATE search_document SET title = title`).

The stored search vector is recomputed for every document (a table rewrite) and the GIN
index rebuilt: at `large` (605,000 documents) 4 min 34 s on a 2-core machine. SQLite: no
change.

Revision ID: a3a0fcf88e30
Revises: e08422a35171
Create Date: 2026-11-27
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3a0fcf88e30"
down_revision: str | Sequence[str] | None = "e08422a35171"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIG = "dossier_search"
DOCUMENT = "coalesce(title, '') || ' ' || coalesce(body, '')"
log = logging.getLogger("alembic.runtime.migration")


def _vector(config: str) -> None:
    """Recompute `search_document.tsv` with `config`, and its GIN index, in bulk."""
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute("DROP INDEX ix_search_document_tsv")
    op.execute("ALTER TABLE search_document DROP COLUMN tsv")
    op.execute(
        "ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{config}'::regconfig, {DOCUMENT})) STORED"
    )
    op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")
    op.execute("ANALYZE search_document")


def _install_unaccent() -> bool:
    """Whether the `unaccent` extension is (or could now be) installed."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError as exc:
        log.warning(
            "PostgreSQL's unaccent extension could not be installed (%s): search will not "
            "fold accents (q=bogota will not find 'Bogotá') until it is; see migration %s.",
            str(exc.orig).strip().splitlines()[0],
            revision,
        )
        return False
    return True


def fold_accents() -> list[str]:
    """What makes `dossier_search` fold accents, once `unaccent` is installed."""
    return [
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
    ]


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    unaccent = _install_unaccent()
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)")
    if unaccent:
        for statement in fold_accents():
            op.execute(statement)
    _vector(CONFIG)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    _vector("english")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
