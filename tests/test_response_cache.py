"""The response cache on its own: hits, 304s, purges by surrogate key, races, TTLs."""

from __future__ import annotations

import asyncio
import gzip
import logging
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from app.http import response_cache
from app.http.caching import accepts_gzip
from app.http.response_cache import (
    CATCH_ALL,
    Entry,
    Horizon,
    ResponseCache,
    ResponseCacheMiddleware,
    ScheduledHorizon,
    request_key,
)
from tests.support import count_queries


def _scope(
    path: str,
    query: str = "",
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers or [],
    }


class FakeApp:
    """A downstream app that counts calls and answers with given headers."""

    def __init__(
        self, keys: str = "events evt_1", cache_control: str = "public, max-age=60"
    ) -> None:
        self.calls = 0
        self.keys = keys
        self.cache_control = cache_control

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        headers = [
            (b"content-type", b"application/json"),
            (b"etag", b'"abc"'),
            (b"cache-control", self.cache_control.encode()),
        ]
        if self.keys:
            headers.append((b"surrogate-key", self.keys.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": f'{{"call": {self.calls}}}'.encode()})


def _run(
    middleware: ResponseCacheMiddleware, scope: dict[str, Any]
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


def test_repeated_get_is_served_from_cache_and_304_needs_no_app_call() -> None:
    app = FakeApp()
    middleware = ResponseCacheMiddleware(app, ResponseCache(), ttl=lambda: Horizon(60))
    assert _run(middleware, _scope("/api/v1/events", "limit=2&topic=x"))[2] == b'{"call": 1}'
    # Parameter order does not matter.
    status, headers, body = _run(middleware, _scope("/api/v1/events", "topic=x&limit=2"))
    assert (status, body, app.calls) == (200, b'{"call": 1}', 1)
    assert headers[b"etag"] == b'"abc"'
    status, _, body = _run(
        middleware,
        _scope("/api/v1/events", "topic=x&limit=2", headers=[(b"if-none-match", b'"abc"')]),
    )
    assert (status, body, app.calls) == (304, b"", 1)


def test_purge_by_entity_key_drops_only_matching_entries() -> None:
    cache = ResponseCache()
    events, people = FakeApp("events evt_1"), FakeApp("people per_1")
    mw_events = ResponseCacheMiddleware(events, cache, ttl=lambda: Horizon(60))
    mw_people = ResponseCacheMiddleware(people, cache, ttl=lambda: Horizon(60))
    _run(mw_events, _scope("/api/v1/events"))
    _run(mw_people, _scope("/api/v1/people"))
    assert cache.purge(["evt_1"]) == 1
    _run(mw_events, _scope("/api/v1/events"))
    _run(mw_people, _scope("/api/v1/people"))
    assert (events.calls, people.calls) == (2, 1)


def test_responses_without_keys_fall_under_the_catch_all_key() -> None:
    cache = ResponseCache()
    app = FakeApp(keys="")
    middleware = ResponseCacheMiddleware(app, cache, ttl=lambda: Horizon(60))
    _run(middleware, _scope("/api/v1/search", "q=x"))
    cache.purge(["art_9"])  # any write purges the catch-all key
    _run(middleware, _scope("/api/v1/search", "q=x"))
    assert app.calls == 2
    assert CATCH_ALL == "all"


def test_a_purge_during_computation_prevents_storing_a_stale_response() -> None:
    cache = ResponseCache()
    generation = cache.generation
    cache.purge(["evt_1"])  # a write lands while the response was being computed
    entry = Entry(200, [], b"old", '"e"', frozenset({"events"}), expires=1e18)
    assert cache.put("k", entry, generation) is False
    assert cache.get("k") is None


def test_private_authenticated_and_preview_requests_bypass_the_cache() -> None:
    assert request_key(_scope("/api/v1/events"), Headers(raw=[])) is not None
    assert (
        request_key(_scope("/api/v1/events"), Headers(raw=[(b"authorization", b"Bearer x")]))
        is None
    )
    assert request_key(_scope("/api/v1/events", "preview=true"), Headers(raw=[])) is None
    assert request_key(_scope("/graphql"), Headers(raw=[(b"x-preview", b"true")])) is None
    assert request_key(_scope("/api/v1/events", method="POST"), Headers(raw=[])) is None
    assert request_key(_scope("/api/v1/audit"), Headers(raw=[])) is None
    assert request_key(_scope("/healthz"), Headers(raw=[])) is None

    app = FakeApp(cache_control="private, no-store")
    middleware = ResponseCacheMiddleware(app, ResponseCache(), ttl=lambda: Horizon(60))
    _run(middleware, _scope("/api/v1/events"))
    _run(middleware, _scope("/api/v1/events"))
    assert app.calls == 2


def test_byte_bound_evicts_least_recently_used() -> None:
    cache = ResponseCache(max_bytes=16 * 100)
    for i in range(40):
        entry = Entry(200, [], b"x" * 90, '"e"', frozenset({f"evt_{i}"}), expires=1e18)
        assert cache.put(f"k{i}", entry, cache.generation)
    assert cache.size <= 16 * 100
    assert cache.get("k0") is None
    assert cache.get("k39") is not None


def test_entries_never_outlive_the_next_scheduled_publication() -> None:
    import time
    from datetime import UTC, datetime, timedelta

    soon = datetime.now(UTC) + timedelta(seconds=5)
    horizon = ScheduledHorizon(lambda: {"articles": soon}, max_age=60)
    assert 0 < horizon.ttl().seconds() <= 5.01
    assert ScheduledHorizon(lambda: {}, max_age=60).ttl().seconds() == 60
    calls = []

    def lookup() -> dict[str, datetime]:
        calls.append(1)
        return {"events": datetime.now(UTC) - timedelta(seconds=1)}

    passed = ScheduledHorizon(lookup, max_age=60)
    assert passed.ttl().seconds() == 0
    time.sleep(0.01)
    passed.ttl()
    assert len(calls) == 2  # a passed moment is looked up again


def test_a_failing_horizon_lookup_is_logged_once_per_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every request asks for the horizon while the database is away: each logged a
    traceback of its own, some 80 lines per request through an outage."""
    failing = True

    def lookup() -> dict[str, datetime]:
        if failing:
            raise OSError("the database is away")
        return {}

    horizon = ScheduledHorizon(lookup, max_age=60)
    with caplog.at_level(logging.WARNING, logger="app.http.response_cache"):
        assert [horizon.ttl().seconds() for _ in range(3)] == [0.0, 0.0, 0.0]
        assert len(caplog.records) == 1
        failing = False
        assert horizon.ttl().seconds() == 60
        horizon.reset()
        failing = True
        horizon.ttl()  # the next outage is reported again
    assert len(caplog.records) == 2


class LargeApp(FakeApp):
    """Answers with a body large enough to be gzipped."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        headers = [
            (b"content-type", b"application/json"),
            (b"etag", b'"big"'),
            (b"cache-control", b"public, max-age=60"),
            (b"surrogate-key", b"events"),
        ]
        body = ('{"items": [' + ",".join(f'{{"id": {i}}}' for i in range(400)) + "]}").encode()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_a_cached_response_is_gzipped_once_for_every_client_that_accepts_gzip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GZipMiddleware (outside the cache) would compress the same cached body on every hit;
    the cache keeps the compressed body beside the plain one and sends it as is."""
    compressed: list[int] = []
    real_gzip = response_cache._gzip

    async def counting_gzip(body: bytes) -> bytes:
        compressed.append(len(body))
        return await real_gzip(body)

    monkeypatch.setattr(response_cache, "_gzip", counting_gzip)
    app = LargeApp()
    cache = ResponseCache()
    middleware = ResponseCacheMiddleware(app, cache, ttl=lambda: Horizon(60))
    gzip_headers = [(b"accept-encoding", b"gzip, deflate")]
    _, _, plain = _run(middleware, _scope("/api/v1/events"))  # computed and stored
    size = cache.size
    status, headers, body = _run(middleware, _scope("/api/v1/events", headers=gzip_headers))
    assert status == 200
    assert app.calls == 1
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"vary"] == b"Accept-Encoding"
    assert int(headers[b"content-length"]) == len(body) < len(plain)
    assert gzip.decompress(body) == plain
    assert cache.size == size + len(body)  # counted in the byte bound
    # Kept: the next gzip hit sends the same bytes, the size does not grow.
    assert _run(middleware, _scope("/api/v1/events", headers=gzip_headers))[2] == body
    assert cache.size == size + len(body)
    # Plain clients still get the plain body.
    status, headers, again = _run(middleware, _scope("/api/v1/events"))
    assert again == plain
    assert b"content-encoding" not in headers
    # A conditional request still gets its 304, whatever the encoding.
    conditional = [*gzip_headers, (b"if-none-match", b'"big"')]
    assert _run(middleware, _scope("/api/v1/events", headers=conditional))[0] == 304
    assert compressed == [len(plain)]  # once, for the first gzip client only
    cache.purge(["events"])
    assert cache.size == 0
    assert app.calls == 1


def test_small_cached_responses_are_not_gzipped() -> None:
    middleware = ResponseCacheMiddleware(FakeApp(), ResponseCache(), ttl=lambda: Horizon(60))
    gzip_headers = [(b"accept-encoding", b"gzip")]
    _run(middleware, _scope("/api/v1/events"))
    _, headers, body = _run(middleware, _scope("/api/v1/events", headers=gzip_headers))
    assert body == b'{"call": 1}'
    assert b"content-encoding" not in headers


def _published_articles(api: TestClient, writer: dict[str, str], count: int, title: str) -> str:
    """`count` published articles with long subtitles; the URL of a list of them all
    (large enough to be gzipped)."""
    for i in range(count):
        body = {"title": f"{title} {i}", "status": "published", "subtitle": "x" * 300}
        assert api.post("/api/v1/articles", json=body, headers=writer).status_code == 201
    return f"/api/v1/articles?limit={count}"


def test_through_the_app_a_cached_list_reaches_gzip_clients_compressed_once(
    app_factory: Any, writer: dict[str, str]
) -> None:
    """The real stack: GZipMiddleware outside the cache leaves the cache's gzipped body
    alone (not compressed twice), and every client reads the same JSON."""
    with TestClient(app_factory(response_cache=True)) as api:
        url = _published_articles(api, writer, 12, "Compressed")
        plain = api.get(url, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert len(plain.content) > 2000
        engine = api.app.state.engine  # type: ignore[attr-defined]
        for _ in range(2):
            with count_queries(engine) as queries:
                zipped = api.get(url, headers={"Accept-Encoding": "gzip"})
            assert queries.count == 0  # a hit
            assert zipped.headers["content-encoding"] == "gzip"
            assert "Accept-Encoding" in zipped.headers["vary"]
            assert zipped.json() == plain.json()  # httpx decompressed it once
            # The gzipped variant's ETag is the plain one marked weak (RFC 9110 §8.8.3.3).
            assert zipped.headers["etag"] == "W/" + plain.headers["etag"]


def test_hits_while_an_entry_is_being_gzipped_wait_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients arriving while the first gzip of an entry is under way do not compress it
    again: they wait and send the same bytes."""
    compressed: list[int] = []
    real_gzip = response_cache._gzip

    async def slow_gzip(body: bytes) -> bytes:
        compressed.append(len(body))
        await asyncio.sleep(0.05)  # long enough for the other hits to arrive
        return await real_gzip(body)

    monkeypatch.setattr(response_cache, "_gzip", slow_gzip)
    app = LargeApp()
    middleware = ResponseCacheMiddleware(app, ResponseCache(), ttl=lambda: Horizon(60))
    _run(middleware, _scope("/api/v1/events"))  # stored
    gzip_scope = _scope("/api/v1/events", headers=[(b"accept-encoding", b"gzip")])

    async def hits() -> list[bytes]:
        async def one() -> bytes:
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await middleware(gzip_scope, receive, send)
            return b"".join(m.get("body", b"") for m in sent[1:])

        return list(await asyncio.gather(*(one() for _ in range(4))))

    bodies = asyncio.run(hits())
    assert len(compressed) == 1
    assert len(set(bodies)) == 1
    assert gzip.decompress(bodies[0]) == _run(middleware, _scope("/api/v1/events"))[2]
    assert app.calls == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("*", True),
        ("*;q=0", False),
        ("deflate, *;q=0.5", True),
        ("gzip;q=abc", False),
        ("gzip;q=2", False),
        ("br", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("cached", [True, False])
def test_gzip_only_where_accepted_and_304s_vary_as_their_200s(
    app_factory: Any, writer: dict[str, str], cached: bool
) -> None:
    """`gzip;q=0` refuses gzip and `GZIP` asks for it, on a hit and on a miss; a 304 names
    Accept-Encoding in `Vary` wherever its 200 does (RFC 9110 §15.4.5)."""
    with TestClient(app_factory(response_cache=cached)) as api:
        url = _published_articles(api, writer, 6, "Varied")
        plain = api.get(url, headers={"Accept-Encoding": "identity"})
        for _ in range(2):  # a miss, then (cached) a hit
            for header, zipped in (
                ("gzip;q=0", False),
                ("gzip;q=0, *", False),
                ("GZIP", True),
                ("br, *;q=0.5", True),
                ("identity", False),
            ):
                got = api.get(url, headers={"Accept-Encoding": header})
                assert (got.headers.get("content-encoding") == "gzip") is zipped, header
                assert got.json() == plain.json()
                assert "Accept-Encoding" in got.headers["vary"]
                weak = got.headers["etag"].startswith("W/")
                assert weak is zipped, header  # a variant's own tag, weak for gzip
                assert got.headers["etag"].removeprefix("W/") == plain.headers["etag"]
                for held in (got.headers["etag"], plain.headers["etag"]):  # either revalidates
                    again = api.get(url, headers={"Accept-Encoding": header, "If-None-Match": held})
                    assert again.status_code == 304
                    assert again.headers["vary"] == got.headers["vary"], header
                    assert again.headers["etag"] == got.headers["etag"], header
        small = api.get(
            "/api/v1/articles?limit=1&fields=title", headers={"Accept-Encoding": "gzip"}
        )
        assert "Accept-Encoding" not in small.headers["vary"]  # never compressed: never varies
        assert not small.headers["etag"].startswith("W/")
        again = api.get(
            "/api/v1/articles?limit=1&fields=title",
            headers={"If-None-Match": small.headers["etag"], "Accept-Encoding": "gzip"},
        )
        assert again.status_code == 304
        assert again.headers["vary"] == small.headers["vary"]
        assert again.headers["etag"] == small.headers["etag"]


def test_a_replayed_response_says_its_age(app_factory: Any, writer: dict[str, str]) -> None:
    """RFC 9111 §5.1: a response from the cache carries `Age`, so a CDN or browser counts
    its max-age from when it was made (an `upcoming` list's is short), not from the hit."""
    with TestClient(app_factory(response_cache=True)) as api:
        url = _published_articles(api, writer, 2, "Aged")
        first = api.get(url)
        assert "age" not in first.headers  # made now
        engine = api.app.state.engine  # type: ignore[attr-defined]
        with count_queries(engine) as queries:
            hit = api.get(url)
            not_modified = api.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert queries.count == 0
        assert int(hit.headers["age"]) >= 0
        assert not_modified.status_code == 304
        assert int(not_modified.headers["age"]) >= 0


def test_the_weak_etag_of_a_gzipped_item_guards_a_write(
    app_factory: Any, writer: dict[str, str]
) -> None:
    """An editor whose client took the item gzipped holds `W/"…"`: `If-Match` with it
    writes, and once the item changed it is refused like the strong one."""
    with TestClient(app_factory(response_cache=True)) as api:
        body = {"title": "Zipped", "status": "published", "subtitle": "y" * 1500}
        url = (
            "/api/v1/articles/"
            + api.post("/api/v1/articles", json=body, headers=writer).json()["slug"]
        )
        held = api.get(url, headers={"Accept-Encoding": "gzip"})
        assert held.headers["content-encoding"] == "gzip"
        assert held.headers["etag"].startswith('W/"')
        ok = api.patch(
            url, json={"subtitle": "z" * 1500}, headers={**writer, "If-Match": held.headers["etag"]}
        )
        assert ok.status_code == 200
        stale = api.patch(
            url, json={"subtitle": "w"}, headers={**writer, "If-Match": held.headers["etag"]}
        )
        assert stale.status_code == 412
        assert api.get(url).json()["subtitle"] == "z" * 1500


def _embargo_an_article(api: TestClient, writer: dict[str, str], seconds: float) -> None:
    """An article tagged "kidnapping" (a topic made here), public in `seconds`."""
    from datetime import UTC, datetime, timedelta

    topic = {"name": "Kidnapping", "slug": "kidnapping"}
    assert api.post("/api/v1/topics", json=topic, headers=writer).status_code == 201
    soon = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    body = {"title": "Embargoed", "status": "published", "published_at": soon}
    body["topics"] = ["kidnapping"]
    assert api.post("/api/v1/articles", json=body, headers=writer).status_code == 201


@pytest.mark.parametrize("response_cache", [True, False], ids=["cache", "nocache"])
def test_max_age_never_reaches_past_the_next_scheduled_publication(
    app_factory: Any, writer: dict[str, str], response_cache: bool
) -> None:
    """No write happens when a scheduled item goes live, so no purge reaches a CDN: the
    copies it keeps must expire by then, as the worker's own do. With the worker's cache
    off too (the CDN's is not: it said max-age=600 and kept the list ten minutes)."""
    with TestClient(app_factory(response_cache=response_cache, cache_max_age=600)) as api:
        assert api.get("/api/v1/articles").headers["cache-control"] == "public, max-age=600"
        _embargo_an_article(api, writer, seconds=90)
        for url in (
            "/api/v1/articles",
            "/feeds/articles.rss",
            "/graphql?query={articles{totalCount}}",
            "/api/v1/topics/kidnapping/stream",
        ):
            said = api.get(url).headers["cache-control"]
            assert said.startswith("public, max-age="), (url, said)
            assert 80 <= int(said.rsplit("=", 1)[1]) <= 90, (url, said)
            if response_cache:
                assert api.get(url).headers["cache-control"] == said  # the cached copy too


@pytest.mark.parametrize("response_cache", [True, False], ids=["cache", "nocache"])
def test_max_age_tells_no_one_when_another_types_item_goes_public(
    app_factory: Any, writer: dict[str, str], response_cache: bool
) -> None:
    """A response is capped by the scheduled items of the types it shows, not of every
    type: `/api/v1/organizations` said `max-age=90` when an embargoed article was due in 90
    seconds, which told anyone when it would come out. (The entry in the worker's cache
    lives as long.)"""
    with TestClient(app_factory(response_cache=response_cache, cache_max_age=600)) as api:
        _embargo_an_article(api, writer, seconds=90)
        for url in (
            "/api/v1/organizations",
            "/api/v1/topics/kidnapping",
            "/api/v1/people",
            "/graphql?query={topics{totalCount}}",
            "/api/v1/events",
        ):
            said = api.get(url).headers["cache-control"]
            assert said == "public, max-age=600", (url, said)
            if response_cache:
                assert api.get(url).headers.get("age") is not None, url  # a replay
                assert api.get(url).headers["cache-control"] == said


def test_the_scheduled_horizon_is_looked_up_off_the_event_loop() -> None:
    """The lookup reads the database: on the event loop, a slow database stopped every
    request of the worker, cached hits and /healthz included."""
    import threading

    loop_thread = threading.get_ident()  # `_run`'s asyncio.run runs the loop here
    looked_up_in: list[int] = []

    def lookup() -> dict[str, datetime]:
        looked_up_in.append(threading.get_ident())
        return {}

    horizon = ScheduledHorizon(lookup, max_age=60)
    middleware = ResponseCacheMiddleware(
        FakeApp(), ResponseCache(), ttl=horizon.ttl, known_ttl=horizon.known_ttl
    )
    for query in ("limit=1", "limit=2"):
        _run(middleware, _scope("/api/v1/events", query))
    assert len(looked_up_in) == 1  # known the second time
    horizon.reset()
    _run(middleware, _scope("/api/v1/events", "limit=3"))
    assert len(looked_up_in) == 2
    assert loop_thread not in looked_up_in


def test_without_the_cache_the_horizon_is_looked_up_again_every_refresh() -> None:
    """A worker without the cache hears of no other worker's write (no purge, no poll): it
    reads the next scheduled publication again at least every `refresh` seconds."""
    import time as clock

    looked_up: list[float] = []

    def lookup() -> dict[str, datetime]:
        looked_up.append(clock.time())
        return {}

    horizon = ScheduledHorizon(lookup, 60, refresh=0.2)
    assert horizon.ttl().seconds() == 60
    assert horizon.known_ttl() is not None  # known: no lookup
    assert len(looked_up) == 1
    clock.sleep(0.25)
    assert horizon.known_ttl() is None
    horizon.ttl()
    assert len(looked_up) == 2


def test_no_error_is_kept_by_a_cdn(client: TestClient, writer: dict[str, str]) -> None:
    """An error said nothing about caching, and a 404 is cacheable by default (RFC 9111
    §4.2.2; Fastly keeps one an hour, Cloudflare minutes): a scheduled article asked for
    before its time stayed 404 at the CDN after it went public, with no Surrogate-Key for
    a purge to reach it. Every problem response is `no-store`."""
    later = "2999-01-01T00:00:00Z"
    body = {"slug": "soon", "title": "Soon", "status": "published", "published_at": later}
    assert client.post("/api/v1/articles", json=body, headers=writer).status_code == 201
    errors = {
        "/api/v1/articles/soon": 404,
        "/feeds/topics/soon.rss": 404,
        "/api/v1/nowhere": 404,
        "/api/v1/articles?limit=0": 400,
        "/api/v1/articles?preview=true": 401,
    }
    for url, status in errors.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert response.headers["cache-control"] == "no-store", url
    forbidden = client.get("/api/v1/articles/soon?preview=true", headers=writer)
    assert (forbidden.status_code, forbidden.headers["cache-control"]) == (403, "no-store")
    refused = client.post("/api/v1/articles", json={"title": ""}, headers=writer)
    assert (refused.status_code, refused.headers["cache-control"]) == (422, "no-store")


def test_a_304_replayed_for_a_response_without_vary_sends_none() -> None:
    """A feed varies by nothing but gzip; a small one by nothing: no empty `Vary` line."""
    middleware = ResponseCacheMiddleware(FakeApp(), ResponseCache(), ttl=lambda: Horizon(60))
    status, headers, _ = _run(middleware, _scope("/feeds/articles.rss"))
    assert (status, b"vary" in headers) == (200, False)
    conditional = _scope("/feeds/articles.rss", headers=[(b"if-none-match", b'"abc"')])
    status, headers, _ = _run(middleware, conditional)
    assert (status, b"vary" in headers) == (304, False)
