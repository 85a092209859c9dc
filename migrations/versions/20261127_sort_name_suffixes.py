"""sort names derived from names with a generational suffix or a post-nominal: derive again

A person's sort name, when none was given, was the name's last word, then the others:
"Martin Luther King Jr." was sorted under J as "Jr., Martin Luther King", and cited as
an author called "Jr." in BibTeX, RIS and CSL-JSON; "Jane Doe, PhD" was "PhD, Jane Doe,".
`app.content.names.derive_sort_name` now keeps the suffix as the third part ("King,
Martin Luther, Jr.") and drops the post-nominal ("Doe, Jane"); this derives again the
sort names that the old rule derived (equal to `_last_word_first(name)`) where the new one
differs. A sort name an editor set stays, as does every name without such words (for
them the two rules agree). Such rows also kept the renamed-person rule from working: a
rename re-derives a sort name only if it is the name's derived one.

A live person's version and `updated_at` move, as for a write through the API: partners
that mirror people by `updated_since` or `/changes` receive the corrected sort name, and
ETags change with it. A deleted person's sort name is corrected without either (nobody
sees it until it is restored, which is a write). Downgrading keeps the new values, which
the older code reads as any sort name set by hand.

Revision ID: d2168608de6d
Revises: 0b70a7beb28e
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "d2168608de6d"
down_revision: str | Sequence[str] | None = "0b70a7beb28e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1_000
SORT_NAME_LENGTH = 200  # person.sort_name: one more comma may not fit a name of 199


def _last_word_first(name: str) -> str:
    """The old derivation, as it was (frozen here: it says which stored values it wrote)."""
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def upgrade() -> None:
    from app.content.names import derive_sort_name

    bind = op.get_bind()
    select = sa.text(
        "SELECT id, name, sort_name, deleted_at IS NULL AS live FROM person"
        " WHERE id > :after ORDER BY id LIMIT :batch"
    )
    now = app.db.utcnow()
    live = sa.text(
        "UPDATE person SET sort_name = :sort_name, version = version + 1, updated_at = :now"
        " WHERE id = :id"
    ).bindparams(sa.bindparam("now", type_=app.db.UTCDateTime(timezone=True)))
    deleted = sa.text("UPDATE person SET sort_name = :sort_name WHERE id = :id")
    after = 0
    while rows := bind.execute(select, {"after": after, "batch": BATCH}).all():
        after = rows[-1][0]
        live_rows, deleted_rows = [], []
        for id_, name, sort_name, is_live in rows:
            if sort_name != _last_word_first(name):
                continue  # set by hand
            derived = derive_sort_name(name)
            if derived == sort_name or len(derived) > SORT_NAME_LENGTH:
                continue
            if is_live:
                live_rows.append({"id": id_, "sort_name": derived, "now": now})
            else:
                deleted_rows.append({"id": id_, "sort_name": derived})
        if live_rows:
            bind.execute(live, live_rows)
        if deleted_rows:
            bind.execute(deleted, deleted_rows)

def downgrade() -> None:
    pass  # the new sort names are as valid under the old code
