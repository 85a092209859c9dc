"""an index of the audit log by type and slug: which item last held a slug

A topic's or person's feed asked for by a slug no item holds now redirects to the feed of
the item that last held it, if it was renamed (`app.feeds.sources.topic_or_404`): the
audit log says which, and this index finds it without reading the log.

Revision ID: 8e1f4b7c2a90
Revises: 3c9e0f6a2d71
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8e1f4b7c2a90"
down_revision: str | Sequence[str] | None = "3c9e0f6a2d71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entry_type_slug", "audit_entry", ["entity_type", "slug", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_type_slug", table_name="audit_entry")
