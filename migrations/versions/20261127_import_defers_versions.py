"""PostgreSQL: a bulk write may defer the version bumps to its end (`dossier import`)

Every statement that writes content bumps `content_version` and its types' rows in
`type_version` (migration `c7a2e5f1d9b3`): a dozen bumps of the same few rows per item
written. Within one transaction PostgreSQL keeps every version of an updated row until it
commits, and each update first walks the versions before it: an import, one transaction
of thousands of items, slowed down with every line. 1,000 lines took 8 s, 3,000 took
over 70 s, and the 10,333 items of `bench` scale `small` 5.5 minutes.

The trigger functions now leave the bumps out while the transaction has set
`dossier.versions_deferred` to `on` (`SET LOCAL`); the writer then bumps every version
once before it commits (`app.transfer`). The writers' lock is the `content_version` row,
held all along, so no other writer sees the versions between. SQLite updates a row in
place, and its triggers are unchanged.

Revision ID: e26ebf82ba8a
Revises: d2168608de6d
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e26ebf82ba8a"
down_revision: str | Sequence[str] | None = "d2168608de6d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE content_version SET version = version + 1 WHERE id = 1"
BUMP_TYPES = "UPDATE type_version SET version = version + 1 WHERE name"
DEFERRED = "IF current_setting('dossier.versions_deferred', true) = 'on' THEN RETURN NULL; END IF; "
ENTITY_TYPES = (
    f"IF TG_OP = 'INSERT' THEN {BUMP_TYPES} IN (SELECT entity_type FROM new_rows); "
    f"ELSIF TG_OP = 'DELETE' THEN {BUMP_TYPES} IN (SELECT entity_type FROM old_rows); "
    f"ELSIF TG_OP = 'UPDATE' THEN {BUMP_TYPES} IN "
    "(SELECT entity_type FROM new_rows UNION SELECT entity_type FROM old_rows); "
    "ELSE UPDATE type_version SET version = version + 1; "  # TRUNCATE: every type
    "END IF; "
)


def _functions(deferrable: bool) -> None:
    guard = DEFERRED if deferrable else ""
    op.execute(
        "CREATE OR REPLACE FUNCTION bump_type_version() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {guard}{BUMP}; {BUMP_TYPES} = ANY(TG_ARGV); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION bump_entity_type_version() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {guard}{BUMP}; {ENTITY_TYPES}RETURN NULL; END $$"
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _functions(deferrable=True)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _functions(deferrable=False)
