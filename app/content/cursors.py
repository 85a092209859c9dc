"""Opaque, tamper-evident tokens for keyset pagination and the change log.

A token is base64url(JSON payload) + "." + a truncated HMAC of it. The payload names
its scope (which list and sort it belongs to), so a cursor from another collection,
sort or filter set is rejected instead of silently returning a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import orjson

from app.content.types import MAX_ROW_ID


class InvalidToken(ValueError):
    """Malformed, tampered with, or issued for another list."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return _b64(digest[:12])


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        raise InvalidToken("unexpected value in token")
    return value


def encode_token(secret: str, scope: str, values: list[Any]) -> str:
    body = _b64(orjson.dumps({"s": scope, "v": [_encode_value(v) for v in values]}))
    return f"{body}.{_mac(secret, scope + body)}"


# What a token's value must be, asked of each (`decode_token`'s `kinds`). A token is
# signed, but with a secret left at its default anyone can sign one: a value of the wrong
# type (a text where a time goes, an id past PostgreSQL's integer) was a 500, not a 400.
Kind = Callable[[Any], bool]


def row_id(value: Any) -> bool:
    """An id a primary key can hold (not a boolean)."""
    return type(value) is int and 0 <= value <= MAX_ROW_ID


def place(value: Any) -> bool:
    """A row id, or -1 (a change log token from its very beginning)."""
    return (type(value) is int and value == -1) or row_id(value)


def instant(value: Any) -> bool:
    return type(value) is datetime


def score(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def of_type(*types: type) -> Kind:
    """Exactly one of `types` (a boolean is not an int; `type(None)` for a null)."""
    return lambda value: type(value) in types


def decode_token(
    secret: str, scope: str, token: str, kinds: Sequence[Kind] | None = None
) -> list[Any]:
    """The values of a token issued for `scope`; `kinds`: what each must be (as many)."""
    body, sep, mac = token.partition(".")
    # A token is base64url and a dot: ASCII. Anything else is refused before the HMAC,
    # which cannot encode a lone surrogate nor compare non-ASCII text.
    if not sep or not body or len(token) > 2000 or not token.isascii():
        raise InvalidToken("malformed token")
    if not hmac.compare_digest(mac, _mac(secret, scope + body)):
        raise InvalidToken("token was not issued for this list, or was altered")
    try:
        payload = orjson.loads(_unb64(body))
        values = [_decode_value(v) for v in payload["v"]]
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("malformed token") from exc
    if payload.get("s") != scope:
        raise InvalidToken("token was not issued for this list")
    if kinds is not None and (
        len(values) != len(kinds) or not all(kind(v) for kind, v in zip(kinds, values, strict=True))
    ):
        raise InvalidToken("malformed token")
    return values
