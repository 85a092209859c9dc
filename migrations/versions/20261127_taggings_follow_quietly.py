"""PostgreSQL: the taggings' triggers leave their version bumps to the statement that fired them

`tagging_follows_<type>` (`0b70a7beb28e`) and `tagging_leaves_with_<type>` (`c29c004091e6`)
write `tagging` once for each row of the item's statement, and on PostgreSQL each of those
writes is a statement of its own: `tagging`'s statement triggers (`c7a2e5f1d9b3`) bumped
`content_version` and the type's row in `type_version` once per item row. A transaction
keeps every version of a row it updates until it commits, and each update walks the
versions before it (`e26ebf82ba8a`), so a bulk statement in `psql` cost the square of its
rows. `search_follows_<type>` and `search_leaves_with_<type>` already avoid this
(`edf91aaec8c4`); these functions are now wrapped as theirs are: they set
`dossier.versions_deferred` around their own write, then restore the writer's setting.

Nothing goes unbumped:

- the trigger's write touches only taggings whose `entity_type` is the item's own type
  (its WHERE names it, and an UPDATE of `public_at` changes no `entity_type`), so the bump
  it drops is of that type alone, and of `content_version`;
- a row trigger on a content table fires only inside a statement on that table (no
  foreign key cascades into one: every constraint is NO ACTION), and that statement's own
  trigger, `type_version_<table>` (FOR EACH STATEMENT, on INSERT, UPDATE, DELETE and
  TRUNCATE), bumps `content_version` and that type, once, whether the statement touched
  one row or a million; under a writer that deferred the bumps, the writer bumps every
  type at its end (`dossier import`), and the trigger leaves its setting `on`;
- a topic's deletion: its trigger deletes the taggings *of* the topic (`entity_type =
  'topic'`), bumped by the topic's statement. The taggings that *name* it (`topic_id`, of
  any type) are no trigger's business: `fk_tagging_topic_id_topic` is NO ACTION, so the
  writer deletes them first, in a statement of its own that bumps their types, or the
  topic's deletion fails.

At `bench` scale `large` on PostgreSQL 15 (2 cores), `UPDATE article SET status =
'archived'` in one statement, rolled back, over public articles: 4,648 rows 1.2 -> 0.8 s,
18,561 rows 5.9 -> 2.5 s, 37,140 rows 18 -> 5 s, 74,345 rows 66 -> 8.8 s, and every public
article (186,038 rows) 472 s -> 18-20 s, which is what the same statement took with the
versions deferred and bumped at its end (19 s). `content_version` was bumped 186,039 times by
the statement, now once. The cost of many statements in one transaction still grows faster
than their number, each bumping the versions once: 5,000, 10,000 and 20,000 one-row UPDATEs
took 1.0, 2.3 and 6.5 s (20,000 deferred: 2.5 s), so a script writing item by item still
defers (README). SQLite updates a row in place, and its triggers are unchanged: the same
statements took 0.5, 1.7, 3.2, 6.0 and 16 s, in proportion to their rows.

Revision ID: 41bb04909bf2
Revises: edf91aaec8c4
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "41bb04909bf2"
down_revision: str | Sequence[str] | None = "edf91aaec8c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
ALWAYS_PUBLIC = ("topic", "organization", "person")

# The bodies' writes, as `0b70a7beb28e` and `c29c004091e6` wrote them, copied here frozen.
PUBLIC = "CASE WHEN NEW.deleted_at IS NULL AND NEW.status = 'published' THEN NEW.published_at END"
EVER = "CASE WHEN NEW.deleted_at IS NULL THEN '0001-01-01 00:00:00+00'::timestamptz END"

# As `edf91aaec8c4`'s QUIET: the write bumps no version, and the writer's setting is
# restored (NULL, never set: 'off').
QUIET = (
    "DECLARE deferred text := current_setting('dossier.versions_deferred', true); "
    "BEGIN PERFORM set_config('dossier.versions_deferred', 'on', true); {body}; "
    "PERFORM set_config('dossier.versions_deferred', coalesce(deferred, 'off'), true); "
    "RETURN NULL; END"
)
PLAIN = "BEGIN {body}; RETURN NULL; END"


def _writes(table: str) -> dict[str, str]:
    """Each trigger function of `table`'s taggings, and its write."""
    public = PUBLIC if table in PUBLISHABLE else EVER
    return {
        f"tagging_follows_{table}": (
            f"UPDATE tagging SET public_at = {public} "
            f"WHERE entity_type = '{table}' AND entity_id = NEW.id"
        ),
        f"tagging_leaves_with_{table}": (
            f"DELETE FROM tagging WHERE entity_type = '{table}' AND entity_id = OLD.id"
        ),
    }


def _replace(wrapper: str) -> None:
    if op.get_context().dialect.name != "postgresql":
        return  # SQLite's triggers update in place: unchanged
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        for name, body in _writes(table).items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ {wrapper.format(body=body)} $$"
            )


def upgrade() -> None:
    _replace(QUIET)


def downgrade() -> None:
    _replace(PLAIN)
