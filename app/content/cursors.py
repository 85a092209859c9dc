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
from datetime import date, datetime
from typing import Any

import orjson


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


def decode_token(secret: str, scope: str, token: str) -> list[Any]:
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
    return values
