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
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

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


# The new derivation, frozen here as `app.content.names` had it when this migration was
# written (94c224f) and tested, so that a later change to the app's rule does not change
# what this migration writes to a database that has not run it yet. The app has changed
# since: its `derive_sort_name` now cuts a sort name to fit 200 characters (746386c), where
# this one does not, and the migration leaves such names alone (SORT_NAME_LENGTH below).
# Never edit this copy to follow the app; a new rule for stored rows is a new migration.
GENERATIONAL = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})
GENERATIONAL_FOLDED = frozenset({"jr", "jr.", "sr", "sr."})
POST_NOMINALS = frozenset(
    {
        "PhD", "DPhil", "MD", "EdD", "PsyD", "DrPH", "DDS", "DMD", "DVM", "JD", "LLD", "ScD",
        "MA", "MS", "MSc", "MBA", "MPA", "MPH", "MPP", "MFA", "MSW", "MEd", "LLM", "LLB",
        "BA", "BS", "BSc",
        "RN", "CPA", "Esq", "FRS", "FBA", "OBE", "CBE", "MBE", "KBE", "DBE",
    }
)
POST_NOMINALS_CAPITALS = frozenset(p.upper() for p in POST_NOMINALS)


def _is_generational(word: str) -> bool:
    return word in GENERATIONAL or word.lower() in GENERATIONAL_FOLDED


def _is_post_nominal(word: str) -> bool:
    bare = word.replace(".", "")
    return bare in POST_NOMINALS or (bare.isupper() and bare in POST_NOMINALS_CAPITALS)


def _derive_sort_name(name: str) -> str:
    """"Family, Given[, Suffix]": a generational suffix kept as the third part, a
    post-nominal after a comma left out, any other name its last word first."""
    head, *after_commas = name.split(",")
    words = head.split()
    suffixes = []
    for part in after_commas:
        tokens = part.split()
        if len(tokens) == 1 and _is_generational(tokens[0]):
            suffixes.append(tokens[0])
        elif not tokens or not all(_is_post_nominal(t) for t in tokens):
            return _last_word_first(name)  # a comma that says something else
    if len(words) > 2 and _is_generational(words[-1]):
        suffixes.insert(0, words.pop())
    if len(suffixes) > 1 or (suffixes and len(words) < 2):
        return _last_word_first(name)  # "Ann Lee Jr., Sr.", "Prince, Jr.": no telling
    if len(words) < 2:
        return " ".join(words) or _last_word_first(name)  # "Cher, PhD" -> "Cher"
    sort_name = f"{words[-1]}, {' '.join(words[:-1])}"
    return f"{sort_name}, {suffixes[0]}" if suffixes else sort_name


def upgrade() -> None:
    bind = op.get_bind()
    select = sa.text(
        "SELECT id, name, sort_name, deleted_at IS NULL AS live FROM person"
        " WHERE id > :after ORDER BY id LIMIT :batch"
    )
    # An aware UTC time, which SQLAlchemy's own DateTime stores as the app's timestamp
    # columns hold it (naive UTC text on SQLite, timestamptz on PostgreSQL): no app type
    # whose rule could change later decides what this writes.
    now = datetime.now(UTC)
    live = sa.text(
        "UPDATE person SET sort_name = :sort_name, version = version + 1, updated_at = :now"
        " WHERE id = :id"
    ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True)))
    deleted = sa.text("UPDATE person SET sort_name = :sort_name WHERE id = :id")
    after = 0
    while rows := bind.execute(select, {"after": after, "batch": BATCH}).all():
        after = rows[-1][0]
        live_rows, deleted_rows = [], []
        for id_, name, sort_name, is_live in rows:
            if sort_name != _last_word_first(name):
                continue  # set by hand
            derived = _derive_sort_name(name)
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
