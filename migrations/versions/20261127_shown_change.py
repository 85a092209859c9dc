"""shown_change: when an item is shown differently because another item went public

The change log lists an item when it changes itself, and a compact reference shows the
linked item as it is when read; a reference to a draft, scheduled, archived or deleted
item is not served at all. So when such an item went public (published by a write, its
scheduled time came, restored), every item that shows a reference to it gained one
without being listed again: a mirror learnt of the article's new related event, or the
quote's article, only at the article's (the quote's) next change. The same for a quote
moved from one article to another (both articles' quotes change), and for lists asked
with `updated_since`.

Computing each article's change time from its shown items in the log's query was
measured and not taken (a one-day poll at `bench` scale `large` on SQLite: 34 -> 428 ms).
Triggers write the moments down instead, whoever writes the rows (the API, `dossier
import`, `dossier generate`, `psql`): `shown_change` (item_type, item_id, at) says "from
`at` on, the public sees this item differently because of another". The log lists such
an item at its latest moment that has passed, when later than its own change time, and
reads the table by (item_type, at) over a poll's window (`app.content.shown`).

The relations that show a publishable item, and so the rows written (`app.content.relations`):

- an article's related items (`related_item`, any type), its quotes (`quote.article_id`)
  and its resources (`article_resource`): rows for the article;
- a quote's article: rows for the quote.

`shown_follows_<type>` (each content table, AFTER UPDATE of its visibility's columns):
when the row becomes public, or scheduled, at P = the latest of its `published_at`, the
statement's time and its `updated_at` (the API flushes a write's fields before it stamps
`updated_at`: the statement's clock is the write's), a row (S, P) for each item S showing
it. "Becomes public": it was hidden (a draft, archived, deleted; topics, organizations and
people: deleted and now restored) or scheduled, or is scheduled now. An edit of a hidden
item, or of a public one that stays public, writes nothing.

`shown_follows_quote_article` (quote, AFTER INSERT and UPDATE OF article_id): the new
article, if the quote is public or scheduled, at the statement's time or its publication;
the old one, if the quote was, at the statement's time; and the quote itself at its new
article's `published_at` if that article is scheduled.

`shown_follows_related_item`, `shown_follows_article_resource` (AFTER INSERT and UPDATE of
the keys): a link to a scheduled item, a row for the article at the item's
`published_at`. (A link to a draft needs none: its publication will write one. A link to
a public item is the article's own write.)

A row is written only where it is later than the item's `updated_at`: an item's own change
time is at least its `updated_at`, which only moves forward, so an earlier row never
counts (a generated or imported article written after its quotes has none). An extra row
lists the item once more, as `updated`; a missing one is the bug: conditions are written
on the side of more rows ("scheduled" is compared with the row's `updated_at` where the
statement's time would do, which is later). `shown_leaves_with_<type>` delete an
article's or a quote's rows with it.

No version triggers: a write that adds rows bumps a type whose totals the rows change
(`updated_since` totals of articles and quotes are kept at the versions of the types that
write their rows: `app.content.shown.SHOWN_FROM`). PostgreSQL's version deferral
(`edf91aaec8c4`) is thus not needed here: these triggers bump nothing.

Filled here with the rows that matter from now on: links to items scheduled now (and
quotes of scheduled articles, articles of scheduled quotes). What went public before is
not written back. At `bench` scale `large` on SQLite: 12 s, 3,237 rows (a dataset
generated with the triggers holds ~57,000: quotes generated later than their articles'
last edits). Generating `small` took as long with the triggers as without (8.8-9.9 s).

Revision ID: 5c1f0e2d7a93
Revises: 41bb04909bf2
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "5c1f0e2d7a93"
down_revision: str | Sequence[str] | None = "41bb04909bf2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHABLE = ("article", "event", "publication", "quote", "resource")
ALWAYS_PUBLIC = ("topic", "organization", "person")
SHOWING = ("article", "quote")  # the types whose rows the table holds

# The statement's time: SQLite's in the format its timestamps are stored in (naive UTC,
# microseconds), PostgreSQL's statement start.
NOW = {
    "sqlite": "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')",
    "postgresql": "statement_timestamp()",
}


def _latest(dialect: str, *values: str) -> str:
    """The latest of `values`, the first never NULL, the others NULL when absent."""
    if dialect == "postgresql":
        return f"GREATEST({', '.join(values)})"
    found = values[0]
    for value in values[1:]:
        found = f"(CASE WHEN {value} > {found} THEN {value} ELSE {found} END)"
    return found


def _public(r: str) -> str:
    """From when the public sees row `r` of a publishable table (NULL: never), as
    `public_since`."""
    return f"(CASE WHEN {r}.deleted_at IS NULL AND {r}.status = 'published' THEN {r}.published_at END)"


def _insert(dialect: str, select: str) -> str:
    if dialect == "postgresql":
        return f"INSERT INTO shown_change (item_type, item_id, at) {select} ON CONFLICT DO NOTHING"
    return f"INSERT OR IGNORE INTO shown_change (item_type, item_id, at) {select}"


def _differs(dialect: str) -> str:
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


def _showing(table: str, moment: str, key: str) -> list[str]:
    """SELECTs of (type, id, `moment`) for each item showing the item of `table` whose id
    is `key`, where `moment` is later than that item's `updated_at`."""
    selects = [
        f"SELECT 'article', a.id, {moment} FROM related_item r JOIN article a ON a.id = r.article_id "
        f"WHERE r.target_type = '{table}' AND r.target_id = {key} AND a.updated_at < {moment}"
    ]
    if table == "resource":
        selects.append(
            f"SELECT 'article', a.id, {moment} FROM article_resource l "
            f"JOIN article a ON a.id = l.article_id WHERE l.resource_id = {key} AND a.updated_at < {moment}"
        )
    if table == "quote":
        selects.append(
            f"SELECT 'article', a.id, {moment} FROM article a "
            f"WHERE a.id = NEW.article_id AND a.updated_at < {moment}"
        )
    if table == "article":
        selects.append(
            f"SELECT 'quote', q.id, {moment} FROM quote q WHERE q.article_id = {key} AND q.updated_at < {moment}"
        )
    return selects


def _goes_public(table: str, dialect: str) -> tuple[str, list[str]]:
    """The WHEN of `shown_follows_<table>` and its statements."""
    now = NOW[dialect]
    if table in PUBLISHABLE:
        old, new = _public("OLD"), _public("NEW")
        when = (
            f"{new} IS NOT NULL AND ({old} IS NULL OR ({old} {_differs(dialect)} {new} "
            f"AND ({old} > {now} OR {new} > {now})))"
        )
        moment = _latest(dialect, now, "NEW.updated_at", "NEW.published_at")
    else:
        when = "OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL"
        moment = _latest(dialect, now, "NEW.updated_at")
    return when, [_insert(dialect, select) for select in _showing(table, moment, "NEW.id")]


def _quote_article(dialect: str, event: str) -> list[str]:
    """`shown_follows_quote_article`'s statements for `event` (INSERT or UPDATE)."""
    new_public = _public("NEW")
    if event == "INSERT":
        now = "NEW.updated_at"  # the write's time (a generated quote's: its own)
    else:
        now = _latest(dialect, NOW[dialect], "NEW.updated_at")
    statements = [
        # The new article shows the quote: now, or when it is published.
        _insert(
            dialect,
            f"SELECT 'article', a.id, {_latest(dialect, now, new_public)} FROM article a "
            f"WHERE a.id = NEW.article_id AND {new_public} IS NOT NULL "
            f"AND a.updated_at < {_latest(dialect, now, new_public)}",
        ),
        # The quote shows its new article from its scheduled time.
        _insert(
            dialect,
            "SELECT 'quote', NEW.id, a.published_at FROM article a WHERE a.id = NEW.article_id "
            "AND a.deleted_at IS NULL AND a.status = 'published' AND a.published_at > NEW.updated_at",
        ),
    ]
    if event == "UPDATE":
        # The old article showed it (or was to): no longer, from now.
        statements.append(
            _insert(
                dialect,
                f"SELECT 'article', a.id, {now} FROM article a WHERE a.id = OLD.article_id "
                f"AND {_public('OLD')} IS NOT NULL AND a.updated_at < {now}",
            )
        )
    return statements


def _link_to_scheduled(dialect: str, link: str) -> list[str]:
    """The statements of `shown_follows_<link>`: the article at its new target's
    publication, if that is later than the article's `updated_at`."""
    if link == "article_resource":
        targets = [("resource", "NEW.resource_id", "")]
    else:
        targets = [(t, "NEW.target_id", f" AND NEW.target_type = '{t}'") for t in PUBLISHABLE]
    return [
        _insert(
            dialect,
            f"SELECT 'article', a.id, t.published_at FROM article a JOIN {table} t ON t.id = {key} "
            f"WHERE a.id = NEW.article_id{typed} AND t.deleted_at IS NULL "
            "AND t.status = 'published' AND t.published_at > a.updated_at",
        )
        for table, key, typed in targets
    ]


_LINK_KEYS = {
    "related_item": ("article_id", "target_type", "target_id"),
    "article_resource": ("article_id", "resource_id"),
}


def _trigger(dialect: str, name: str, event: str, table: str, when: str, body: list[str]) -> None:
    statements = "; ".join(body)
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {statements}; RETURN NULL; END $$"
        )
        condition = f" WHEN ({when})" if when else ""
        op.execute(
            f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} "
            f"EXECUTE FUNCTION {name}()"
        )
    else:
        condition = f" WHEN {when}" if when else ""
        op.execute(
            f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} BEGIN {statements}; END"
        )


def _triggers(dialect: str) -> None:
    for table in (*PUBLISHABLE, *ALWAYS_PUBLIC):
        columns = ("status", "published_at", "deleted_at") if table in PUBLISHABLE else ("deleted_at",)
        when, body = _goes_public(table, dialect)
        name = f"shown_follows_{table}"
        _trigger(dialect, name, f"AFTER UPDATE OF {', '.join(columns)}", table, when, body)
    for event in ("INSERT", "UPDATE"):
        name = f"shown_follows_quote_article_{event.lower()}"
        when = (
            "NEW.article_id IS NOT NULL"
            if event == "INSERT"
            else f"OLD.article_id {_differs(dialect)} NEW.article_id"
        )
        trigger_event = "AFTER INSERT" if event == "INSERT" else "AFTER UPDATE OF article_id"
        _trigger(dialect, name, trigger_event, "quote", when, _quote_article(dialect, event))
    for link, keys in _LINK_KEYS.items():
        for event in ("insert", "update"):
            name = f"shown_follows_{link}_{event}"
            trigger_event = "AFTER INSERT" if event == "insert" else f"AFTER UPDATE OF {', '.join(keys)}"
            _trigger(dialect, name, trigger_event, link, "", _link_to_scheduled(dialect, link))
    for table in SHOWING:
        name = f"shown_leaves_with_{table}"
        leave = f"DELETE FROM shown_change WHERE item_type = '{table}' AND item_id = OLD.id"
        _trigger(dialect, name, "AFTER DELETE", table, "", [leave])


def _fill(dialect: str) -> None:
    """The rows of what is scheduled now, as the triggers would have written them."""
    now = NOW[dialect]
    scheduled = f"t.deleted_at IS NULL AND t.status = 'published' AND t.published_at > {now}"
    for table in PUBLISHABLE:
        op.execute(
            _insert(
                dialect,
                f"SELECT 'article', a.id, t.published_at FROM related_item r "
                f"JOIN {table} t ON t.id = r.target_id JOIN article a ON a.id = r.article_id "
                f"WHERE r.target_type = '{table}' AND {scheduled} AND t.published_at > a.updated_at",
            )
        )
    fills = [
        # Articles' resources.
        "SELECT 'article', a.id, t.published_at FROM article_resource l "
        "JOIN resource t ON t.id = l.resource_id JOIN article a ON a.id = l.article_id "
        f"WHERE {scheduled} AND t.published_at > a.updated_at",
        # Articles' quotes.
        "SELECT 'article', a.id, t.published_at FROM quote t JOIN article a ON a.id = t.article_id "
        f"WHERE {scheduled} AND t.published_at > a.updated_at",
        # Quotes' articles.
        "SELECT 'quote', q.id, t.published_at FROM article t JOIN quote q ON q.article_id = t.id "
        f"WHERE {scheduled} AND t.published_at > q.updated_at",
    ]
    for select in fills:
        op.execute(_insert(dialect, select))


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        "shown_change",
        sa.Column("item_type", sa.String(length=24), nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_type", "item_id", "at", name=op.f("pk_shown_change")),
    )
    op.create_index("ix_shown_change_type_at", "shown_change", ["item_type", "at", "item_id"])
    op.create_index("ix_related_item_target", "related_item", ["target_type", "target_id"])
    _triggers(dialect)
    _fill(dialect)
    # Statistics of the new table and index, without which SQLite's planner (when the
    # database has any) treats them as unselective.
    op.execute("ANALYZE shown_change")
    op.execute("ANALYZE related_item")


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    postgresql = dialect == "postgresql"
    names = [
        *((f"shown_follows_{t}", t) for t in (*PUBLISHABLE, *ALWAYS_PUBLIC)),
        ("shown_follows_quote_article_insert", "quote"),
        ("shown_follows_quote_article_update", "quote"),
        *((f"shown_follows_{link}_{e}", link) for link in _LINK_KEYS for e in ("insert", "update")),
        *((f"shown_leaves_with_{t}", t) for t in SHOWING),
    ]
    for name, table in names:
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index("ix_related_item_target", table_name="related_item")
    op.drop_index("ix_shown_change_type_at", table_name="shown_change")
    op.drop_table("shown_change")
