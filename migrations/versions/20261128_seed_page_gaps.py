"""what the seed page shows and the schema could not say

The review of the demo dataset against the seed page found information the page shows and
no column held:

- `quote.after_block`: where a pull quote stands in its article's body (the number of the
  body's top-level blocks before it; null: no place in the body). The Sandberg article
  shows its three quotes between particular paragraphs; `position` only orders them.
- `affiliation.is_current`: whether a role is held now. `end_year` null meant current, so
  "former Chief Operating Officer of Meta", a role that ended in a year the page does not
  give, could not be said. Filled from `end_year` (null: current), as it was read before.
- `event.hero_image_*` (url, alt, caption, credit), as articles have: the seminar's photo
  could only be put in its body.
- `resource.contacts`: the labelled lines under a resource ("24/7 urgent support hotline:
  650.725.9955", "Helpline: 866.742.5667 (SHALOM-7)"), a JSON list of {label, kind, value}.
  NULL, as every existing row is left: made from `phone`, `hotline` and `email` when read,
  as those rows show them today (`app.content.contacts`); nothing to fill.
- `event.online_platform`: what an online event is attended on ("Zoom Only": online, on
  Zoom); the platform was lost.

Plain ADD COLUMN throughout: a batch rebuild of a table on SQLite would drop its triggers.

The downgrade refuses (nothing changed) while an affiliation has ended in a year unknown
(`is_current` false, no `end_year`): the older schema has only `end_year`, and reads an
affiliation without one as current, so dropping `is_current` made those roles current again
("Chief Operating Officer of Meta" among a person's current roles, and under
`?organization=meta`). No end year can stand in for the unknown one without inventing a
fact the public would read. The message names each such role and what to do: give it its
end year, or remove it, then downgrade again; or, knowingly, mark them current first
(`UPDATE affiliation SET is_current = true WHERE is_current = false AND end_year IS NULL`),
which is what the older schema will say of them.

Revision ID: e23e12bc058c
Revises: 5c1f0e2d7a93
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from alembic.util import CommandError

revision: str = "e23e12bc058c"
down_revision: str | Sequence[str] | None = "5c1f0e2d7a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quote", sa.Column("after_block", sa.Integer(), nullable=True))
    op.add_column(
        "affiliation",
        sa.Column("is_current", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    affiliation = sa.table("affiliation", sa.column("is_current"), sa.column("end_year"))
    op.execute(
        affiliation.update()
        .where(affiliation.c.end_year.is_not(None))
        .values(is_current=sa.false())
    )
    for name, length in (("url", 500), ("alt", 1000), ("caption", 2000), ("credit", 300)):
        op.add_column(
            "event",
            sa.Column(
                f"hero_image_{name}",
                sqlmodel.sql.sqltypes.AutoString(length=length),
                nullable=True,
            ),
        )
    op.add_column("resource", sa.Column("contacts", sa.JSON(), nullable=True))
    op.add_column(
        "event",
        sa.Column("online_platform", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    )


# The roles the refusal names, at most (then how many more).
_NAMED = 20


def _refuse_roles_ended_in_a_year_unknown() -> None:
    """Refuse the downgrade while the older schema would read roles that have ended as
    current (see the module's docstring)."""
    affiliation = sa.table(
        "affiliation",
        sa.column("person_id"),
        sa.column("organization_id"),
        sa.column("role"),
        sa.column("position"),
        sa.column("is_current"),
        sa.column("end_year"),
    )
    person = sa.table("person", sa.column("id"), sa.column("slug"))
    organization = sa.table("organization", sa.column("id"), sa.column("slug"))
    ended = sa.and_(affiliation.c.is_current == sa.false(), affiliation.c.end_year.is_(None))
    bind = op.get_bind()
    count = bind.execute(sa.select(sa.func.count()).select_from(affiliation).where(ended)).scalar()
    if not count:
        return
    named = bind.execute(
        sa.select(person.c.slug, organization.c.slug, affiliation.c.role)
        .select_from(
            affiliation.join(person, person.c.id == affiliation.c.person_id).join(
                organization, organization.c.id == affiliation.c.organization_id
            )
        )
        .where(ended)
        .order_by(person.c.slug, affiliation.c.position, organization.c.slug)
        .limit(_NAMED)
    ).all()
    roles = "".join(f"\n  {who}: {role} at {where}" for who, where, role in named)
    if count > len(named):
        roles += f"\n  and {count - len(named)} more"
    raise CommandError(
        f"Not downgraded below {revision}: {count} affiliation{'s have' if count > 1 else ' has'}"
        " ended in a year unknown (is_current false, no end_year). The older schema has only"
        " end_year, and reads an affiliation without one as current: these roles would be"
        f" shown as current again.{roles}\n"
        "Give each its end_year (PATCH the person), or remove it, then downgrade again. To"
        " downgrade anyway, with these roles current in the older schema, first run:\n"
        "  UPDATE affiliation SET is_current = true WHERE is_current = false AND end_year IS NULL"
    )


def downgrade() -> None:
    _refuse_roles_ended_in_a_year_unknown()
    op.execute("ALTER TABLE event DROP COLUMN online_platform")
    op.execute("ALTER TABLE resource DROP COLUMN contacts")
    for name in ("url", "alt", "caption", "credit"):
        op.execute(f"ALTER TABLE event DROP COLUMN hero_image_{name}")
    op.execute("ALTER TABLE affiliation DROP COLUMN is_current")
    op.execute("ALTER TABLE quote DROP COLUMN after_block")
