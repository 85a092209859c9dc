"""CPU instructions per request, counted by valgrind's callgrind: figures that do not move.

    .venv/bin/python bench/instructions.py --db sqlite --scale small
    .venv/bin/python bench/instructions.py --db postgresql --scenarios S2 --requests 40

Wall-clock figures on a shared 2-core VM move by 10-40% from one minute to the next, so
a change worth 5% cannot be seen in `bench/run.py`'s table. This counts the instructions
the server process executes per request instead: the same code, data and request give
the same count within ~0.1%, whatever else the machine is doing. (Instructions are not
time — cache misses and waits on the database are not in them, and work in the database
server is not either — so measure a change with both.)

For each scenario and server configuration a child process builds the app in-process
(the settings `bench/run.py`'s servers get), sends 5 requests to warm it up, then sends
`--requests` requests straight to the ASGI app (no socket, no HTTP parser: uvicorn's part
is not counted; `/healthz` ten times as many, see `HEALTHZ_TIMES`) with callgrind's instrumentation on only around them. Handlers run on the
app's thread pool, as in the server. Needs valgrind (`apt-get install -y valgrind`).
Not a test: it prints figures and asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import BENCH_SECRET, DEFAULT_PG_ADMIN_URL, discover, prepare  # noqa: E402
from bench.scenarios import SERVERS, graphql_post  # noqa: E402
from bench.server import compile_app  # noqa: E402

WARMUP = 5
# `/healthz` is counted over ten times the requests: each instrumented stretch carries a
# fixed cost of its own (~4 M instructions: switching callgrind on and off, the worker
# thread waking), which over 20 requests made `/healthz` read 0.53-1.0 M from run to run
# (0.61 M over 200), and the `x /healthz` column with it. A 15 M request hardly notices it.
HEALTHZ_TIMES = 10


@dataclass
class Case:
    key: str
    label: str
    server: str  # a configuration of bench.scenarios.SERVERS
    method: str
    path: str
    body: str | None = None


def cases(targets: Any) -> list[Case]:
    topic = urllib.parse.quote(targets.top_topic)
    flagship = graphql_post()
    return [
        Case("S0", "GET /healthz", "nocache", "GET", "/healthz"),
        Case(
            "S1",
            "REST events?topic=<top>&include=participants.person.affiliations",
            "nocache",
            "GET",
            f"/api/v1/events?topic={topic}&include=participants.person.affiliations&limit=20",
        ),
        Case(
            "S2", "GraphQL flagship POST, fast path", "nocache", "POST", "/graphql", flagship.body
        ),
        Case(
            "S2",
            "GraphQL flagship POST, stock execution",
            "stock",
            "POST",
            "/graphql",
            flagship.body,
        ),
        Case(
            "S4",
            "REST person by slug, include=affiliations",
            "nocache",
            "GET",
            f"/api/v1/people/{urllib.parse.quote(targets.people[0])}?include=affiliations",
        ),
        Case(
            "S5",
            "REST search ?q=<common word>",
            "nocache",
            "GET",
            f"/api/v1/search?q={urllib.parse.quote(targets.search_word)}",
        ),
        Case(
            "S6",
            "REST topic stream page 1",
            "nocache",
            "GET",
            f"/api/v1/topics/{topic}/stream?limit=20",
        ),
        Case("S7", "REST articles page 1", "nocache", "GET", "/api/v1/articles?limit=20"),
    ]


# -- the child: runs under valgrind --------------------------------------------------------


async def _call(app: Any, method: str, target: str, body: bytes) -> int:
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _instrument(state: str) -> None:
    """Callgrind's instrumentation on or off in this process; blocks the event loop on
    purpose (nothing else may run meanwhile)."""
    subprocess.run(
        ["callgrind_control", f"--instr={state}", str(os.getpid())],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def child(method: str, target: str, body: str, requests: int) -> None:
    from app.main import create_app

    app = create_app()
    data = body.encode()

    async def go() -> None:
        async with app.router.lifespan_context(app):
            for _ in range(WARMUP):
                status = await _call(app, method, target, data)
                if status != 200:
                    print(f"HTTP {status}", flush=True)
                    return
            _instrument("on")
            for _ in range(requests):
                await _call(app, method, target, data)
            _instrument("off")
            print("ok", flush=True)

    asyncio.run(go())


# -- the parent ----------------------------------------------------------------------------


def _totals(path: Path) -> int:
    """The instruction count in a callgrind output file (all its threads' parts)."""
    total = 0
    for part in [path, *path.parent.glob(path.name + ".*")]:
        for line in part.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
                break
    return total


def measure(case: Case, url: str, requests: int, workdir: Path) -> tuple[Case, int | str]:
    if case.key == "S0":
        requests *= HEALTHZ_TIMES
    out = workdir / f"callgrind.{case.key}.{case.server}.out"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": BENCH_SECRET,
        "LOG_LEVEL": "WARNING",
        **SERVERS[case.server],
        "PYTHONPATH": str(ROOT),
    }
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        case.method,
        case.path,
        case.body or "",
        str(requests),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if "ok" not in done.stdout.split():
        reason = (
            done.stdout.strip().splitlines()[-1:]
            or done.stderr.strip().splitlines()[-1:]
            or ["failed"]
        )
        return case, f"n/a: {reason[0]}"
    return case, _totals(out) // requests


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scale", choices=["small", "large"], default="small")
    parser.add_argument("--requests", type=int, default=20, help="requests counted per scenario")
    parser.add_argument("--scenarios", default="", help="e.g. S1,S2 (S0 always runs)")
    parser.add_argument("--jobs", type=int, default=2, help="children at once (one core each)")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y valgrind")
    url = prepare(args.db, args.scale, args.pg_admin_url)
    wanted = {s.strip().upper() for s in args.scenarios.split(",") if s.strip()}
    chosen = [c for c in cases(discover(url)) if not wanted or c.key in wanted or c.key == "S0"]
    compile_app()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda c: measure(c, url, args.requests, Path(tmp)), chosen))
    healthz = next((n for c, n in results if c.key == "S0" and isinstance(n, int)), None)
    print(
        f"Dossier instructions per request: {args.db}, {args.scale} dataset, {args.requests} requests each "
        f"(S0: {args.requests * HEALTHZ_TIMES}) "
        f"(callgrind, in-process ASGI)"
    )
    print(f"    {'scenario':<66} {'server':<8} {'instructions':>14} {'x /healthz':>11}")
    for case, count in results:
        if isinstance(count, str):
            print(f"{case.key:<3} {case.label:<66} {case.server:<8} {count:>14}")
            continue
        ratio = f"{count / healthz:.1f}" if healthz else "-"
        print(f"{case.key:<3} {case.label:<66} {case.server:<8} {count:>14,} {ratio:>11}")
    counts = {(c.key, c.server): n for c, n in results if isinstance(n, int)}
    if ("S2", "nocache") in counts and ("S2", "stock") in counts:
        fast, stock = counts["S2", "nocache"], counts["S2", "stock"]
        print(f"S2 stock execution / fast path: {stock / fast:.2f}x the instructions")
    print(json.dumps({f"{c.key} {c.server}": n for c, n in results}), file=sys.stderr)


if __name__ == "__main__":
    main()
