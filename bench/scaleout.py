"""``python -m bench.scaleout``: does adding worker processes add deliveries on PostgreSQL?

The scale-out scenario of issue 16, built so that CPU is not what limits a worker:

- a receiver that answers every delivery after 50 ms (``--delay-ms``);
- 200 endpoints (``--endpoints``), with a per-endpoint cap that leaves room (``--endpoint-cap``);
- each worker holds at most ``--in-flight`` attempts at once, so one worker can deliver at most
  ``in_flight / delay`` per second whatever the machine: a second worker can only add
  deliveries if claims from several processes do not wait on each other.

For each count of workers (``--workers 1,2,4``) on a fresh PostgreSQL database, one
``hookline serve --role api`` process takes the endpoints and publishes the backlog
(``--messages`` messages, each fanned out to every endpoint) while nothing delivers; then N
``hookline serve --role worker`` processes start and drain it. *deliveries/s* runs from the
first arrival at the receiver until every delivery has arrived **and** its success is recorded.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from bench.__main__ import (
    HOOKLINE,
    Database,
    Sampler,
    control,
    free_port,
    hookline_env,
    process,
    publish,
    receiver_arrivals,
    receiver_stats,
    setup,
    wait_port,
)
from bench.measure import ratio, table


def run(workers: int, args: argparse.Namespace) -> dict[str, Any]:
    deliveries = args.messages * args.endpoints
    port = free_port()
    with Database("postgresql") as url:
        env = hookline_env(
            url,
            port,
            args.endpoint_cap,
            HOOKLINE_MAX_IN_FLIGHT=str(args.in_flight),
            HOOKLINE_REQUEST_TIMEOUT="30",
        )
        with process([HOOKLINE, "serve", "--role", "api"], env):
            wait_port(port)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(setup(base, args.receiver, args.endpoints))
            asyncio.run(publish(base, args.messages, 10))
            asyncio.run(control(args.receiver, "reset"))
            # An idle backend reports its statistics up to 10 s late (PostgreSQL 15): wait
            # for the API process's publishing to be counted before the drain, and for the
            # workers' last records after it.
            time.sleep(args.settle)
            before = asyncio.run(pg_counters(url))
            procs = [process([HOOKLINE, "serve", "--role", "worker"], env) for _ in range(workers)]
            started = [p.__enter__() for p in procs]
            try:
                with Sampler([p.pid for p in started]) as sampler:
                    finished, polls = asyncio.run(drained(args.receiver, url, deliveries, args.timeout))
                time.sleep(args.settle)
                after = asyncio.run(pg_counters(url))
                after["commits"] -= polls  # the driver's own reads
                arrivals = asyncio.run(receiver_arrivals(args.receiver))
            finally:
                for p in reversed(procs):
                    p.__exit__(None, None, None)
    first = min(arrivals.values())
    seconds = finished - first
    return {
        "workers": workers,
        "deliveries": deliveries,
        "seconds": seconds,
        "per_s": deliveries / seconds,
        "bound_per_s": workers * args.in_flight / (args.delay_ms / 1000) if args.delay_ms else float("inf"),
        "cpu_s_per_1000": sampler.cpu_seconds / deliveries * 1000,
        # PostgreSQL's own counters over the drain, per delivery. The WAL figure is the whole
        # server's (pg_stat_wal has no per-database split): exact only on a quiet server.
        **{f"{k}_per_delivery": (after[k] - before[k]) / deliveries for k in after},
    }


async def drained(receiver: str, url: str, expected: int, timeout: float) -> tuple[float, int]:
    """When every delivery has arrived and its success is recorded, and how many reads that took."""
    deadline = time.time() + timeout
    polls = 0
    conn = await asyncpg.connect(url)
    try:
        while time.time() < deadline:
            if (await receiver_stats(receiver))["unique"] >= expected:
                polls += 1
                if await conn.fetchval("SELECT count(*) FROM delivery WHERE status = 0") >= expected:
                    return time.time(), polls
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise RuntimeError(f"not every one of {expected} deliveries was recorded in {timeout}s")


async def pg_counters(url: str) -> dict[str, float]:
    """Commits and rows written in this database, and WAL bytes written by the server."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS rows_written"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        wal = await conn.fetchval("SELECT wal_bytes FROM pg_stat_wal")
        await conn.execute("SELECT pg_stat_clear_snapshot()")
    finally:
        await conn.close()
    return {"commits": float(row["xact_commit"]), "rows_written": float(row["rows_written"]), "wal_bytes": float(wal)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to compare")
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--messages", type=int, default=30, help="messages, each delivered to every endpoint")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="the receiver answers after this")
    parser.add_argument("--in-flight", type=int, default=5, help="HOOKLINE_MAX_IN_FLIGHT of each worker")
    parser.add_argument("--endpoint-cap", type=int, default=10, help="HOOKLINE_ENDPOINT_CONCURRENCY")
    parser.add_argument("--settle", type=float, default=11.0, help="seconds for statistics to reach PostgreSQL")
    parser.add_argument("--json", default="bench/results/scaleout.json")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    receiver_port = free_port()
    args.receiver = f"http://127.0.0.1:{receiver_port}"
    with process([sys.executable, "-m", "bench.receiver", str(receiver_port), str(args.delay_ms)]):
        wait_port(receiver_port)
        uvloop.install()
        runs = []
        for n in counts:
            result = run(n, args)
            runs.append(result)
            print(json.dumps(result), flush=True)
    base = next((r["per_s"] for r in runs if r["workers"] == 1), runs[0]["per_s"])
    for r in runs:
        r["x_one"] = ratio(r["per_s"], base)
    columns = [
        ("workers", "workers"),
        ("deliveries", "deliveries"),
        ("seconds", "seconds"),
        ("per_s", "deliveries/s"),
        ("x_one", "x 1 worker"),
        ("bound_per_s", "bound/s"),
        ("cpu_s_per_1000", "CPU s/1000"),
        ("commits_per_delivery", "commits/delivery"),
        ("rows_written_per_delivery", "rows written/delivery"),
        ("wal_bytes_per_delivery", "WAL bytes/delivery"),
    ]
    print(
        f"\n{args.endpoints} endpoints, receiver answers after {args.delay_ms:.0f} ms, "
        f"{args.in_flight} in flight per worker, cap {args.endpoint_cap} per endpoint\n"
    )
    print(table(runs, columns))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": {k: v for k, v in vars(args).items()}, "runs": runs}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
