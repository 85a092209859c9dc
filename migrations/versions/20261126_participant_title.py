"""event_participant.title: a person's title as the event presents it

The seed page's speaker cards give each speaker lines of their own under the name
("Hamid and Christina Moghadam Director of Iranian Studies, Stanford University"), not
the profile's title ("Research Fellow, Hoover Institution"): nowhere to keep them before.

Revision ID: 9e4a2c6d8f13
Revises: 6b1d8e3f5a27
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9e4a2c6d8f13"
down_revision: str | Sequence[str] | None = "6b1d8e3f5a27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of the table on SQLite would drop its triggers.
    op.add_column(
        "event_participant",
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE event_participant DROP COLUMN title")
