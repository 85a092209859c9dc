"""How much of `/healthz`'s throughput any server on this stack can reach with S1's bytes.

    .venv/bin/python bench/floor.py --db sqlite --scale small
    .venv/bin/python bench/floor.py --db postgresql --scale large --duration 10

S1 (`bench/run.py`) asks, with caches off, for 20 events with every participant's person
and affiliations: a response of 250-320 KB. Its target is 30% of the same server's
`/healthz` throughput. This bench tells whether any handler could meet it: it fetches
S1's exact response from a Dossier server (`nocache`, as `bench/run.py` runs it), then
starts `bench/floor_app.py` (a bare ASGI app, no routing, middleware, database or
serialization) under the same uvicorn, with one worker, and measures with wrk, in one run:

- `floor`: that app sending `/healthz`'s bytes, and sending S1's bytes (read once at start);
- `dossier`: the real server's `/healthz` and S1, caches off.

The floor's S1 share is the most that Dossier's S1 could reach if making its response cost
nothing. Not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import BENCH_SECRET, DEFAULT_PG_ADMIN_URL, RESULTS, discover, prepare  # noqa: E402
from bench.load import Request, run_wrk, wrk_path  # noqa: E402
from bench.run import cpu_calibration  # noqa: E402
from bench.scenarios import SERVERS, Context, expect, s1_request  # noqa: E402
from bench.server import Server, free_port  # noqa: E402


def _floor_server(bodies: dict[str, Path], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FLOOR_BODIES": ";".join(f"{path}={file}" for path, file in bodies.items()),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.floor_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--ws",
        "none",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process


def _wait(base_url: str, process: subprocess.Popen[bytes], path: str) -> None:
    import urllib.error
    import urllib.request

    for _ in range(500):
        if process.poll() is not None:
            raise SystemExit(f"the floor server exited ({process.returncode})")
        try:
            with urllib.request.urlopen(base_url + path, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.02)
    raise SystemExit("the floor server did not answer")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument("--duration", type=float, default=5, help="seconds per row")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    wrk_path()
    url = prepare(args.db, args.scale, args.pg_admin_url)
    targets = discover(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    scripts = RESULTS / "lua"
    scripts.mkdir(parents=True, exist_ok=True)
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": BENCH_SECRET,
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": str(max(5, args.connections)),
        **SERVERS["nocache"],
    }
    rows: list[tuple[str, str, float, float, float]] = []

    def measure(server: str, label: str, base_url: str, request: Request, healthz: float) -> float:
        script = scripts / f"floor-{server}-{len(rows)}.lua"
        run_wrk(base_url, [request], script, 1, args.connections, args.threads)  # warm-up
        found = run_wrk(base_url, [request], script, args.duration, args.connections, args.threads)
        share = 100 * found.rps / (healthz or found.rps)
        rows.append((server, label, found.rps, found.p50_ms, share))
        print(f"  {server:8} {label:44} {found.rps:9.1f} req/s  p50 {found.p50_ms:7.2f} ms  "
              f"{share:6.1f}% of /healthz", flush=True)  # fmt: skip
        return found.rps

    calibration = cpu_calibration()
    with tempfile.TemporaryDirectory() as scratch, Server("floor-dossier", env, 1, RESULTS) as real:
        real.start()
        ctx = Context(real.base_url, url, targets, "", 1, {})
        s1 = s1_request(ctx)
        _, s1_body = expect(real.base_url, s1)
        _, healthz_body = expect(real.base_url, Request(path="/healthz"))
        files = {"/healthz": Path(scratch, "healthz"), "/s1": Path(scratch, "s1")}
        files["/healthz"].write_bytes(healthz_body)
        files["/s1"].write_bytes(s1_body)
        size = f"S1's bytes ({len(s1_body) / 1024:.0f} KB)"
        print(f"S1: {s1.path}, {len(s1_body):,} bytes", flush=True)

        floor_port = free_port()
        floor_url = f"http://127.0.0.1:{floor_port}"
        floor = _floor_server(files, floor_port, RESULTS / "server-floor.log")
        try:
            _wait(floor_url, floor, "/healthz")
            floor_healthz = measure(
                "floor", "/healthz's bytes", floor_url, Request(path="/healthz"), 0
            )
            measure("floor", size, floor_url, Request(path="/s1"), floor_healthz)
        finally:
            floor.terminate()
            floor.wait(timeout=15)
        real_healthz = measure(
            "dossier", "GET /healthz", real.base_url, Request(path="/healthz"), 0
        )
        measure("dossier", "S1, caches off", real.base_url, s1, real_healthz)

    print(
        f"\nFloor: {args.db}, {args.scale} dataset, 1 worker, wrk {args.threads} threads x "
        f"{args.connections} connections, {args.duration:g} s per row; "
        f"sum(range(10**6)) {calibration:.1f} ms at the start, {cpu_calibration():.1f} at the end"
    )
    for server, label, rps, p50, share in rows:
        print(f"{server:8} {label:44} {rps:9.1f} req/s  p50 {p50:7.2f} ms  {share:6.1f}%")


if __name__ == "__main__":
    main()
