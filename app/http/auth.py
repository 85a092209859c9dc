"""API keys: `Authorization: Bearer dsk_<prefix>_<secret>`.

Keys are random (256 bits) and shown once; only a SHA-256 hash is stored — a slow
password hash buys nothing for secrets with this much entropy — and the comparison is
constant-time. Scopes: `content:write`, `content:preview`, `admin` (implies both).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.db import session_scope, utcnow
from app.http.errors import Forbidden, Unauthorized
from app.models import ApiKey

SCOPES = ("content:write", "content:preview", "admin")
KEY_PREFIX = "dsk"


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(full key to show once, lookup prefix, hash to store)."""
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return secret, prefix, hash_secret(secret)


def verify_key(session: Session, presented: str) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(presented) > 200:
        return None
    candidates = session.scalars(
        select(ApiKey).where(ApiKey.prefix == parts[1], ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).all()
    presented_hash = hash_secret(presented)
    for key in candidates:
        if hmac.compare_digest(key.secret_hash, presented_hash):
            key.last_used_at = utcnow()
            return Principal(key.name, frozenset(key.scopes.split()))
    return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <key>'.")
    return token.strip()


def authenticate(request: Request) -> Principal | None:
    """The caller's principal, None without credentials; 401 for a bad key."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    if token is None:
        return None
    with session_scope(request.app.state.session_factory) as session:
        principal = verify_key(session, token)
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    request.state.principal = principal
    return principal


def require_scope(request: Request, scope: str) -> Principal:
    principal = authenticate(request)
    if principal is None:
        raise Unauthorized("This operation needs an API key.")
    if not principal.has(scope):
        raise Forbidden(f"The API key '{principal.name}' lacks the '{scope}' scope.")
    return principal
