"""API keys: `Authorization: Bearer dsk_<prefix>_<secret>`.

Keys are random (256 bits) and shown once; only a SHA-256 hash is stored — a slow
password hash buys nothing for secrets with this much entropy — and the comparison is
constant-time. Scopes: `content:write`, `content:preview`, `admin` (implies both).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.requests import Request

from app.db import session_scope, utcnow
from app.http.errors import Forbidden, TooManyRequests, Unauthorized
from app.http.throttle import client_address, failure_bucket, throttle_for
from app.models import ApiKey

SCOPES = ("content:write", "content:preview", "admin")
KEY_PREFIX = "dsk"
LAST_USED_PRECISION = timedelta(minutes=1)


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


def key_prefix(presented: str) -> str | None:
    """The lookup prefix of a presented key (`dsk_<prefix>_<secret>`), None when the token
    cannot be a key."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(presented) > 200:
        return None
    return parts[1]


def verify_key(session: Session, presented: str) -> Principal | None:
    prefix = key_prefix(presented)
    if prefix is None:
        return None
    candidates = session.scalars(
        select(ApiKey).where(col(ApiKey.prefix) == prefix, col(ApiKey.revoked_at).is_(None))
    ).all()
    presented_hash = hash_secret(presented)
    for key in candidates:
        if hmac.compare_digest(key.secret_hash, presented_hash):
            now = utcnow()
            # Minute precision is enough for `keys list`, and spares a write per request.
            if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
                key.last_used_at = now
            return Principal(key.name, frozenset(key.scopes.split()))
    return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        # RFC 6750 §3: another scheme is no Bearer token at all; the challenge has no error.
        raise Unauthorized("Use 'Authorization: Bearer <key>'.")
    if not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <key>'.", headers=INVALID_TOKEN)
    return token.strip()


# RFC 6750 §3.1: a presented but unusable token is `invalid_token`.
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def authenticate(request: Request) -> Principal | None:
    """The caller's principal, None without credentials; 401 for a bad key.

    Every bad key counts against the client's address and the key it names (its lookup
    prefix); past the limit that key gets 429 from that address, right or wrong, until its
    failures age out, while other keys from the same address are checked as ever (see
    `app.http.throttle`).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, presented = header.partition(" ")
    prefix = key_prefix(presented.strip()) if scheme.lower() == "bearer" else None
    throttle = throttle_for(request)
    client = failure_bucket(client_address(request), prefix)
    wait = throttle.retry_after(client)
    if wait is not None:
        raise TooManyRequests(
            f"Too many failed authentications with this key from this client; retry in {wait} s.",
            retry_after=wait,
        )
    try:
        token = bearer_token(request)
        principal = None
        if token is not None:
            with session_scope(request.app.state.session_factory) as session:
                principal = verify_key(session, token)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked.", headers=INVALID_TOKEN)
    except Unauthorized:
        throttle.record_failure(client)
        raise
    request.state.principal = principal
    return principal


def require_scope(request: Request, scope: str) -> Principal:
    principal = authenticate(request)
    if principal is None:
        raise Unauthorized("This operation needs an API key: 'Authorization: Bearer <key>'.")
    if not principal.has(scope):
        raise Forbidden(
            f"The API key '{principal.name}' lacks the '{scope}' scope.",
            # RFC 6750 §3.1: the scope that would do, for clients that read challenges.
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    return principal


# Documents the scheme in OpenAPI (`/docs` gets an "Authorize" button); the checking
# itself is `require_scope`, so errors are problem+json like every other.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="dsk_<prefix>_<secret>",
    description="An API key from `dossier keys create`, as `Authorization: Bearer <key>`.",
)


def scope_dependency(scope: str) -> Callable[..., Principal]:
    """A dependency that admits only keys with `scope` (401 without a key, 403 without the scope)."""

    def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Principal:
        return require_scope(request, scope)

    dependency.__name__ = "require_" + scope.replace(":", "_")
    return dependency


REQUIRE_WRITER = Depends(scope_dependency("content:write"))
WriterDep = Annotated[Principal, REQUIRE_WRITER]
REQUIRE_ADMIN = Depends(scope_dependency("admin"))
AdminDep = Annotated[Principal, REQUIRE_ADMIN]


# ---------------------------------------------------------------------------------------
# Key management (the `dossier keys` commands).


class ApiKeyError(ValueError):
    """A key operation that cannot be done (unknown scope, duplicate or unknown name)."""


def create_api_key(session: Session, name: str, scopes: Sequence[str]) -> str:
    """Store a new key and return its secret — the only time it is ever available."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise ApiKeyError("The key name must be 1 to 100 printable characters.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiKeyError(
            f"Scopes must be among {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})."
        )
    if session.scalar(select(col(ApiKey.id)).where(col(ApiKey.name) == name)) is not None:
        raise ApiKeyError(f"A key named '{name}' already exists.")
    secret, prefix, digest = new_key()
    ordered = " ".join(s for s in SCOPES if s in set(scopes))
    session.add(ApiKey(name=name, prefix=prefix, secret_hash=digest, scopes=ordered))
    session.flush()
    return secret


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))))


def revoke_api_key(session: Session, name: str) -> ApiKey:
    """Revoke the key named `name` (spaces around it ignored, as `create_api_key` stores
    it); a key revoked already keeps its first revocation time."""
    name = name.strip()
    key = session.scalars(select(ApiKey).where(col(ApiKey.name) == name)).first()
    if key is None:
        raise ApiKeyError(f"No key named '{name}'.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
