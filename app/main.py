"""`create_app()`: the ASGI application. Its lifespan owns the database engine."""

from __future__ import annotations

import copy
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from app.config import Settings, get_settings
from app.content.counts import type_versions
from app.content.events import on_write
from app.content.queries import next_scheduled
from app.content.types import ALL_TYPES, ContentType
from app.db import make_engine, make_read_session_factory, make_session_factory, session_scope
from app.http.caching import GZIP_MINIMUM_SIZE
from app.http.docs import install_docs
from app.http.errors import install_error_handlers
from app.http.metrics import Metrics, MetricsMiddleware
from app.http.middleware import (
    AcceptEncodingMiddleware,
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    RejectNulMiddleware,
)
from app.http.openapi import OPENAPI_TAGS, install_openapi
from app.http.request_id import REQUEST_ID_HEADER, RequestIdMiddleware, configure_logging
from app.http.response_cache import (
    RedisInvalidation,
    ResponseCache,
    ResponseCacheMiddleware,
    ScheduledHorizon,
    ScheduledMaxAgeMiddleware,
    VersionWatch,
    write_keys,
)

DESCRIPTION = """
Dossier is the headless content API behind a research institute's website: news, quotes,
events, people, affiliations, publications and support resources, all tagged with topics.

* **REST** under `/api/v1`: lists with keyset pagination, filters, `include`, `fields`.
* **GraphQL** at `/graphql` (GraphiQL in a browser).
* **Feeds**: RSS, Atom, JSON Feed and iCalendar under `/feeds` and `/calendar`.

Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`.
Writes need `Authorization: Bearer <key>` (keys come from `dossier keys create`).
"""

# Headers browser clients may read on cross-origin responses.
EXPOSED_HEADERS = [
    REQUEST_ID_HEADER,
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "Surrogate-Key",
]


def _version() -> str:
    try:
        return version("dossier")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """What `app.include_router(router)` does for a router included with no prefix, tags or
    dependencies of its own, at half the cost.

    FastAPI builds an included route twice: the route itself, then its copy for the
    inclusion (dependants, parameter and response models rebuilt). For our ~150 routes that
    second build was 0.5 s of the server's start. Our routes carry their full paths and tags
    already, so the application takes them as they are. (Unlike included routes, these do not
    consult `app.dependency_overrides`; nothing here uses it.)
    """
    app.router.routes.extend(router.routes)


def _answer_head(app: FastAPI) -> None:
    """Every GET also answers HEAD (RFC 9110 §9.1, §9.3.2): same status and headers, ETag
    included, no body. Feed readers and link checkers probe with HEAD. The twins stay out
    of the OpenAPI document, which would otherwise list each read twice. A twin is a copy
    of its GET route, handler included: building it again (dependants, parameter models)
    cost a quarter of the routes' build at startup. (Starlette's own routes, `/openapi.json`
    and the static assets, answer HEAD already.)"""
    routes = app.router.routes
    for route in list(routes):
        if isinstance(route, APIRoute) and route.methods == {"GET"}:
            twin = copy.copy(route)
            twin.methods = {"HEAD"}
            twin.include_in_schema = False
            routes.append(twin)


def _include_routers(app: FastAPI) -> None:
    from app.feeds import routers as feeds_routers
    from app.graphql import router as graphql_router
    from app.http.operations import router as operations_router
    from app.rest import routers as rest_routers

    # Starlette tries routes in order: the probes and /graphql (one path, the busiest)
    # first, not behind the ~70 REST routes. No path of one router matches another's.
    for router in [operations_router, graphql_router, *rest_routers, *feeds_routers]:
        _add_routes(app, router)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Request handlers are synchronous (database work) and run on this pool of threads.
    anyio.to_thread.current_default_thread_limiter().total_tokens = (
        app.state.settings.worker_threads
    )
    # The modules, schema and compiled queries loaded so far live as long as the process:
    # move them out of the collector's sight. Each full collection used to walk them all —
    # 10-20% of a request's CPU in samples of a loaded server. (Raising the young-generation
    # threshold as well made no difference we could measure: callgrind counts -1% at 50,000.)
    # No collection first: it walked all ~230,000 objects to find ~1,300 unreachable ones
    # (frozen with the rest, never freed): 0.3 s of the time to ready.
    gc.freeze()
    gc.enable()  # `dossier serve` starts with the collector off
    for start in app.state.on_startup:
        start()
    yield
    for stop in app.state.on_shutdown:
        stop()
    app.state.engine.dispose()
    if app.state.read_engine is not app.state.engine:
        app.state.read_engine.dispose()


def _install_response_cache(app: FastAPI, settings: Settings) -> None:
    """Cache public GETs; purge on every committed write, in every worker (via Redis)."""
    cache = ResponseCache(settings.response_cache_max_bytes)
    factory = app.state.session_factory

    def lookup_next_scheduled() -> dict[str, datetime]:
        with session_scope(factory) as session:
            return next_scheduled(session)

    horizon = ScheduledHorizon(lookup_next_scheduled, settings.cache_max_age)
    broadcast = (
        RedisInvalidation(settings.redis_url, cache, settings.cache_channel, horizon.reset)
        if settings.redis_url
        else None
    )

    # From where the cached responses are read: with a replica, a write is purged at once
    # (on the primary's word), but a read in the replica's lag may cache the old version
    # again; the poll purges that when the replica applies the write and its versions move.
    read_factory = app.state.read_session_factory

    def read_versions() -> tuple[str, dict[str, int]] | None:
        with session_scope(read_factory) as session:
            return type_versions(session)

    if settings.cache_version_poll > 0:
        watch = VersionWatch(
            read_versions,
            cache,
            {t.name: t.collection for t in ALL_TYPES},
            settings.cache_version_poll,
            horizon.reset,
        )
        app.state.on_startup.append(watch.start)
        app.state.on_shutdown.append(watch.stop)

    def purge(ctype: ContentType, row: Any) -> None:
        keys = write_keys(ctype.collection, ctype.public_id(row.id))
        # The horizon before the purge: a request made between the two would otherwise
        # keep its entry past an item this write scheduled.
        horizon.reset()
        cache.purge(keys)
        if broadcast is not None:
            broadcast.publish(keys)

    app.state.response_cache = cache
    app.state.on_shutdown.append(on_write(purge))
    if broadcast is not None:
        app.state.on_shutdown.append(broadcast.stop)
    app.add_middleware(
        ResponseCacheMiddleware, cache=cache, ttl=horizon.ttl, known_ttl=horizon.known_ttl
    )


def _install_scheduled_max_age(app: FastAPI, settings: Settings) -> None:
    """No response cache: public responses' `max-age` still ends at the next scheduled
    publication of a type they show. This worker's writes reset the horizon; others' (and
    SQL by hand) reach it within `CACHE_VERSION_POLL` (its refresh), or `CACHE_MAX_AGE`
    with the poll off."""
    factory = app.state.session_factory

    def lookup_next_scheduled() -> dict[str, datetime]:
        with session_scope(factory) as session:
            return next_scheduled(session)

    refresh = settings.cache_version_poll if settings.cache_version_poll > 0 else None
    horizon = ScheduledHorizon(lookup_next_scheduled, settings.cache_max_age, refresh)
    app.state.on_shutdown.append(on_write(lambda ctype, row: horizon.reset()))
    app.add_middleware(ScheduledMaxAgeMiddleware, ttl=horizon.ttl, known_ttl=horizon.known_ttl)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    app = FastAPI(
        title="Dossier",
        description=DESCRIPTION,
        version=_version(),
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_docs
        redoc_url=None,
    )
    engine = make_engine(settings.database_url, settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    # Public reads may go to a replica; writes, auth and readiness use the primary.
    app.state.read_engine = (
        make_engine(settings.database_read_url, settings) if settings.database_read_url else engine
    )
    app.state.read_session_factory = make_read_session_factory(app.state.read_engine)
    app.state.metrics = Metrics()
    app.state.on_startup = []
    app.state.on_shutdown = []

    install_error_handlers(app)
    # Added innermost first: a request passes RequestId, Metrics, CORS, AcceptEncoding, GZip, the body
    # limit and CatchAll, in that order, on its way to the routes.
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RejectNulMiddleware)
    if settings.response_cache:
        _install_response_cache(app, settings)
    else:
        _install_scheduled_max_age(app, settings)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    # Level 6 (zlib's default; Starlette's is 9): a 315 KB list compresses in 12.6 ms instead
    # of 16.5 ms to 52.4 KB instead of 51.7 KB. Cached responses are gzipped once, at 9.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=6)
    app.add_middleware(AcceptEncodingMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)

    _include_routers(app)
    install_docs(app)
    install_openapi(app)
    _answer_head(app)
    return app
