"""search documents follow their item's visibility, and leave with its row, whoever writes it

Each search document holds its item's visibility, `public_at` and `deleted`
(`e08422a35171`), which search filters its matches on. Only the write layer kept that copy,
so a row written behind the API's back left it stale: after `UPDATE article SET status =
'draft'` in `psql`, `/api/v1/search` counted the draft (`meta.total` 8) and then dropped it
from the page (7 results); after a `DELETE FROM article`, a total of 1 with no results.
Pages came up short, and totals disagreed with them.

Triggers now keep it, as the taggings' copy is kept (`0b70a7beb28e`, `c29c004091e6`): on
each content table, `search_follows_<type>` sets the document's `public_at` and `deleted`
whenever the row's status, publication time or deletion changes, with the taggings'
expression for `public_at` (as `app.content.visibility.public_since`: a published item's
`published_at`; topics, organizations and people: 0001-01-01; NULL: never), and
`search_leaves_with_<type>` deletes the document with the row. On SQLite,
`search_document_ad` then deletes its words from `search_fts`, as for any deleted document;
the visibility columns are not in FTS5's index, and `search_document_au` (`618478cd4d4e`)
does not fire for them.

A document's own triggers bump its type's version once per statement (`c7a2e5f1d9b3`), and
the statement that fires these triggers, a write to the item's table, bumps that same type
itself. On PostgreSQL a row trigger's write is a statement of its own: written plainly, each
row written bumped the versions again, so a transaction updated the one `content_version`
row once per row, and PostgreSQL walks every earlier version of a row at each update
(`e26ebf82ba8a`). At `bench` scale `large`, `UPDATE article SET status = 'archived'` of
19,212 articles took 20 s with these triggers against 6 s without them (0.85 s with no
trigger at all: the taggings' triggers bump per row too), and the cost grows with the square
of the rows. The functions therefore set `dossier.versions_deferred` around their own write,
as `dossier import` sets it around its transaction, and then restore the writer's setting:
the item's statement still bumps the type, or a writer that deferred bumps every type at its
end. The same update then takes 7.3 s. SQLite updates a row in place: its triggers bump the
versions as before (19,212 articles: 1.2 s without these triggers, 1.35-1.8 s with them).

Documents whose copy disagrees are repaired here, one UPDATE per type of just those rows,
and documents whose item is gone are deleted (on SQLite, with their words in `search_fts`).
Agreeing rows are only read, so the GIN index stays (`e08422a35171`, which rewrote every row,
dropped it first), and the statements need no batches: the migration is one transaction
whatever its statements. At `large` (605,400 documents): 2-3 s on PostgreSQL and 1.9 s on
SQLite with every document right; 9.1 s and 4.8 s with 95,950 made wrong and 20,000 orphaned
(half the public articles archived and a quarter of the quotes deleted in SQL).

Revision ID: edf91aaec8c4
Revises: 4e3fe91bd102
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "edf91aaec8c4"
down_revision: str | Sequence[str] | None = "4e3fe91bd102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
ALWAYS_PUBLIC = ("topic", "organization", "person")

# When the public sees an item, from a row `r` (NEW in a trigger), as `public_since`: the
# expression of the taggings' triggers (`0b70a7beb28e`), copied here frozen.
EVER = {"sqlite": "'0001-01-01 00:00:00.000000'", "postgresql": "'0001-01-01 00:00:00+00'::timestamptz"}


def _public(table: str, dialect: str, r: str) -> str:
    if table in PUBLISHABLE:
        return f"CASE WHEN {r}.deleted_at IS NULL AND {r}.status = 'published' THEN {r}.published_at END"
    return f"CASE WHEN {r}.deleted_at IS NULL THEN {EVER[dialect]} END"


def _columns(table: str) -> tuple[str, ...]:
    return ("status", "published_at", "deleted_at") if table in PUBLISHABLE else ("deleted_at",)


def _differs(dialect: str) -> str:
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


# PostgreSQL: the trigger's write to `search_document` leaves its version bumps to the
# statement that fired it (see the module docstring), and restores the writer's setting.
QUIET = (
    "DECLARE deferred text := current_setting('dossier.versions_deferred', true); "
    "BEGIN PERFORM set_config('dossier.versions_deferred', 'on', true); {body}; "
    "PERFORM set_config('dossier.versions_deferred', coalesce(deferred, 'off'), true); "
    "RETURN NULL; END"
)


def _trigger(dialect: str, name: str, event: str, table: str, when: str, body: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ {QUIET.format(body=body)} $$"
        )
        condition = f" WHEN ({when})" if when else ""
        op.execute(
            f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} "
            f"EXECUTE FUNCTION {name}()"
        )
    else:
        condition = f" WHEN {when}" if when else ""
        op.execute(f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} BEGIN {body}; END")


def _repair(table: str, dialect: str) -> None:
    """The documents of `table`'s items whose copy disagrees with the item, set; those of
    rows that are gone, deleted."""
    differs = _differs(dialect)
    op.execute(
        f"UPDATE search_document SET public_at = item.public_at, deleted = item.deleted "
        f"FROM (SELECT t.id, {_public(table, dialect, 't')} AS public_at, "
        f"t.deleted_at IS NOT NULL AS deleted FROM {table} t) AS item "
        f"WHERE search_document.entity_type = '{table}' AND search_document.entity_id = item.id "
        f"AND (search_document.public_at {differs} item.public_at "
        f"OR search_document.deleted {differs} item.deleted)"
    )
    op.execute(
        f"DELETE FROM search_document WHERE entity_type = '{table}' "
        f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = search_document.entity_id)"
    )


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        _repair(table, dialect)
        columns = _columns(table)
        changed = " OR ".join(f"OLD.{c} {_differs(dialect)} NEW.{c}" for c in columns)
        _trigger(
            dialect,
            f"search_follows_{table}",
            f"AFTER UPDATE OF {', '.join(columns)}",
            table,
            changed,
            f"UPDATE search_document SET public_at = {_public(table, dialect, 'NEW')}, "
            f"deleted = NEW.deleted_at IS NOT NULL "
            f"WHERE entity_type = '{table}' AND entity_id = NEW.id",
        )
        _trigger(
            dialect,
            f"search_leaves_with_{table}",
            "AFTER DELETE",
            table,
            "",
            f"DELETE FROM search_document WHERE entity_type = '{table}' AND entity_id = OLD.id",
        )


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        for name in (f"search_follows_{table}", f"search_leaves_with_{table}"):
            op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgresql else ""))
            if postgresql:
                op.execute(f"DROP FUNCTION {name}()")
