"""The scenarios S0-S9: what each one requests, on which server configuration.

Each builder returns the cycle of requests wrk repeats, or raises `Unavailable` when the
endpoint does not answer as expected (e.g. "n/a: HTTP 404"), so one missing endpoint
never stops the run.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.dataset import Targets, deep_article_cursor, token_scope
from bench.load import Request

FLAGSHIP_QUERY = """{ events(filter: {topic: "kidnapping"}, first: 20) {
    edges { node { title startsAt attendanceMode
      speakers { name slug title photo { url } bio
        affiliations { role organization { name } } } } }
    pageInfo { hasNextPage endCursor } } }"""

# Server configurations (environment settings); every scenario runs on one of them.
SERVERS: dict[str, dict[str, str]] = {
    "nocache": {"RESPONSE_CACHE": "false", "GRAPHQL_FAST_PATH": "true"},
    "stock": {"RESPONSE_CACHE": "false", "GRAPHQL_FAST_PATH": "false"},
    "cache": {"RESPONSE_CACHE": "true", "GRAPHQL_FAST_PATH": "true"},
}


class Unavailable(Exception):
    """The scenario cannot run against this server (the message says why)."""


@dataclass
class Context:
    base_url: str
    database_url: str
    targets: Targets
    admin_key: str
    deep_page: int
    notes: dict[str, str]


def send(base_url: str, request: Request) -> tuple[int, dict[str, str], bytes]:
    data = request.body.encode() if request.body is not None else None
    req = urllib.request.Request(
        base_url + request.path, data=data, method=request.method, headers=request.headers
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return int(response.status), dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise Unavailable(f"n/a: {exc}") from None


def expect(base_url: str, request: Request, *statuses: int) -> tuple[dict[str, str], bytes]:
    status, headers, body = send(base_url, request)
    if status not in (statuses or (200,)):
        raise Unavailable(f"n/a: HTTP {status}")
    return headers, body


def s1_request(ctx: Context) -> Request:
    topic = urllib.parse.quote(ctx.targets.top_topic)
    return Request(
        path=f"/api/v1/events?topic={topic}&include=participants.person.affiliations&limit=20"
    )


def graphql_post() -> Request:
    return Request(
        "POST",
        "/graphql",
        {"Content-Type": "application/json"},
        json.dumps({"query": FLAGSHIP_QUERY}),
    )


def graphql_get() -> Request:
    return Request(path="/graphql?" + urllib.parse.urlencode({"query": FLAGSHIP_QUERY}))


def person_requests(ctx: Context, count: int) -> list[Request]:
    if not ctx.targets.people:
        raise Unavailable("n/a: no person with 3+ affiliations")
    return [
        Request(path=f"/api/v1/people/{slug}?include=affiliations")
        for slug in ctx.targets.people[:count]
    ]


def s10_request(ctx: Context) -> Request:
    """S1's URL as browsers, CDNs and most HTTP clients ask for it: gzip accepted."""
    return Request(path=s1_request(ctx).path, headers={"Accept-Encoding": "gzip"})


def s5_request(ctx: Context) -> Request:
    return Request(path=f"/api/v1/search?q={urllib.parse.quote(ctx.targets.search_word)}&limit=20")


def s6_request(ctx: Context) -> Request:
    return Request(
        path=f"/api/v1/topics/{urllib.parse.quote(ctx.targets.top_topic)}/stream?limit=20"
    )


def _checked(ctx: Context, requests: list[Request], *statuses: int) -> list[Request]:
    seen: set[tuple[str, str, str | None]] = set()
    for request in requests:
        if (request.method, request.path, request.body) not in seen:
            seen.add((request.method, request.path, request.body))
            expect(ctx.base_url, request, *statuses)
    return requests


def s7_deep(ctx: Context) -> list[Request]:
    """Page N of /api/v1/articles: a cursor crafted with the bench's SECRET_KEY, else walked."""
    first = Request(path="/api/v1/articles?limit=20")
    _, body = expect(ctx.base_url, first)
    cursor = json.loads(body).get("meta", {}).get("next_cursor")
    if not cursor:
        raise Unavailable("n/a: page 1 has no next_cursor")
    scope = token_scope(cursor)
    if scope is not None:
        deep, page = deep_article_cursor(
            ctx.database_url, scope, ctx.deep_page, ctx.targets.public_articles
        )
        request = Request(path=f"/api/v1/articles?limit=20&cursor={urllib.parse.quote(deep)}")
        if send(ctx.base_url, request)[0] == 200:
            ctx.notes["S7"] = f"page {page}"
            return [request]
    page = 2
    while page < ctx.deep_page:  # the server's cursors are opaque to us: walk
        _, body = expect(
            ctx.base_url,
            Request(path=f"/api/v1/articles?limit=20&cursor={urllib.parse.quote(cursor)}"),
        )
        following = json.loads(body).get("meta", {}).get("next_cursor")
        if not following:
            break
        cursor, page = following, page + 1
    ctx.notes["S7"] = f"page {page} (walked)"
    return [Request(path=f"/api/v1/articles?limit=20&cursor={urllib.parse.quote(cursor)}")]


def s8_conditional(ctx: Context) -> list[Request]:
    plain = s1_request(ctx)
    headers, _ = expect(ctx.base_url, plain)
    etag = headers.get("ETag") or headers.get("etag")
    if not etag:
        raise Unavailable("n/a: no ETag")
    return _checked(ctx, [Request(path=plain.path, headers={"If-None-Match": etag})], 304)


def s9_mixed(ctx: Context) -> list[Request]:
    """90 reads spread over S1-S6 and 10 PATCHes of article titles, interleaved."""
    if not ctx.targets.articles:
        raise Unavailable("n/a: no public article to edit")
    people = person_requests(ctx, 15)
    reads: list[Request] = []
    for i in range(15):
        reads += [
            s1_request(ctx),
            graphql_post(),
            graphql_get(),
            people[i % len(people)],
            s5_request(ctx),
            s6_request(ctx),
        ]
    _checked(ctx, reads)
    writes = []
    for i in range(10):
        slug, title = ctx.targets.articles[i % len(ctx.targets.articles)]
        headers = {
            "Authorization": f"Bearer {ctx.admin_key}",
            "Content-Type": "application/merge-patch+json",
        }
        revised, original = (
            json.dumps({"title": f"{title} (revised)"}),
            json.dumps({"title": title}),
        )
        writes.append(Request("PATCH", f"/api/v1/articles/{slug}", headers, revised, original))
    expect(ctx.base_url, writes[0])  # and put it back
    expect(
        ctx.base_url,
        Request(writes[0].method, writes[0].path, writes[0].headers, writes[0].alternate_body),
    )
    cycle: list[Request] = []
    for i in range(10):
        cycle += [*reads[9 * i : 9 * i + 9], writes[i]]
    return cycle


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    server: str
    build: Callable[[Context], list[Request]]
    track_statuses: bool = False


def _single(
    request: Callable[[Context], Request], *statuses: int
) -> Callable[[Context], list[Request]]:
    return lambda ctx: _checked(ctx, [request(ctx)], *statuses)


SCENARIOS: list[Scenario] = [
    Scenario("S0", "GET /healthz", "nocache", _single(lambda _: Request(path="/healthz"))),
    Scenario(
        "S1",
        "REST events?topic=<top>&include=participants.person.affiliations",
        "nocache",
        _single(s1_request),
    ),
    Scenario(
        "S2",
        "GraphQL flagship POST, caches off, fast path",
        "nocache",
        _single(lambda _: graphql_post()),
    ),
    Scenario(
        "S4",
        "REST person by slug, include=affiliations (200 people)",
        "nocache",
        lambda ctx: _checked(ctx, person_requests(ctx, 200)),
    ),
    Scenario("S5", "REST search ?q=<common word>", "nocache", _single(s5_request)),
    Scenario("S6", "REST topic stream page 1", "nocache", _single(s6_request)),
    Scenario(
        "S7",
        "REST articles page 1",
        "nocache",
        _single(lambda _: Request(path="/api/v1/articles?limit=20")),
    ),
    Scenario("S7", "REST articles page N (keyset cursor)", "nocache", s7_deep),
    Scenario("S0", "GET /healthz", "stock", _single(lambda _: Request(path="/healthz"))),
    Scenario(
        "S2",
        "GraphQL flagship POST, caches off, stock execution",
        "stock",
        _single(lambda _: graphql_post()),
    ),
    Scenario("S0", "GET /healthz", "cache", _single(lambda _: Request(path="/healthz"))),
    Scenario(
        "S3", "GraphQL flagship GET, caches on, same URL", "cache", _single(lambda _: graphql_get())
    ),
    Scenario("S8", "REST S1 URL with If-None-Match (304)", "cache", s8_conditional),
    Scenario("S10", "REST S1 URL, caches on, Accept-Encoding: gzip", "cache", _single(s10_request)),
    Scenario(
        "S9",
        "mixed: 90% reads S1-S6, 10% PATCH article title",
        "cache",
        s9_mixed,
        track_statuses=True,
    ),
]


def summary_row(scenario: Scenario, result: Any, healthz_rps: float | None) -> dict[str, Any]:
    row: dict[str, Any] = {"key": scenario.key, "label": scenario.label, "server": scenario.server}
    if isinstance(result, str):
        row["error"] = result
        return row
    if result.requests == 0:
        row["error"] = f"no response completed in {result.seconds:.0f} s"
        return row
    row.update(
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        requests=result.requests,
        status_errors=result.status_errors,
        socket_errors=result.socket_errors,
        statuses=result.statuses,
    )
    row["vs_healthz"] = result.rps / healthz_rps if healthz_rps else None
    return row
