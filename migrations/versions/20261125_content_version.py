"""a content version: one counter every write to content bumps, by trigger

Exact totals (`meta.total`, `totalCount`) of large lists cost a scan; the query layer
keeps them until the content changes, and this counter says when it has. Triggers bump
it in the writing transaction, whoever writes (the API, `dossier import`, the generator,
psql), so a reader sees the new version exactly when it sees the new rows.

Revision ID: 5d8f3b2c7a61
Revises: 9d4f6b2a8e51
Create Date: 2026-11-25
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8f3b2c7a61"
down_revision: str | Sequence[str] | None = "9d4f6b2a8e51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table a public list, count, search or stream reads.
TABLES = (
    "search_document",
    "topic",
    "tagging",
    "organization",
    "person",
    "affiliation",
    "article",
    "article_author",
    "article_resource",
    "related_item",
    "quote",
    "event",
    "event_participant",
    "event_sponsor",
    "publication",
    "publication_author",
    "resource",
)
BUMP = "UPDATE content_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        # Random per database: a recreated database never repeats an old (epoch, version).
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.execute(
        sa.text(
            "INSERT INTO content_version (id, version, epoch) VALUES (1, 0, :epoch)"
        ).bindparams(epoch=secrets.token_hex(16))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            # Once per statement: a bulk insert of a million rows bumps it once.
            op.execute(
                f"CREATE TRIGGER content_version_{table} AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
            )
    else:
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER content_version_{table}_{action.lower()} AFTER {action} "
                    f"ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER content_version_{table} ON {table}")
        op.execute("DROP FUNCTION bump_content_version()")
    else:
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER content_version_{table}_{action}")
    op.drop_table("content_version")
