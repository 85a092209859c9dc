"""PostgreSQL: a GIN index of each type's search vectors, for exact totals with words

A list with words (`GET /api/v1/articles?q=security`, a topic's stream with `q`, GraphQL's
`totalCount` with `filter: {q}`) counts its matches exactly. PostgreSQL prices `tsv @@
query` at one operator's cost, not counting the detoasting of each row's search vector
(~1.5 KB compressed, stored out of line), so it counted a word most documents hold by a
sequential scan of `search_document`, by probing it once per item, or by reading the
type's documents through their (type, item) index, detoasting every vector each way: 1.4 to
2 s at `bench` scale `large` (605,000 documents). The GIN index of every type answers a
type's word with the matches of all types (520,000 for that word).

Each content type gets a partial GIN index of its own documents,
`ix_search_document_tsv_<type>`, which the counts read (`app.content.word_counts`). Its
predicate is `(entity_type = '<type>') IS TRUE`, not `entity_type = '<type>'`: a statement
that says the latter (a page, search) may as well read the documents through the (type,
item) index, and the planner, seeing no difference in price, did so for a word in nearly
every document. Only the counts say the former, which no other index answers; pages and
search are planned as before. Built in about 30 s at `large` on a 2-core machine (107 MB in all;
the index of every type is 159 MB, and stays: search across types reads it). Each write of
a search document now updates two GIN indexes instead of one. SQLite: no change (its FTS5
index already holds each document's type, migration `search_by_type`).

Revision ID: e354dc538fd8
Revises: e23e12bc058c
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e354dc538fd8"
down_revision: str | Sequence[str] | None = "e23e12bc058c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES = ("topic", "organization", "person", "article", "quote", "event", "publication", "resource")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name in TYPES:
        op.execute(
            f"CREATE INDEX ix_search_document_tsv_{name} ON search_document USING gin (tsv) "
            f"WHERE (entity_type = '{name}') IS TRUE"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name in TYPES:
        op.execute(f"DROP INDEX ix_search_document_tsv_{name}")
