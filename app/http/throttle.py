"""Throttling of failed authentication: guessing API keys gets slow fast.

Each failed authentication (malformed, unknown or revoked key on an operation that needs
one) counts against a bucket: the client's address *and* the key the request presented,
named by its public lookup prefix (`dsk_<prefix>_…`; every token that cannot be one of
ours, garbage or another scheme, shares one bucket per address). Once a bucket has failed
`auth_failure_limit` times within a minute, every request presenting that key from that
address is refused with 429 and `Retry-After`, unchecked, until the window has moved on:
even the right secret, so a guesser of one key learns nothing from the answers.

Keyed on the address alone, the throttle locked out every editor behind a proxy that
`FORWARDED_ALLOW_IPS` does not name (they all share its address) after anyone's ten bad
keys. A key's bucket fills only with wrong secrets presented *for that key* from that
address: other keys' failures never lock it out. Guessing stays bounded where it could
succeed: a stored key is found by its prefix, so guesses at it are at most
`auth_failure_limit` a minute per address; a guess under a prefix no key has cannot match
(and its 256-bit secret would not be guessed anyway).

One worker keeps a sliding window in memory. With `redis_url` set, every worker shares a
per-minute counter in Redis (INCR + EXPIRE); while Redis is unreachable each worker falls
back to its own window rather than failing requests.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any, Protocol

from starlette.requests import Request

logger = logging.getLogger("app.http.throttle")

WINDOW_SECONDS = 60
_MAX_CLIENTS = 100_000  # bound on the memory a flood of distinct addresses can take


class Throttle(Protocol):
    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not throttled."""

    def record_failure(self, client: str) -> None: ...


class MemoryThrottle:
    """A sliding one-minute window of failure times per client. Thread-safe."""

    def __init__(
        self, limit: int, window: float = WINDOW_SECONDS, clock: Any = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int | None:
        now = self.clock()
        with self._lock:
            failures = self._recent(client, now)
            if failures is None or len(failures) < self.limit:
                return None
            # Free again once enough failures have left the window.
            oldest_that_must_expire = failures[len(failures) - self.limit]
            return max(1, math.ceil(oldest_that_must_expire + self.window - now))

    def record_failure(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            failures = self._recent(client, now)
            if failures is None:
                if len(self._failures) >= _MAX_CLIENTS:
                    self._failures.pop(next(iter(self._failures)))
                failures = self._failures[client] = deque()
            failures.append(now)
            while len(failures) > self.limit:
                failures.popleft()


class RedisThrottle:
    """A per-minute failure counter shared by every worker through Redis."""

    KEY = "dossier:auth-failures:{client}"

    def __init__(self, url: str, limit: int, fallback: MemoryThrottle | None = None) -> None:
        import redis

        self.limit = limit
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.fallback = fallback or MemoryThrottle(limit)

    def retry_after(self, client: str) -> int | None:
        key = self.KEY.format(client=client)
        try:
            pipe = self.redis.pipeline()
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = pipe.execute()
        except Exception as exc:
            logger.warning("redis unavailable for auth throttling: %s", exc.__class__.__name__)
            return self.fallback.retry_after(client)
        if count is None or int(count) < self.limit:
            return None
        return max(1, int(ttl)) if ttl and int(ttl) > 0 else WINDOW_SECONDS

    def record_failure(self, client: str) -> None:
        key = self.KEY.format(client=client)
        try:
            pipe = self.redis.pipeline()  # MULTI/EXEC: the counter never lives without a TTL
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            pipe.execute()
        except Exception as exc:
            logger.warning("redis unavailable for auth throttling: %s", exc.__class__.__name__)
            self.fallback.record_failure(client)


_create_lock = threading.Lock()


def throttle_for(request: Request) -> Throttle:
    """The app's throttle, built on first use from its settings."""
    state = request.app.state
    throttle: Throttle | None = getattr(state, "auth_throttle", None)
    if throttle is None:
        with _create_lock:
            throttle = getattr(state, "auth_throttle", None)
            if throttle is None:
                settings = state.settings
                limit = settings.auth_failure_limit
                throttle = (
                    RedisThrottle(settings.redis_url, limit)
                    if settings.redis_url
                    else MemoryThrottle(limit)
                )
                state.auth_throttle = throttle
    return throttle


def client_address(request: Request) -> str:
    """The client's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


NO_KEY = "-"  # the bucket of tokens that name no key: garbage, another scheme


def failure_bucket(address: str, key_prefix: str | None) -> str:
    """Where a failed authentication counts: the address and the presented key's lookup
    prefix (stored prefixes are ASCII letters and digits, 16 at most; anything else
    names no key and goes to the address's NO_KEY bucket)."""
    usable = key_prefix and len(key_prefix) <= 16 and key_prefix.isascii() and key_prefix.isalnum()
    return f"{address} {key_prefix if usable else NO_KEY}"
