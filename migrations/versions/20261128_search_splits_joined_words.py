"""PostgreSQL searches the words of "LeanIn.org", "U.S.", "9/11" and "Covid-19", as SQLite does

PostgreSQL's text search parser reads `LeanIn.org` as one host name, `U.S` and `9/11` as
file names, `foo@bar.org` as one e-mail address: each was one word of the search vector,
which no query could match (queries search `q`'s words, `leanin` and `org`). Searching an
organization's own name ("U.S. Department of Justice") found nothing on PostgreSQL, and
everything on SQLite, whose tokenizer splits words at every such character.

The search vector now reads the document with a unit separator (U+001F, a control
character no stored text holds, and no letter in any locale: a zero-width space is one
where LC_CTYPE is `C`) after each `.`, `/`,
`@` and `:`, where the parser ends a word: `leanin` and `org`, as SQLite has them; and
after a hyphen before a digit, which the parser read as a sign: "Covid-19" was `covid` and
`-19`, which `q=Covid-19` (`covid`, `19`) did not match.
Snippets read the same text, and the separators are taken out of them
(`app.content.search.split_joined`). The stored vector is recomputed for every document (a table
rewrite) and its GIN indexes rebuilt: minutes at `large`. SQLite: no change.

Revision ID: 7b2d41c9e5a0
Revises: fa4233ee9d8e
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7b2d41c9e5a0"
down_revision: str | Sequence[str] | None = "fa4233ee9d8e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIG = "dossier_search"
DOCUMENT = "coalesce(title, '') || ' ' || coalesce(body, '')"
# As `app.content.search.split_joined` (kept here as it is now: a change there needs a
# migration of its own).
SPLIT = "regexp_replace({text}, '([./@:]|-(?=[0-9]))', '\\1' || chr(31), 'g')"
TYPES = ("topic", "organization", "person", "article", "quote", "event", "publication", "resource")


def _vector(document: str) -> None:
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name in TYPES:
        op.execute(f"DROP INDEX ix_search_document_tsv_{name}")
    op.execute("DROP INDEX ix_search_document_tsv")
    op.execute("ALTER TABLE search_document DROP COLUMN tsv")
    op.execute(
        "ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{CONFIG}'::regconfig, {document})) STORED"
    )
    op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")
    for name in TYPES:
        op.execute(
            f"CREATE INDEX ix_search_document_tsv_{name} ON search_document USING gin (tsv) "
            f"WHERE (entity_type = '{name}') IS TRUE"
        )
    op.execute("ANALYZE search_document")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    _vector(SPLIT.format(text=DOCUMENT))


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    _vector(DOCUMENT)
