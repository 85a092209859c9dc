"""Paired latency: one request at a time, alternating between servers running side by side.

On a shared VM the machine's speed wanders (2x within minutes has been seen here), so two
rows measured a minute apart compare the machine's moods as much as the servers. Sending
the same request to each server in short blocks, in turn, the order flipped every round,
puts both under the same conditions; the ratio of their medians is then a property of the
servers.

The client is Python's `http.client` over one keep-alive connection per server: it adds the
same small cost (~0.1 ms) to both sides.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from dataclasses import dataclass

from bench.load import Request


@dataclass(frozen=True)
class Paired:
    rounds: int
    p50_ms: list[float]  # per server, in the order given
    p90_ms: list[float]


def _connection(base_url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)


def _send(connection: http.client.HTTPConnection, request: Request) -> float:
    body = request.body.encode() if request.body is not None else None
    started = time.perf_counter()
    connection.request(request.method, request.path, body=body, headers=request.headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{request.method} {request.path}: HTTP {response.status}")
    return elapsed


def paired_latency(
    base_urls: list[str], request: Request, rounds: int, block: int = 20, settle: int = 5
) -> Paired:
    """`rounds` blocks of `block` requests to each server in turn; the first `settle` of a
    block are not counted. Blocks, not single requests: a server that waited while the other
    worked comes back cold (and so does its database connection): alternating request by
    request, the fast path read 8.6 ms where wrk, one at a time, read 6.9 ms in the same run."""
    connections = [_connection(url) for url in base_urls]
    try:
        for connection in connections:
            for _ in range(50):
                _send(connection, request)
        times: list[list[float]] = [[] for _ in connections]
        order = list(range(len(connections)))
        for _ in range(rounds):
            for i in order:
                for n in range(block):
                    elapsed = _send(connections[i], request)
                    if n >= settle:
                        times[i].append(elapsed)
            order.reverse()
    finally:
        for connection in connections:
            connection.close()
    for series in times:
        series.sort()
    return Paired(
        rounds=rounds,
        p50_ms=[1000 * s[len(s) // 2] for s in times],
        p90_ms=[1000 * s[len(s) * 9 // 10] for s in times],
    )
