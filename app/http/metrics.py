"""Prometheus metrics: request counts and latencies by route template, method and status."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    gc_collector,
    generate_latest,
    multiprocess,
    platform_collector,
    process_collector,
)
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Where every worker of `dossier serve --workers N` keeps its counters (prometheus_client's
# multiprocess mode; the command sets it, to a directory of its own, for N > 1).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """One registry per app, so apps built side by side (tests) do not share counters.

    With `--workers N` a scrape reaches whichever worker the kernel hands the connection
    to: each reporting its own counters, the series jumped between workers' figures, and
    Prometheus read every drop as a counter reset. Then every worker writes its counters to
    files in `PROMETHEUS_MULTIPROC_DIR`, and any worker's `/metrics` sums them all (the
    process metrics of one worker would describe a random one, so they are left out).
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if os.environ.get(MULTIPROCESS_DIR):
            self.exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposed)
            platform_collector.PlatformCollector(registry=self.exposed)
        else:
            self.exposed = self.registry
            process_collector.ProcessCollector(registry=self.registry)
            platform_collector.PlatformCollector(registry=self.registry)
            gc_collector.GCCollector(registry=self.registry)
        self.requests = Counter(
            "dossier_http_requests",
            "HTTP requests handled.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "dossier_http_request_duration_seconds",
            "Seconds from receiving a request to sending the whole response.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.exposed)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


def _route_templates(routes: Iterable[BaseRoute]) -> dict[Any, str]:
    """Endpoint (or mounted app) -> path template, for routes that do not put
    themselves in the scope (Starlette `Route`s such as /openapi.json, and `Mount`s)."""
    templates: dict[Any, str] = {}
    for route in routes:
        template = getattr(route, "path_format", None)
        if not isinstance(template, str):
            continue
        if isinstance(route, Mount):
            templates.setdefault(route.app, template)
        else:
            templates.setdefault(getattr(route, "endpoint", None), template)
    return templates


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[Any, str] = {}
        self._templates_built_for = -1

    def route_template(self, scope: Scope) -> str:
        """The matched route's path template (`/api/v1/events/{id_or_slug}`), never the raw
        path, so the label set stays small whatever clients request."""
        route = scope.get("route")
        template = getattr(route, "path_format", None)
        if isinstance(template, str):
            return template
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return UNMATCHED_ROUTE
        routes = getattr(scope.get("app"), "routes", ())
        if len(routes) != self._templates_built_for:
            self._templates = _route_templates(routes)
            self._templates_built_for = len(routes)
        return self._templates.get(endpoint, UNMATCHED_ROUTE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
            self.metrics.observe(
                self.route_template(scope), method, status, time.perf_counter() - started
            )
