"""``python -m bench.backlog``: does a slow endpoint's backlog slow everything else down?

One endpoint answers every delivery after ``--slow-ms`` (200 ms) and has a backlog of
``--backlog`` messages (50,000), stored by an API-only process while nothing delivers. Then
one ``hookline serve`` starts: the slow endpoint is at its cap (``--cap``, 10, the default)
from then on, with its backlog due. Meanwhile another application publishes ``--messages``
(1,000) at ``--rate`` (100/s) to an endpoint that answers at once. Reported: how long those
publishes took to be answered (p50/p99) and how long their deliveries took to arrive
(publish to arrival), and the CPU of the hookline process per healthy delivery.
"""

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
import uvloop

from bench.__main__ import (
    HOOKLINE,
    TOKEN,
    Database,
    Sampler,
    _api,
    control,
    free_port,
    hookline_env,
    process,
    publish,
    receiver_arrivals,
    wait_port,
)
from bench.measure import percentile


async def _setup(base: str, slow: str, fast: str) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as s:
        for uid, url in (("slow", slow), ("fast", fast)):
            await _api(s, base, "POST", "/api/v1/app", {"name": uid, "uid": uid})
            await _api(s, base, "POST", f"/api/v1/app/{uid}/endpoint", {"url": f"{url}/{uid}"})


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with Database(kind) as url:
        env = hookline_env(url, port, args.cap)
        base = f"http://127.0.0.1:{port}"
        with process([HOOKLINE, "serve", "--role", "api"], env):
            wait_port(port)
            asyncio.run(_setup(base, args.slow, args.fast))
            asyncio.run(publish(base, args.backlog, 50, app="slow"))
        asyncio.run(control(args.fast, "reset"))
        with process([HOOKLINE, "serve"], env) as proc:
            wait_port(port)
            time.sleep(3)  # the slow endpoint is at its cap from here on
            with Sampler([proc.pid]) as sampler:
                answered: dict[str, float] = {}
                sent = asyncio.run(publish(base, args.messages, 10, args.rate, app="fast", answered=answered))
                deadline = time.time() + 60
                arrivals: dict[str, float] = {}
                while time.time() < deadline and len(arrivals) < args.messages:
                    time.sleep(0.2)
                    arrivals = asyncio.run(receiver_arrivals(args.fast))
    first = {key[: key.index("/")]: at for key, at in arrivals.items()}
    delivered = [(at - sent[msg_id]) * 1000 for msg_id, at in first.items() if msg_id in sent]
    took = [seconds * 1000 for seconds in answered.values()]
    return {
        "database": kind,
        "backlog": args.backlog,
        "healthy_delivered": len(delivered),
        "publish_p50_ms": percentile(took, 50),
        "publish_p99_ms": percentile(took, 99),
        "delivery_p50_ms": percentile(delivered, 50),
        "delivery_p99_ms": percentile(delivered, 99),
        "cpu_ms_per_healthy_delivery": sampler.cpu_seconds / max(1, len(delivered)) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backlog", description=__doc__)
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--slow-ms", type=float, default=200.0)
    parser.add_argument("--cap", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    fast_port, slow_port = free_port(), free_port()
    args.fast, args.slow = f"http://127.0.0.1:{fast_port}", f"http://127.0.0.1:{slow_port}"
    receivers = [sys.executable, "-m", "bench.receiver"]
    with process([*receivers, str(fast_port)]), process([*receivers, str(slow_port), str(args.slow_ms)]):
        wait_port(fast_port)
        wait_port(slow_port)
        uvloop.install()
        for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
            print(json.dumps(run(kind, args)), flush=True)


if __name__ == "__main__":
    main()
