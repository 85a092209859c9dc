"""a version per content type, beside the one content version

Exact totals are kept until the content they count changes. With one version for all
content, any write (a person's bio) made every list's next request count again: at a
million rows, 50-180 ms on PostgreSQL and 0.2-0.9 s on SQLite per list, after every write.
`type_version` holds one row per content type, bumped by the same triggers in the same
transaction as the rows, so a total of events is counted again only when an event, or a
table that says something about events (their participants, sponsors, topics, search
documents), changes.

`tagging` and `search_document` hold rows of every type: their triggers bump the types of
the rows the statement wrote (PostgreSQL: transition tables, one trigger per event; SQLite:
row triggers read NEW and OLD). On PostgreSQL the content version is still bumped first, by
every trigger: every writing transaction takes that one row's lock before any type's, so
writers queue on it as before and never lock two types in opposite orders (no deadlock).
SQLite has one writer at a time anyway, and its triggers run once per row: they bump the
types only (two UPDATEs a row made generating the `small` dataset 50% slower), so there
`content_version.version` stays where it was; nothing reads it any more (its `epoch` is
read).

Revision ID: c7a2e5f1d9b3
Revises: 8b3e5d1f7c42
Create Date: 2026-11-26
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7a2e5f1d9b3"
down_revision: str | Sequence[str] | None = "8b3e5d1f7c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES = ("topic", "organization", "person", "article", "quote", "event", "publication", "resource")
# Each table that holds one type's facts: the types whose totals its rows can change.
OWNED = {
    "topic": ("topic",),
    "organization": ("organization",),
    "person": ("person",),
    # People are listed by their current organization.
    "affiliation": ("person", "organization"),
    "article": ("article",),
    "article_author": ("article",),
    "article_resource": ("article",),
    "related_item": ("article",),
    "quote": ("quote",),
    "event": ("event",),
    "event_participant": ("event",),
    "event_sponsor": ("event",),
    "publication": ("publication",),
    "publication_author": ("publication",),
    "resource": ("resource",),
}
# Tables of every type: the row's `entity_type` says which.
MIXED = ("tagging", "search_document")
BUMP = "UPDATE content_version SET version = version + 1 WHERE id = 1"
BUMP_TYPES = "UPDATE type_version SET version = version + 1 WHERE name"

# The previous revision's triggers (migration `content_version`), restored by downgrade.
OLD_TABLES = (*MIXED, *OWNED)


def _new_epoch() -> None:
    """Versions start again at 0 (upgrade) or stop moving (downgrade, SQLite): a new epoch
    keeps a process that lived through it from matching what it kept before."""
    op.execute(
        sa.text("UPDATE content_version SET epoch = :epoch WHERE id = 1").bindparams(
            epoch=secrets.token_hex(16)
        )
    )


def upgrade() -> None:
    _new_epoch()
    op.create_table(
        "type_version",
        sa.Column("name", sa.String(length=24), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_type_version")),
    )
    op.bulk_insert(
        sa.table("type_version", sa.column("name"), sa.column("version")),
        [{"name": name, "version": 0} for name in TYPES],
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def _postgresql_upgrade() -> None:
    for table in OLD_TABLES:
        op.execute(f"DROP TRIGGER content_version_{table} ON {table}")
    op.execute("DROP FUNCTION bump_content_version()")
    # The trigger's arguments name the types.
    op.execute(
        "CREATE FUNCTION bump_type_version() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; {BUMP_TYPES} = ANY(TG_ARGV); RETURN NULL; END $$"
    )
    # The types of the rows written: the statement's transition tables (each trigger
    # declares those its event has; a branch naming another is never run).
    op.execute(
        "CREATE FUNCTION bump_entity_type_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {BUMP}; "
        f"IF TG_OP = 'INSERT' THEN {BUMP_TYPES} IN (SELECT entity_type FROM new_rows); "
        f"ELSIF TG_OP = 'DELETE' THEN {BUMP_TYPES} IN (SELECT entity_type FROM old_rows); "
        f"ELSIF TG_OP = 'UPDATE' THEN {BUMP_TYPES} IN "
        "(SELECT entity_type FROM new_rows UNION SELECT entity_type FROM old_rows); "
        "ELSE UPDATE type_version SET version = version + 1; "  # TRUNCATE: every type
        "END IF; RETURN NULL; END $$"
    )
    for table, types in OWNED.items():
        # Once per statement: a bulk insert of a million rows bumps once.
        arguments = ", ".join(f"'{t}'" for t in types)
        op.execute(
            f"CREATE TRIGGER type_version_{table} AFTER INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
            f"bump_type_version({arguments})"
        )
    transitions = {
        "insert": "NEW TABLE AS new_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
    }
    for table in MIXED:
        # PostgreSQL allows transition tables on single-event triggers only.
        for event, tables in transitions.items():
            op.execute(
                f"CREATE TRIGGER type_version_{table}_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                "EXECUTE FUNCTION bump_entity_type_version()"
            )
        op.execute(
            f"CREATE TRIGGER type_version_{table}_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_entity_type_version()"
        )


def _sqlite_upgrade() -> None:
    for table in OLD_TABLES:
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER content_version_{table}_{action}")
    # Per table and action: the types to bump, as SQL (a row's own type for MIXED tables).
    bumped: dict[str, dict[str, str]] = {
        table: dict.fromkeys(("INSERT", "UPDATE", "DELETE"), ", ".join(f"'{t}'" for t in types))
        for table, types in OWNED.items()
    }
    for table in MIXED:
        bumped[table] = {
            "INSERT": "NEW.entity_type",
            "UPDATE": "NEW.entity_type, OLD.entity_type",
            "DELETE": "OLD.entity_type",
        }
    for table, actions in bumped.items():
        for action, names in actions.items():
            op.execute(
                f"CREATE TRIGGER type_version_{table}_{action.lower()} AFTER {action} "
                f"ON {table} BEGIN {BUMP_TYPES} IN ({names}); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in OWNED:
            op.execute(f"DROP TRIGGER type_version_{table} ON {table}")
        for table in MIXED:
            for event in ("insert", "update", "delete", "truncate"):
                op.execute(f"DROP TRIGGER type_version_{table}_{event} ON {table}")
        op.execute("DROP FUNCTION bump_type_version()")
        op.execute("DROP FUNCTION bump_entity_type_version()")
        op.execute(
            "CREATE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in OLD_TABLES:
            op.execute(
                f"CREATE TRIGGER content_version_{table} AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
            )
    else:
        for table in OLD_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER type_version_{table}_{action}")
                op.execute(
                    f"CREATE TRIGGER content_version_{table}_{action} AFTER {action.upper()} "
                    f"ON {table} BEGIN {BUMP}; END"
                )
    op.drop_table("type_version")
    _new_epoch()
