"""``python -m bench.interleave --base DIR``: this checkout against another, in alternation.

On a shared machine the ceiling moves by half from one run to the next, so a "before" run
and an "after" run taken minutes apart decide nothing. This runs each scenario for the base
(``--base``: the ``src`` folder of another checkout, e.g. a ``git worktree``) and then for
this checkout, round after round, against one receiver, and measures the ceiling at the
start of each round. Scenarios (``--scenario``, repeatable):

- ``sqlite:1``, ``postgresql:100``...: ``database:endpoints[:processes]``, as ``python -m bench``;
- ``publish:sqlite``: publishing alone (an API-only process); ``publish-keys:sqlite``: the
  same with an idempotency-key on each POST, as the svix SDKs send;
- ``latency``: p50/p99 at a fixed rate (``--rate``, SQLite, one endpoint);
- ``drain``: a backlog of ``--drain`` deliveries to 100 endpoints, drained by one process.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import uvloop

from bench.__main__ import (
    ceiling,
    free_port,
    process,
    run_drain,
    run_latency,
    run_publish_only,
    run_scenario,
    wait_port,
)

HERE = str(Path(__file__).resolve().parent.parent / "src")


def _run(scenario: str, args: argparse.Namespace) -> dict[str, float]:
    """The figures of one run of ``scenario`` that the summary compares."""
    if scenario.startswith(("publish:", "publish-keys:")):
        kind, database = scenario.split(":", 1)
        r = run_publish_only(database, args.messages, args, keys=kind == "publish-keys")
        return {"publish/s": r["publish_per_s"], "CPU ms/message": r["cpu_s_per_1000"]}
    if scenario == "latency":
        r = run_latency(args.rate, args.messages // 2, args)
        return {"p50 ms": r["p50_ms"], "p99 ms": r["p99_ms"]}
    if scenario == "drain":
        r = run_drain(args.drain, args)
        return {"drain s": r["drain_s"], "peak MB": r["peak_mb"]}
    kind, endpoints, *procs = scenario.split(":")
    count = args.messages if int(endpoints) == 1 else 100
    r = run_scenario(kind, int(endpoints), count, args, workers=int(procs[0]) if procs else 1)
    figures = {"deliveries/s": r["e2e_per_s"], "CPU ms/delivery": r["cpu_s_per_1000"], "p99 ms": r["p99_ms"]}
    if kind == "postgresql":
        figures["PostgreSQL CPU ms/delivery"] = r["db_cpu_s_per_1000"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.interleave", description=__doc__)
    parser.add_argument("--base", required=True, help="the src folder of the checkout to compare against")
    parser.add_argument("--scenario", action="append", help="repeatable; default sqlite:1, sqlite:100, postgresql:1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--drain", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not (Path(args.base) / "hookline").is_dir():
        parser.error(f"--base: {args.base} holds no hookline package (give the src folder of a checkout)")
    scenarios = args.scenario or ["sqlite:1", "sqlite:100", "postgresql:1"]
    variants = (("base", str(Path(args.base).resolve())), ("this", HERE))
    results: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    receiver_port = free_port()
    args.receiver = f"http://127.0.0.1:{receiver_port}"
    with process([sys.executable, "-m", "bench.receiver", str(receiver_port)]):
        wait_port(receiver_port)
        uvloop.install()
        for n in range(args.rounds):
            top = asyncio.run(ceiling(args.receiver, args.messages * 3, args.concurrency))
            print(f"round {n + 1}: ceiling {top:,.0f} POST/s", flush=True)
            for scenario in scenarios:
                for name, src in variants:
                    os.environ["PYTHONPATH"] = src  # what the hookline subprocesses import
                    figures = _run(scenario, args)
                    results[scenario, name].append(figures)
                    print(f"  {scenario:16} {name:4} {json.dumps(figures)}", flush=True)
    print("\nmeans (base -> this):")
    for scenario in scenarios:
        base, this = results[scenario, "base"], results[scenario, "this"]
        cells = [
            f"{key} {statistics.mean(b[key] for b in base):,.2f} -> {statistics.mean(t[key] for t in this):,.2f}"
            for key in base[0]
        ]
        print(f"  {scenario:16} " + "; ".join(cells))


if __name__ == "__main__":
    main()
