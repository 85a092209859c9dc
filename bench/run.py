"""Dossier benchmark: start the server on a generated dataset, drive it with wrk, print a table.

    .venv/bin/python bench/run.py --db sqlite --scale small --duration 5

Not a test: it prints figures and asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dataset import (  # noqa: E402
    BENCH_SECRET,
    DEFAULT_PG_ADMIN_URL,
    RESULTS,
    create_admin_key,
    discover,
    prepare,
)
from bench.load import run_wrk, wrk_path  # noqa: E402
from bench.paired import paired_latency  # noqa: E402
from bench.scenarios import (  # noqa: E402
    SCENARIOS,
    SERVERS,
    Context,
    Scenario,
    Unavailable,
    graphql_post,
    summary_row,
)
from bench.server import Server  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark a Dossier server on a generated dataset."
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds per scenario (default 10)"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="concurrent connections (default 16)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--workers", type=int, default=1, help="server worker processes (default 1)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1, help="warm-up seconds before each scenario"
    )
    parser.add_argument(
        "--scenarios", default="", help="comma-separated subset, e.g. S1,S5,S6,S7 (S0 always runs)"
    )
    parser.add_argument(
        "--latency-duration",
        type=float,
        default=2,
        help="seconds of a second run with 1 connection per scenario: the unloaded p50 (0: skip)",
    )
    parser.add_argument("--page", type=int, default=1000, help="the deep page of S7 (default 1000)")
    parser.add_argument(
        "--paired",
        type=int,
        default=25,
        help="rounds of S2 one at a time, 20 requests to the fast path then the stock server, both "
        "running side by side (0 skips)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and regenerate the bench database"
    )
    parser.add_argument(
        "--pg-admin-url", default=DEFAULT_PG_ADMIN_URL, help="PostgreSQL URL to create databases"
    )
    parser.add_argument(
        "--pg-db", default=None, help="PostgreSQL database name (default dossier_bench_<scale>)"
    )
    return parser.parse_args(argv)


def _selected(args: argparse.Namespace) -> list[Scenario]:
    wanted = {s.strip().upper() for s in args.scenarios.split(",") if s.strip()}
    chosen = [s for s in SCENARIOS if not wanted or s.key in wanted or s.key == "S0"]
    servers = {s.server for s in chosen if s.key != "S0"}
    return [s for s in chosen if s.server in servers]


def cpu_calibration() -> float:
    """Milliseconds of `sum(range(10**6))`, best of 5: how fast this machine runs Python now.

    A shared VM's speed wanders (1.6x within an hour has been seen); two runs' figures are
    comparable only when their calibrations agree."""
    import timeit

    return 1000 * min(timeit.repeat("sum(range(10**6))", number=1, repeat=5))


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path()
    started = time.time()
    calibration_start = cpu_calibration()
    url = prepare(args.db, args.scale, args.pg_admin_url, fresh=args.fresh, pg_db=args.pg_db)
    targets = discover(url)
    admin_key = create_admin_key(url)
    scenarios = _selected(args)
    rows: list[dict[str, Any]] = []
    servers: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    scripts = RESULTS / "lua"
    scripts.mkdir(parents=True, exist_ok=True)

    def environment(server_name: str) -> dict[str, str]:
        return {
            "DATABASE_URL": url,
            "SECRET_KEY": BENCH_SECRET,
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(max(5, args.connections)),
            **SERVERS[server_name],
        }

    for server_name in dict.fromkeys(s.server for s in scenarios):
        env = environment(server_name)
        with Server(server_name, env, args.workers, RESULTS) as server:
            ready = server.start()
            print(
                f"[{server_name}] ready in {ready:.2f} s on {server.base_url} ({SERVERS[server_name]})",
                flush=True,
            )
            ctx = Context(server.base_url, url, targets, admin_key, args.page, notes)
            healthz: float | None = None
            for index, scenario in enumerate(s for s in scenarios if s.server == server_name):
                result: Any
                try:
                    cycle = scenario.build(ctx)
                    script = scripts / f"{server_name}-{index}-{scenario.key}.lua"
                    if args.warmup > 0:
                        run_wrk(
                            server.base_url,
                            cycle,
                            script,
                            args.warmup,
                            args.connections,
                            args.threads,
                        )
                    result = run_wrk(
                        server.base_url,
                        cycle,
                        script,
                        args.duration,
                        args.connections,
                        args.threads,
                        scenario.track_statuses,
                    )
                    # One request at a time: the latency of a request, not of a queue.
                    alone = (
                        run_wrk(server.base_url, cycle, script, args.latency_duration, 1, 1)
                        if args.latency_duration > 0
                        else None
                    )
                except Unavailable as exc:
                    result, alone = str(exc), None
                except RuntimeError as exc:
                    result, alone = f"failed: {exc}".splitlines()[0], None
                if scenario.key == "S0" and not isinstance(result, str):
                    healthz = result.rps
                row = summary_row(scenario, result, healthz)
                if alone is not None and alone.requests:
                    row["p50_1c_ms"] = alone.p50_ms
                if scenario.key in notes and "page N" in scenario.label:
                    row["label"] = scenario.label.replace("page N", notes[scenario.key])
                row["calibration_ms"] = round(cpu_calibration(), 2)
                rows.append(row)
                print("  " + format_row(row), flush=True)
            servers[server_name] = {
                "ready_seconds": server.ready_seconds,
                "peak_rss_mb": server.peak_process_kb / 1024,
                "peak_rss_total_mb": server.peak_total_kb / 1024,
                "settings": SERVERS[server_name],
            }
    paired = None
    s2_servers = {s.server for s in scenarios if s.key == "S2"}
    if args.paired > 0 and {"nocache", "stock"} <= s2_servers:
        with (
            Server("nocache-paired", environment("nocache"), args.workers, RESULTS) as fast,
            Server("stock-paired", environment("stock"), args.workers, RESULTS) as stock,
        ):
            fast.start()
            stock.start()
            found = paired_latency([fast.base_url, stock.base_url], graphql_post(), args.paired)
            paired = {"rounds": found.rounds, "p50_ms": found.p50_ms, "p90_ms": found.p90_ms}
            print(
                f"[paired] S2 one at a time, {found.rounds} rounds: p50 {found.p50_ms}", flush=True
            )
    return {
        "paired_s2": paired,
        "db": args.db,
        "scale": args.scale,
        "duration": args.duration,
        "connections": args.connections,
        "threads": args.threads,
        "workers": args.workers,
        "latency_duration": args.latency_duration,
        "started": datetime.fromtimestamp(started, UTC).isoformat(),
        "rows": rows,
        "servers": servers,
        "python": f"{sys.executable} {platform.python_version()} ({platform.python_build()[1]})",
        "calibration_ms": [round(calibration_start, 2), round(cpu_calibration(), 2)],
    }


def format_row(row: dict[str, Any]) -> str:
    name = f"{row['key']:<3} {row['label'][:62]:<62} {row['server']:<7}"
    if "error" in row:
        return f"{name} {row['error']}"
    ratio = f"{100 * row['vs_healthz']:6.1f}%" if row.get("vs_healthz") is not None else "      -"
    errors = row["status_errors"] + row["socket_errors"]
    alone = f"{row['p50_1c_ms']:8.2f}" if row.get("p50_1c_ms") is not None else "       -"
    machine = (
        f"{row['calibration_ms']:7.1f}" if row.get("calibration_ms") is not None else "      -"
    )
    return f"{name} {row['rps']:9.1f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {ratio} {errors:7d} {alone} {machine}"


def _find(
    rows: list[dict[str, Any]], key: str, server: str, label_part: str = ""
) -> dict[str, Any] | None:
    for row in rows:
        if (
            row["key"] == key
            and row["server"] == server
            and label_part in row["label"]
            and "rps" in row
        ):
            return row
    return None


def report(results: dict[str, Any]) -> str:
    rows = results["rows"]
    lines = [
        f"Dossier bench: {results['db']}, {results['scale']} dataset, {results['workers']} worker(s), "
        f"wrk {results['threads']} threads x {results['connections']} connections, {results['duration']:g} s per scenario",
        f"{'':3} {'scenario':<62} {'server':<7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'/healthz':>7} {'errors':>7} {'p50 1c':>8} {'cal ms':>7}",
    ]
    lines += [format_row(row) for row in rows]
    fast, stock = _find(rows, "S2", "nocache"), _find(rows, "S2", "stock")
    if fast and stock:
        lines.append(
            f"S2 fast path vs stock execution: {fast['rps'] / stock['rps']:.2f}x req/s, "
            f"p50 {stock['p50_ms']:.2f} ms -> {fast['p50_ms']:.2f} ms"
        )
        if fast.get("p50_1c_ms") and stock.get("p50_1c_ms"):
            lines.append(
                f"S2 one request at a time: p50 {stock['p50_1c_ms']:.2f} ms (stock) -> "
                f"{fast['p50_1c_ms']:.2f} ms (fast path), {stock['p50_1c_ms'] / fast['p50_1c_ms']:.2f}x"
            )
    paired = results.get("paired_s2")
    if paired:
        (fast_p50, stock_p50), (fast_p90, stock_p90) = paired["p50_ms"], paired["p90_ms"]
        lines.append(
            f"S2 paired, one at a time, the two servers side by side ({paired['rounds']} rounds "
            f"of 20 each): p50 {stock_p50:.2f} ms (stock) -> {fast_p50:.2f} ms (fast path), "
            f"{stock_p50 / fast_p50:.2f}x; p90 {stock_p90:.2f} -> {fast_p90:.2f} ms"
        )
    page1 = next((r for r in rows if r["label"] == "REST articles page 1" and "rps" in r), None)
    deep = next((r for r in rows if r["key"] == "S7" and r is not page1 and "rps" in r), None)
    if page1 and deep:
        lines.append(f"S7 deep page p50 / page 1 p50: {deep['p50_ms'] / page1['p50_ms']:.2f}")
    for name, server in results["servers"].items():
        lines.append(
            f"server {name}: ready in {server['ready_seconds']:.2f} s; peak RSS {server['peak_rss_mb']:.0f} MB "
            f"per process, {server['peak_rss_total_mb']:.0f} MB in all"
        )
    if results.get("calibration_ms"):
        first, last = results["calibration_ms"]
        lines.append(
            f"machine: sum(range(10**6)) in {first:.1f} ms at the start, {last:.1f} ms at the end, and "
            "after each row in `cal ms` (compare rows and runs whose figures there agree); "
            f"Python {results['python']}"
        )
    mixed = _find(rows, "S9", "cache")
    if mixed and mixed.get("statuses"):
        lines.append(
            "S9 statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(mixed["statuses"].items()))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = run(args)
    text = report(results)
    print()
    print(text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{args.db}-{args.scale}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    (RESULTS / f"{args.db}-{args.scale}-{stamp}.txt").write_text(text + "\n")
    print(f"\nSaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
