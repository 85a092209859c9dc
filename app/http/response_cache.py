"""The response cache for public GETs: REST, GraphQL over GET, feeds and calendars.

Entries are whole responses (body, ETag, headers) keyed by the normalized request and
indexed by their `Surrogate-Key`s. A write purges exactly the entries that name the
written item or its collection (and the catch-all key of responses that name nothing),
so a hit never serves content older than the last write. Answers to a repeated request —
and 304s to a conditional one — then need no database query at all.

With several workers, each write is broadcast on a Redis channel and every worker purges
the same keys; while that channel is down a worker serves no cached responses, so a
missed invalidation can never leave it stale. Scheduled items become public by time, not
by a write, so no entry outlives the next scheduled `published_at` of a type it shows.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
import anyio.lowlevel
import anyio.to_thread
import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.caching import (
    GZIP_MINIMUM_SIZE,
    accepts_gzip,
    cache_control_max_age,
    not_modified,
    not_modified_vary,
    vary_by_encoding,
)

logger = logging.getLogger("app.http.response_cache")

CACHEABLE_PREFIXES = ("/api/v1/", "/graphql", "/feeds/", "/calendar/")
UNCACHEABLE_PREFIXES = ("/api/v1/audit",)
# Routes that read no query string: it is left out of their cache key (`request_key`).
QUERYLESS_PREFIXES = ("/feeds/", "/calendar/")
CATCH_ALL = "all"
# Collection lists and items, and GraphQL, name every entity they show, the collections
# they list or look items up in, those of the items their filters name (`?topic=` names
# "topics": a renamed or deleted topic changes the list), and those whose writes can change
# the relations they show (`Relation.watches`). Topic streams (flat items), the change log,
# feeds and calendars name every item they show (and the people and topics their entries
# name) and the collections of every type they may hold. Search is filed under CATCH_ALL
# too: the MATCH_CAP matches it ranks come from every type's documents, so a write to a type
# it does not show can change its page.
_PRECISE_PATH = re.compile(
    r"^/(api/v1/(topics|organizations|people|articles|quotes|events|publications|resources)"
    r"(/[^/]+)?|api/v1/topics/[^/]+/stream|api/v1/changes|feeds/.+|calendar/.+|graphql)$"
)
CHANNEL = "dossier:invalidate"
# Bodies this large are compressed off the event loop (Starlette's own threshold).
GZIP_THREAD_SIZE = 128 * 1024
_STORED_HEADERS = {
    b"content-type",
    b"etag",
    b"cache-control",
    b"surrogate-key",
    b"link",
    b"vary",
    b"content-disposition",
    b"last-modified",
}


@dataclass
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    keys: frozenset[str]
    expires: float
    # The body gzipped, made by the first hit that accepts gzip
    # (`ResponseCacheMiddleware._gzipped`, kept by `ResponseCache.add_gzipped`).
    gzipped: bytes | None = None
    # When it was stored (time.monotonic()): replays carry their `Age` (RFC 9111 §5.1), so a
    # CDN or browser counts its max-age from when the response was made, not from the hit.
    created: float = 0.0
    # Its `Last-Modified`, if it has one (what `If-Modified-Since` is compared with).
    last_modified: str | None = None
    # The route that made it (`scope["route"]`), put back in the scope of each replay: the
    # metrics label a hit by its route's path template, as they label the miss.
    route: Any = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


class ResponseCache:
    """An LRU of responses bounded in bytes, purged by surrogate key. Thread-safe."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.generation = 0
        self.enabled = True
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._index: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not self.enabled:
                self.misses += 1
                return None
            if entry.expires <= time.monotonic():
                self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, entry: Entry, generation: int) -> bool:
        """Store unless anything was purged since the response was computed."""
        with self._lock:
            if generation != self.generation or not self.enabled:
                return False
            if len(entry.body) > self.max_bytes // 16:
                return False
            self._drop(key)
            self._entries[key] = entry
            self.size += entry.size
            for k in entry.keys:
                self._index.setdefault(k, set()).add(key)
            while self.size > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
            return True

    def add_gzipped(self, key: str, entry: Entry, gzipped: bytes) -> None:
        """Keep `entry`'s gzipped body beside it (counted in the size bound)."""
        with self._lock:
            if entry.gzipped is not None:
                return
            entry.gzipped = gzipped
            if self._entries.get(key) is not entry:
                return  # purged or replaced meanwhile: not counted, not kept
            self.size += len(gzipped)
            while self.size > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def purge(self, keys: Iterable[str]) -> int:
        with self._lock:
            self.generation += 1
            dropped = 0
            for k in {*keys, CATCH_ALL}:
                for cache_key in self._index.pop(k, set()):
                    if cache_key in self._entries:
                        self._drop(cache_key)
                        dropped += 1
            return dropped

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._index.clear()
            self.size = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.size -= entry.size
        for k in entry.keys:
            members = self._index.get(k)
            if members is not None:
                members.discard(key)
                if not members:
                    del self._index[k]


def request_key(scope: Scope, headers: Headers) -> str | None:
    """The normalized request, or None when the request must bypass the cache."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    path: str = scope["path"]
    if not path.startswith(CACHEABLE_PREFIXES) or path.startswith(UNCACHEABLE_PREFIXES):
        return None
    if "authorization" in headers or "x-preview" in headers:
        return None
    raw_query: bytes = scope.get("query_string", b"")
    if path.startswith(QUERYLESS_PREFIXES):
        # Feeds and calendars take no parameters: `?utm_source=…`, which readers append,
        # or `?limit=100` is the same resource, the same bytes and ETag (they link to
        # themselves without the query). One entry for all: a query string made up per
        # request missed every time and filled the cache. (One with a NUL is the 400
        # RejectNulMiddleware gives inside: never answered from here.)
        if b"%00" in raw_query:
            return None
        raw_query = b""
    query = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
    if any(name == "preview" for name, _ in query):
        return None
    # Parameters in name order, but a repeated one's values as given: the app reads the
    # last `query` of `?query=A&query=B`, not of `?query=B&query=A`.
    normalized = urlencode(sorted(query, key=itemgetter(0)))
    accept = headers.get("accept", "") if path.startswith("/graphql") else ""
    # Scheme and host too: lists link to themselves (`links`, `Link`) from the request's URL,
    # so one client's `Host` or `X-Forwarded-Proto` must not choose the links others get.
    origin = (
        f"{scope.get('scheme', 'http')}://{headers.get('host', '')}{scope.get('root_path', '')}"
    )
    return f"{scope['method']} {origin}{path}?{normalized} {accept}"


class ResponseCacheMiddleware:
    """Serve cached public GET responses; store fresh ones; answer conditional GETs with 304."""

    def __init__(
        self,
        app: ASGIApp,
        cache: ResponseCache,
        ttl: Callable[[], Horizon],
        known_ttl: Callable[[], Horizon | None] | None = None,
    ) -> None:
        """`ttl`: how long an entry made now may live (`ScheduledHorizon.ttl`). With
        `known_ttl`, that answer when it needs no database (else None), and `ttl` is then
        called in a worker thread: it reads the database."""
        self.app = app
        self.cache = cache
        self.ttl = ttl
        self.known_ttl = known_ttl
        # Entries being gzipped, by cache key: hits meanwhile wait, they do not compress too.
        self._gzipping: dict[str, tuple[Entry, anyio.Event]] = {}

    async def _gzipped(self, key: str, entry: Entry) -> bytes:
        """`entry`'s body gzipped, made by the first hit that asks and kept with it."""
        gzipped = entry.gzipped
        while gzipped is None:
            pending = self._gzipping.get(key)
            if pending is not None and pending[0] is entry:
                await pending[1].wait()  # then kept, or (that request failed) made here
            else:
                done = anyio.Event()
                self._gzipping[key] = (entry, done)
                try:
                    self.cache.add_gzipped(key, entry, await _gzip(entry.body))
                finally:
                    if self._gzipping.get(key, (None, None))[0] is entry:
                        del self._gzipping[key]
                    done.set()
            gzipped = entry.gzipped
        return gzipped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = request_key(scope, headers)
        if key is None:
            await self.app(scope, receive, send)
            return
        entry = self.cache.get(key)
        if entry is not None:
            # The same conditions, read the same way, as the app's (`cacheable_response`).
            unchanged = not_modified(headers, entry.etag, entry.last_modified)
            gzipped = None
            # (A 304 has no body to compress.)
            # (As AcceptEncodingMiddleware decides for GZipMiddleware, which then leaves a
            # response with Content-Encoding alone.)
            wants_gzip = accepts_gzip(headers.get("accept-encoding"))
            if not unchanged and wants_gzip and len(entry.body) >= GZIP_MINIMUM_SIZE:
                gzipped = await self._gzipped(key, entry)
            if entry.route is not None:
                scope["route"] = entry.route
            await _replay(entry, unchanged, scope["method"] == "HEAD", send, gzipped)
            return
        generation = self.cache.generation
        # The horizon as of now, before the response is made: an item that becomes public
        # while it is made is not in it, so the entry must not outlive that moment.
        # (Working it out reads the database: never on the event loop, which a slow
        # database would stop for every request, cached ones and /healthz included.)
        if self.known_ttl is None:
            horizon = self.ttl()
        else:
            known = self.known_ttl()  # (one look, under the horizon's lock: no race)
            horizon = known if known is not None else await anyio.to_thread.run_sync(self.ttl)
        started = time.monotonic()
        captured: dict[str, object] = {"chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                seconds = horizon.for_headers(headers)
                captured["deadline"] = started + seconds
                message["headers"] = _within(headers, seconds)
                captured["status"] = message["status"]
                captured["headers"] = list(message["headers"])
            elif message["type"] == "http.response.body":
                chunks: list[bytes] = captured["chunks"]  # type: ignore[assignment]
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if captured.get("status") != 200 or scope["method"] != "GET":
            return
        stored = [(k, v) for k, v in captured["headers"] if k.lower() in _STORED_HEADERS]  # type: ignore[attr-defined]
        header_map = {k.lower(): v.decode("latin-1") for k, v in stored}
        if (
            not header_map.get(b"cache-control", "").startswith("public")
            or b"etag" not in header_map
        ):
            return
        # No longer than the response says (`upcoming` lists: until an event ends), nor past
        # the next scheduled publication as of the request's start.
        said = cache_control_max_age(header_map[b"cache-control"])
        deadline: float = captured["deadline"]  # type: ignore[assignment]
        ttl = min(deadline - time.monotonic(), float("inf") if said is None else said)
        if ttl <= 0:
            return
        keys = set(header_map.get(b"surrogate-key", "").split())
        if not keys or not _is_precise(scope):
            keys.add(CATCH_ALL)
        body = b"".join(captured["chunks"])  # type: ignore[arg-type]
        now = time.monotonic()
        entry = Entry(
            200,
            stored,
            body,
            header_map[b"etag"],
            frozenset(keys),
            now + ttl,
            created=now,
            last_modified=header_map.get(b"last-modified"),
            route=scope.get("route"),
        )
        self.cache.put(key, entry, generation)


def _within(headers: list[tuple[bytes, bytes]], horizon: float) -> list[tuple[bytes, bytes]]:
    """A public response's `max-age` no longer than `horizon` (the next scheduled
    publication of a type it shows): no write happens when an item goes live, so nothing
    purges a CDN or a browser then; their copies must expire by themselves."""
    for index, (name, value) in enumerate(headers):
        if name.lower() != b"cache-control":
            continue
        text = value.decode("latin-1")
        said = cache_control_max_age(text)
        if text.startswith("public") and said is not None and said > horizon:
            capped = re.sub(r"max-age=\d+", f"max-age={int(horizon)}", text, count=1)
            headers[index] = (name, capped.encode("latin-1"))
    return headers


class ScheduledMaxAgeMiddleware:
    """Without the response cache: public GET responses' `max-age` still ends at the next
    scheduled publication, as the cache's do (`_within`); a CDN kept a list `CACHE_MAX_AGE`
    past the moment an item joined it."""

    def __init__(
        self,
        app: ASGIApp,
        ttl: Callable[[], Horizon],
        known_ttl: Callable[[], Horizon | None],
    ) -> None:
        self.app = app
        self.ttl = ttl
        self.known_ttl = known_ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # As of the request's start (an item that goes public while the response is made
        # is not in it), looked up off the event loop when not known.
        known = self.known_ttl()
        horizon = known if known is not None else await anyio.to_thread.run_sync(self.ttl)

        async def capped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                message["headers"] = _within(headers, horizon.for_headers(headers))
            await send(message)

        await self.app(scope, receive, capped)


async def _gzip(body: bytes) -> bytes:
    """The body as GZipMiddleware would send it, at the best ratio: it is made once per
    entry, not once per hit (a cached 315 KB list took 1.5 ms to serve plain and 13-22 ms
    gzipped). Large bodies are compressed in a worker thread, off the event loop."""
    if len(body) < GZIP_THREAD_SIZE:
        return gzip.compress(body, compresslevel=9, mtime=0)
    compress = partial(gzip.compress, body, 9, mtime=0)
    return await anyio.to_thread.run_sync(compress, limiter=_gzip_threads())


_GZIP_THREADS: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
    "dossier_gzip_threads"
)


def _gzip_threads() -> anyio.CapacityLimiter:
    """Threads of their own (one per core: compressing is CPU work), so compressions never
    wait behind, nor hold up, the synchronous routes in anyio's default thread pool."""
    try:
        return _GZIP_THREADS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(os.cpu_count() or 2)
        _GZIP_THREADS.set(limiter)
        return limiter


async def _replay(
    entry: Entry, unchanged: bool, head: bool, send: Send, gzipped: bytes | None
) -> None:
    age = (b"age", str(max(0, int(time.monotonic() - entry.created))).encode())
    vary = ", ".join(v.decode("latin-1") for k, v in entry.headers if k.lower() == b"vary")
    if unchanged:
        headers = [(k, v) for k, v in entry.headers if k.lower() not in (b"content-type", b"vary")]
        vary = not_modified_vary(vary, len(entry.body))
        headers += [(b"vary", vary.encode("latin-1"))] if vary else []
        headers.append(age)
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = entry.body if gzipped is None else gzipped
    headers = [*entry.headers, (b"content-length", str(len(body)).encode()), age]
    if gzipped is not None:
        headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
        headers += [
            (b"content-encoding", b"gzip"),
            (b"vary", vary_by_encoding(vary).encode("latin-1")),
        ]
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


@dataclass(frozen=True)
class Horizon:
    """How long a public response made now may be kept: `max_age`, and no longer than the
    next scheduled item of a type it shows goes public (`scheduled`: seconds left, by
    collection). A response is capped only by the types its `Surrogate-Key` names: a list of
    organizations does not tell when an embargoed article comes out."""

    max_age: float
    scheduled: dict[str, float] = field(default_factory=dict)

    def seconds(self, keys: Iterable[str] | None = None) -> float:
        """For a response with these surrogate keys; with none (a response that names no
        type), the soonest of every type's."""
        named = None if keys is None else set(keys)
        soonest = [left for name, left in self.scheduled.items() if not named or name in named]
        return max(min([self.max_age, *soonest]), 0.0)

    def for_headers(self, headers: list[tuple[bytes, bytes]]) -> float:
        """`seconds` for a response's headers (its `Surrogate-Key`)."""
        for name, value in headers:
            if name.lower() == b"surrogate-key":
                return self.seconds(value.decode("latin-1").split())
        return self.seconds()


class ScheduledHorizon:
    """Seconds until each type's next scheduled item becomes public, so no entry outlives
    it (`Horizon`). `lookup`: when each type's next scheduled item goes public, by
    collection. `refresh`: looked up again at least this often (seconds), for a worker that
    hears of no write (no response cache: no purge, no version poll, to reset it)."""

    def __init__(
        self,
        lookup: Callable[[], Mapping[str, datetime]],
        max_age: float,
        refresh: float | None = None,
    ) -> None:
        self.lookup = lookup
        self.max_age = max_age
        self.refresh = refresh
        self._next: dict[str, float] = {}
        self._known = False
        self._known_at = 0.0
        self._failing = False
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._known = False

    def known_ttl(self) -> Horizon | None:
        """`ttl`, when it can answer without reading the database; else None."""
        now = time.time()
        with self._lock:
            return None if self._stale(now) else self._horizon(now)

    def ttl(self) -> Horizon:
        now = time.time()
        with self._lock:
            if self._stale(now):
                try:
                    upcoming = self.lookup()
                except Exception:  # a failing database must not break caching decisions
                    # Once per outage: every request asks, and each traceback is ~80 lines.
                    if not self._failing:
                        logger.warning("could not look up the next scheduled item", exc_info=True)
                    self._failing = True
                    return Horizon(0.0)
                self._failing = False
                self._next = {name: moment.timestamp() for name, moment in upcoming.items()}
                self._known = True
                self._known_at = now
            return self._horizon(now)

    def _stale(self, now: float) -> bool:
        if self.refresh is not None and now - self._known_at >= self.refresh:
            return True
        return not self._known or any(moment <= now for moment in self._next.values())

    def _horizon(self, now: float) -> Horizon:
        return Horizon(self.max_age, {name: moment - now for name, moment in self._next.items()})


# The listener PINGs Redis after this many seconds without a message, and gives the
# channel up as lost when no reply comes within LISTENER_PONG_WAIT.
# Together with the listener's wait for a message (LISTENER_TICK), within the 1 s the
# README promises: 2 s and 2 s let another worker serve what a write had changed for 4 s
# behind a Redis that hung (with CACHE_VERSION_POLL=0; else the poll bounds it).
LISTENER_PING_EVERY = 0.4
LISTENER_PONG_WAIT = 0.5
LISTENER_TICK = 0.1


class RedisInvalidation:
    """Broadcast purges between workers; a listener thread applies the others' purges.

    Any loss of the subscription — Redis restarted, the connection dropped, even when a
    reconnect would succeed at once — clears this worker's cache and disables it until
    the listener has subscribed again: purges published meanwhile were missed. A purge
    this worker cannot publish is kept and published as soon as Redis answers again, so
    the others' staleness is bounded by the outage, not by `cache_max_age`.
    """

    def __init__(
        self,
        url: str,
        cache: ResponseCache,
        channel: str = CHANNEL,
        on_purge: Callable[[], None] | None = None,
    ) -> None:
        """`on_purge`: called before each purge from another worker is applied (the
        scheduled horizon: the write may have scheduled an item)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.cache = cache
        self.channel = channel
        self.on_purge = on_purge
        timeouts = {"socket_timeout": 2, "socket_connect_timeout": 2}
        # Publishing retries once (a pooled connection may be stale after a Redis restart);
        # never more, and not at all while the listener knows Redis is unreachable, so a
        # write's response is not held up while Redis is down (or hung: 2 s at most, a
        # timeout and its retry, until the listener notices).
        self.client = redis.Redis.from_url(
            url, retry=Retry(NoBackoff(), 1), socket_timeout=1, socket_connect_timeout=1
        )
        # The subscription never reconnects quietly: the listener must see every loss.
        self._listener = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **timeouts)
        self._pending: set[str] = set()
        self._up = False  # subscribed, and publishing: else purges wait in _pending
        self._lock = threading.Lock()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self.cache.enabled = False  # until the listener is subscribed
        self._thread = threading.Thread(target=self._listen, name="cache-invalidation", daemon=True)
        self._thread.start()

    def publish(self, keys: Iterable[str]) -> None:
        keys = sorted(keys)
        with self._lock:
            if not self._up:
                # Not subscribed (Redis down or hung): the listener publishes it once back.
                self._pending.update(keys)
                return
        try:
            self.client.publish(self.channel, orjson.dumps(keys))
        except Exception:
            # Our link to Redis is failing: cache nothing here until resubscribed, and
            # leave the purge to the listener to publish once Redis answers again.
            logger.warning("could not broadcast a cache purge; disabling the cache", exc_info=True)
            with self._lock:
                self._pending.update(keys)
                self._up = False
            self.cache.enabled = False
            self.cache.clear()
            self._lost.set()

    def stop(self) -> None:
        self._stop.set()

    def _flush_pending(self) -> None:
        with self._lock:
            # From here on publish() sends its purges itself; what it queued before is sent
            # here (under the lock: no purge can fall between the two).
            keys, self._pending = self._pending, set()
            self._up = True
        if not keys:
            return
        try:
            self.client.publish(self.channel, orjson.dumps(sorted(keys)))
        except Exception:
            with self._lock:
                self._pending.update(keys)
                self._up = False
            raise

    def _listen(self) -> None:
        try:
            self._subscribe_and_listen()
        finally:
            # However the listener ends (stopped, or a bug), this worker no longer hears the
            # others' purges: it must not serve what they may have changed.
            with self._lock:
                self._up = False
            self.cache.enabled = False
            self.cache.clear()

    def _apply(self, data: bytes) -> None:
        """One purge from another worker; a message that is not one (an operator's
        `PUBLISH dossier:invalidate all`, another version) clears everything."""
        # The horizon first: a request made between the two would otherwise keep its
        # entry past a newly scheduled item.
        if self.on_purge is not None:
            self.on_purge()
        try:
            keys = orjson.loads(data)
        except orjson.JSONDecodeError:
            keys = None
        if isinstance(keys, list) and all(isinstance(key, str) for key in keys):
            self.cache.purge(keys)
        else:
            logger.warning("not a purge on the cache channel (%.80r); clearing the cache", data)
            self.cache.clear()

    def _subscribe_and_listen(self) -> None:
        import redis

        backoff = 0.2
        while not self._stop.is_set():
            pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self._lost.clear()
                self._flush_pending()
                self.cache.clear()  # anything could have changed while we were not listening
                if self.on_purge is not None:
                    self.on_purge()
                self.cache.enabled = True
                backoff = 0.2
                heard, pinged = time.monotonic(), None
                while not self._stop.is_set() and not self._lost.is_set():
                    message = pubsub.get_message(timeout=LISTENER_TICK)
                    now = time.monotonic()
                    if message:
                        heard, pinged = now, None
                        if message.get("type") == "message":
                            self._apply(message["data"])
                    elif pinged is None and now - heard >= LISTENER_PING_EVERY:
                        # A hung Redis (stopped, or the network silent) never closes the
                        # connection: only an unanswered PING tells.
                        pubsub.ping()
                        pinged = now
                    elif pinged is not None and now - pinged >= LISTENER_PONG_WAIT:
                        raise redis.ConnectionError("Redis did not answer PING")
            except (redis.RedisError, OSError) as exc:
                with self._lock:
                    self._up = False
                self.cache.enabled = False
                self.cache.clear()
                # The reason, in a line: an unreachable server and a refused one (a bad
                # password, a database index out of range) call for different fixes.
                logger.warning("cache invalidation channel lost (%s); retrying", exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection may fail
                    pubsub.close()


_Versions = tuple[str, dict[str, int]]


class VersionWatch:
    """Purges what other processes wrote: `dossier import`, `dossier generate`, a worker
    without Redis, SQL by hand.

    The API's writes purge at once and precisely (this worker's `on_write`, the others' via
    Redis). Writes from elsewhere call nothing here, but the database's triggers bump
    `type_version` in every transaction that writes content, whoever writes. Every
    `interval` seconds a thread reads the versions (one small statement) and purges the
    collections of the types that moved, with CATCH_ALL, as a write through the API to any
    of their items would (`write_keys`), after running `on_change` (the scheduled horizon:
    the write may have scheduled an item). A new epoch (a migration) clears the cache.
    """

    def __init__(
        self,
        read: Callable[[], _Versions | None],
        cache: ResponseCache,
        collections: dict[str, str],
        interval: float,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.read = read
        self.cache = cache
        self.collections = collections  # type name -> collection (its purge key)
        self.interval = interval
        self.on_change = on_change
        self._seen: _Versions | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Read the versions now (what this worker's cache starts from), then watch."""
        self._stop.clear()
        try:
            self._seen = self.read()
        except Exception:  # the database away: the first read that works clears the cache
            logger.warning("could not read the content versions", exc_info=True)
        self._thread = threading.Thread(target=self._watch, name="cache-versions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)

    def check(self) -> list[str]:
        """Read the versions once and purge for what moved; the keys purged."""
        found = self.read()
        seen, self._seen = self._seen, found
        if found is None:
            return []
        if seen is None or found[0] != seen[0]:
            keys = [CATCH_ALL, *sorted(self.collections.values())]
            purge: Callable[[], object] = self.cache.clear
        else:
            moved = [name for name, version in found[1].items() if seen[1].get(name) != version]
            if not moved:
                return []
            keys = [CATCH_ALL, *sorted(self.collections[n] for n in moved if n in self.collections)]
            purge = partial(self.cache.purge, keys)
        # The horizon first (the write may have scheduled an item), then the purge.
        if self.on_change is not None:
            self.on_change()
        purge()
        return keys

    def _watch(self) -> None:
        failing = False
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the database away for a moment: try again next time
                if not failing:  # once per outage, not every second
                    logger.warning("could not read the content versions", exc_info=True)
                failing = True
            else:
                failing = False


def _is_precise(scope: Scope) -> bool:
    """Whether a response's own Surrogate-Keys name everything a write could change in it."""
    return bool(_PRECISE_PATH.match(scope["path"]))


def write_keys(collection: str, public_id: str) -> list[str]:
    """What a write to one item purges: the item, its collection, and CATCH_ALL. (A response
    embedding another collection's items, an article's citing quotes, names that collection:
    `Relation.watches`.)"""
    return [collection, public_id, CATCH_ALL]
