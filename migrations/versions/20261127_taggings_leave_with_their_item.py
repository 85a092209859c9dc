"""an item's row deleted by anyone takes its taggings with it

A topic's public stream reads its pages and counts from the taggings alone
(`0b70a7beb28e`), then loads each page's items by id. The API only ever soft-deletes, but a
row deleted behind its back (`DELETE FROM article` in `psql`, a purge of soft-deleted
rows) left its taggings, still public: every page of the topic that reached one was a 500
(REST stream, feeds, GraphQL `stream`), and its count one too many. Before, the stream
joined the items, and such a row simply dropped out.

Triggers delete them, as `tagging_follows_<type>` keep their `public_at`: whoever deletes
the row, in the same statement. Taggings already orphaned are deleted here.

Revision ID: c29c004091e6
Revises: 9d84df82911f
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c29c004091e6"
down_revision: str | Sequence[str] | None = "9d84df82911f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGGED = ("article", "event", "publication", "quote", "resource", "topic", "organization", "person")


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in TAGGED:
        op.execute(
            f"DELETE FROM tagging WHERE entity_type = '{table}' "
            f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = tagging.entity_id)"
        )
        leave = f"DELETE FROM tagging WHERE entity_type = '{table}' AND entity_id = OLD.id"
        if postgresql:
            op.execute(
                f"CREATE FUNCTION tagging_leaves_with_{table}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {leave}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER tagging_leaves_with_{table} AFTER DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION tagging_leaves_with_{table}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER tagging_leaves_with_{table} AFTER DELETE ON {table} "
                f"FOR EACH ROW BEGIN {leave}; END"
            )


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in TAGGED:
        op.execute(
            f"DROP TRIGGER tagging_leaves_with_{table}" + (f" ON {table}" if postgresql else "")
        )
        if postgresql:
            op.execute(f"DROP FUNCTION tagging_leaves_with_{table}()")
