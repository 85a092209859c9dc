"""Load and faults: Dossier on PostgreSQL + Redis with several workers, under concurrent
reads and writes, while PostgreSQL restarts, Redis restarts and a worker is SIGKILLed.

Not a test (it restarts the machine's shared PostgreSQL and Redis): run it by hand.

    .venv/bin/python bench/faults.py [--duration 60] [--workers 2] [--readers 4] [--writers 2]

What it checks, and prints:
- requests by outcome (status codes, transport errors), the longest outage (the longest
  time in which no read succeeded, from the cache or the database) and, per fault, how
  long until `/readyz` was 200 again;
- every 5xx is a 503 `application/problem+json` with `Retry-After` (so: no 500s, and no
  GraphQL `INTERNAL_SERVER_ERROR` either), and `/readyz` answered 503 while PostgreSQL was down;
- every write acknowledged with a 2xx is there afterwards with its final content (titles
  PATCHed with unique values, events created with their relations, deletions), and no
  unacknowledged create is half-applied (it exists with all its relations, or not at all);
- no public (cached) read returned a value older than the latest write acknowledged more
  than `STALE_BOUND` seconds before the read began.
Exit status 0 when all of that holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fault_load import (  # noqa: E402
    STALE_BOUND,
    Ledger,
    creator,
    event_body,
    patcher,
    reader,
    readiness,
    verify,
)
from bench.server import Server, _descendants  # noqa: E402

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Faults


def _run(*command: str) -> None:
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
    )


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))[-1]


def _pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0


def _redis_ready() -> bool:
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() == "PONG"


def restart_postgres(hold: float) -> None:
    version = _pg_version()
    if hold <= 0:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
        return
    _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop")
    time.sleep(hold)
    _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")


def restart_redis(hold: float) -> None:
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, check=False
    )
    time.sleep(hold)
    _run(*REDIS_START)
    _wait(_redis_ready, 20, "Redis did not come back")


def _workers(server: Server) -> list[int]:
    assert server.process is not None
    found = []
    for pid in _descendants(server.process.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return sorted(found)


def kill_worker(server: Server) -> str:
    before = _workers(server)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    _wait(lambda: len(set(_workers(server)) - set(before)) >= 1, 30, "no replacement worker")
    return f"killed worker {victim}; uvicorn started a replacement after {time.monotonic() - started:.1f} s"


def _wait(predicate: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------
# The run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of load (faults at 1/4, 1/2, 3/4)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument(
        "--writers", type=int, default=2, help="PATCHing threads (plus one creator)"
    )
    parser.add_argument("--items", type=int, default=12, help="events whose titles are PATCHed")
    parser.add_argument("--faults", default="kill,postgres,redis", help="which faults, in order")
    parser.add_argument(
        "--pg-hold", type=float, default=0, help="keep PostgreSQL down this long (0: restart)"
    )
    parser.add_argument("--redis-hold", type=float, default=1, help="keep Redis down this long")
    parser.add_argument(
        "--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args(argv)


def _prepare_database(admin_url: str) -> tuple[str, str]:
    """A fresh database with the demo dataset and an admin key: (url, key)."""
    from app.db import make_engine, make_session_factory, session_scope
    from app.demo.loader import load_demo
    from app.http.auth import create_api_key
    from app.migrations import upgrade_to_head

    name = f"dossier_faults_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        load_demo(session)
        key = create_api_key(session, "faults", ["admin"])
    engine.dispose()
    return url, key


def _drop_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def longest_gap(times: list[float], start: float, end: float) -> float:
    points = [start, *sorted(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in itertools.pairwise(points))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, key = _prepare_database(args.pg_admin_url)
    env = {
        "DATABASE_URL": url, "REDIS_URL": args.redis_url, "LOG_LEVEL": "WARNING",
        "CACHE_CHANNEL": f"dossier-faults:{uuid.uuid4().hex}", "AUTH_FAILURE_LIMIT": "1000000",
    }  # fmt: skip
    ledger, stop, report = Ledger(), threading.Event(), []
    server = Server("faults", env, args.workers, Path(tempfile.mkdtemp(prefix="dossier-faults-")))
    server.start()
    base = server.base_url
    try:
        items = [f"fault-item-{i}" for i in range(args.items)]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as setup:
            for slug in items:
                assert setup.post("/api/v1/events", json=event_body(slug, slug)).status_code == 201
                ledger.titles[slug] = []
        threads = [threading.Thread(target=readiness, args=(base, ledger, stop))]
        threads += [
            threading.Thread(target=reader, args=(base, ledger, items, stop, n))
            for n in range(args.readers)
        ]
        shares = [items[n :: args.writers] for n in range(args.writers)]
        threads += [
            threading.Thread(target=patcher, args=(base, key, ledger, share, stop))
            for share in shares
        ]
        threads += [
            threading.Thread(target=creator, args=(base, key, ledger, stop, uuid.uuid4().hex[:6]))
        ]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        available = {
            "kill": ("SIGKILL a worker", lambda: kill_worker(server)),
            "postgres": ("restart PostgreSQL", lambda: restart_postgres(args.pg_hold)),
            "redis": ("restart Redis", lambda: restart_redis(args.redis_hold)),
        }
        faults = [available[name] for name in args.faults.split(",") if name]
        windows = []
        for n, (name, inject) in enumerate(faults, start=1):
            time.sleep(max(0.0, start + args.duration * n / 4 - time.monotonic()))
            began = time.monotonic()
            note = inject() or ""
            ended = time.monotonic()
            _wait(
                lambda t=ended: ledger.readyz[-1][1] == 200 and ledger.readyz[-1][0] > t, 60, name
            )
            windows.append((name, began, ended))
            ready_after = next(t for t, s in ledger.readyz if t > ended and s == 200) - began
            refused = sorted(
                {str(s) for t, s in ledger.readyz if began <= t <= ended + 1 and s != 200}
            )
            report.append(
                f"  {name}: took {ended - began:.1f} s, /readyz 200 again {ready_after:.1f} s after "
                f"it began; /readyz meanwhile: {', '.join(refused) or 'always 200'}. {note}"
            )
        time.sleep(max(0.0, start + args.duration - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join()
        end = time.monotonic()
        problems = verify(base, key, ledger, items)
    finally:
        stop.set()
        server.stop()
        if not _pg_ready():
            _run("pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "start")
        if not _redis_ready():
            _run(*REDIS_START)
        _wait(_pg_ready, 60, "PostgreSQL is not back")
        _drop_database(args.pg_admin_url, url)

    pg_windows = [w for w in windows if "PostgreSQL" in w[0]]
    pg_readyz = {s for _, a, b in pg_windows for t, s in ledger.readyz if a <= t <= b + 0.5}
    acked_patches = sum(
        a.acked is not None for attempts in ledger.titles.values() for a in attempts
    )
    patches = sum(len(attempts) for attempts in ledger.titles.values())
    total = sum(ledger.outcomes.values())
    print(
        f"Dossier under load and faults: {args.workers} workers on PostgreSQL + Redis, "
        f"{args.readers} readers, {args.writers} patchers + 1 creator, {args.duration:.0f} s"
    )
    print(f"requests: {total} ({total / (end - start):.0f}/s)")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(ledger.outcomes.items())))
    print(f"longest outage (no read succeeded): {longest_gap(ledger.read_ok, start, end):.2f} s")
    print("faults:")
    print("\n".join(report))
    print(
        f"writes: {patches} PATCHes ({acked_patches} acknowledged), {len(ledger.created)} creates "
        f"({sum(ledger.created.values())} acknowledged), {len(ledger.deleted)} deletes "
        f"({sum(ledger.deleted.values())} acknowledged)"
    )
    checks = {
        "no 5xx but 503 problem+json with Retry-After, no GraphQL INTERNAL_SERVER_ERROR": not ledger.bad_5xx,
        "/readyz answered 503 while PostgreSQL was down": 503 in pg_readyz or not pg_windows,
        "no acknowledged write lost, no create half-applied, no stale cache at the end": not problems,
        f"no public read staler than {STALE_BOUND:.0f} s after an acknowledged write": not ledger.stale,
    }
    for line in [*ledger.bad_5xx[:10], *problems[:20], *ledger.stale[:10]]:
        print("  " + line)
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
