"""A support resource's ways to reach it, each labelled as its page shows it.

The seed page lists, under each resource, lines such as "Phone: 650.736.6933", "24/7 urgent
support hotline: 650.725.9955", "Helpline: 866.742.5667 (SHALOM-7)" and "Email: …": a label
of the resource's own and a number or address. `contacts` holds them in the page's order,
each `{label, kind, value}`; `kind` (phone, sms, email, url, other) says what the value is,
for a frontend's link (`tel:`, `sms:`, `mailto:`).

`phone`, `hotline` and `email` stay as they were, for the clients that read and write them.
A resource whose editor never gave `contacts` (stored NULL: every resource written before
they existed, and those written by such clients since) shows its contacts made from those
three, labelled "Phone", "Hotline" and "Email", so that a frontend can read `contacts`
alone. An explicit list, even empty, is shown as given; a merge patch's `null` goes back to
the derived one.
"""

from __future__ import annotations

from typing import Any

# (field, label, kind) of the fields a resource's contacts are made from when not given.
_FROM_FIELDS = (
    ("phone", "Phone", "phone"),
    ("hotline", "Hotline", "phone"),
    ("email", "Email", "email"),
)
CONTACT_COLUMNS = ("contacts", "phone", "hotline", "email")


def contacts_of(values: Any) -> list[dict[str, str]]:
    """The resource's contacts, from its columns (`CONTACT_COLUMNS`, as a mapping)."""
    given: list[dict[str, str]] | None = values["contacts"]
    if given is not None:
        return given
    return [
        {"label": label, "kind": kind, "value": values[field]}
        for field, label, kind in _FROM_FIELDS
        if values[field]
    ]
