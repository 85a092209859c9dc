"""Relay global ids: base64 of "<GraphQL type>:<public id>", e.g. "Event:evt_3".

The public id inside is the one REST uses, so a client can always get from one to the
other; `node(id)` and the single-item fields decode them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from app.content.types import ALL_TYPES, ContentType

# GraphQL type name of each content type, and back.
TYPE_NAMES: dict[str, str] = {t.name: t.name.capitalize() for t in ALL_TYPES}
BY_TYPE_NAME: dict[str, ContentType] = {TYPE_NAMES[t.name]: t for t in ALL_TYPES}
BY_MODEL: dict[type, ContentType] = {t.model: t for t in ALL_TYPES}


def global_id(ctype: ContentType, pk: int) -> str:
    raw = f"{TYPE_NAMES[ctype.name]}:{ctype.public_id(pk)}"
    return base64.b64encode(raw.encode()).decode()


def global_id_of(row: Any) -> str:
    return global_id(BY_MODEL[type(row)], row.id)


def parse_global_id(value: str) -> tuple[ContentType, str] | None:
    """(content type, public id) of a global id; None when it is not one of ours."""
    if len(value) > 200:
        return None
    try:
        raw = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, sep, public_id = raw.partition(":")
    ctype = BY_TYPE_NAME.get(type_name)
    if not sep or ctype is None or ctype.parse_public_id(public_id) is None:
        return None
    return ctype, public_id
