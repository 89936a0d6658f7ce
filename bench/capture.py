"""``python -m bench.capture``: capture URLs (the inspector) against the same-run aiohttp ceiling.

One bin with its default response; the driver posts to ``/i/{token}/...`` at concurrency 50 and
measures captures answered per second and the CPU of the hookline process per capture. Each
capture is stored (and the bin trimmed to its newest ``maxRequests``) before it is answered.
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
    TOKEN,
    Sampler,
    _api,
    ceiling,
    free_port,
    post_many,
    process,
    serving,
    wait_port,
)
from bench.measure import ratio


async def setup(base: str) -> str:
    """Create a bin; return its capture URL on this server."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as s:
        created = await _api(s, base, "POST", "/api/v1/inspect", {"name": "bench"})
    return base + "/i/" + str(created["url"]).rsplit("/i/", 1)[1]


async def post_all(url: str, count: int, concurrency: int) -> None:
    async def post(session: aiohttp.ClientSession) -> None:
        headers = {"content-type": "application/json"}
        async with session.post(f"{url}/hook", data=b'{"event": "ping"}', headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"capture answered {resp.status}: {await resp.text()}")

    await post_many(count, concurrency, post)


def run(kind: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    with serving(kind, args.concurrency) as (_url, base, proc):
        target = asyncio.run(setup(base))
        with Sampler([proc.pid]) as sampler:
            started = time.time()
            asyncio.run(post_all(target, count, args.concurrency))
            elapsed = time.time() - started
    return {
        "database": kind,
        "requests": count,
        "captures_per_s": count / elapsed,
        "cpu_s_per_1000": sampler.cpu_seconds / count * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capture", description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    receiver_port = free_port()
    receiver = f"http://127.0.0.1:{receiver_port}"
    with process([sys.executable, "-m", "bench.receiver", str(receiver_port)]):
        wait_port(receiver_port)
        uvloop.install()
        top = asyncio.run(ceiling(receiver, args.requests * 3, args.concurrency))
    print(f"ceiling: {top:,.0f} POST/s (aiohttp, concurrency {args.concurrency})", flush=True)
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        result = run(kind, args.requests, args)
        result["captures_x_ceiling"] = ratio(result["captures_per_s"], top)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
