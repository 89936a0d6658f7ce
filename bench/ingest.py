"""``python -m bench.ingest``: the inbound gateway against the same-run aiohttp ceiling.

A GitHub-type source (so every request is verified: HMAC-SHA256 over the body) with one
destination on the bench receiver. The driver posts signed requests, each with its own
``X-GitHub-Delivery`` (no duplicates), to the ingest URL, and measures:

- ingest/s: requests answered 2xx per second (each stored with its message and delivery);
- forwarded/s: from the first request until every one is delivered and recorded.

Both are given as a ratio of the ceiling (plain aiohttp POSTs to the receiver), as ``python -m bench`` does.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
import uuid
from typing import Any

import aiohttp
import uvloop

from bench.__main__ import (
    BODY,
    TOKEN,
    Sampler,
    _api,
    ceiling,
    control,
    free_port,
    post_many,
    process,
    serving,
    wait_delivered,
    wait_port,
)
from bench.measure import ratio

SECRET = "bench-github-secret"


async def setup(base: str, receiver: str) -> str:
    """Create the source and its destination; return the ingest path (``/in/{token}``)."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as s:
        source = await _api(
            s, base, "POST", "/ingest/api/v1/source", {"name": "bench", "type": "github", "config": {"secret": SECRET}}
        )
        await _api(s, base, "POST", f"/ingest/api/v1/source/{source['id']}/endpoint", {"url": f"{receiver}/ingest"})
    return "/in/" + str(source["ingestUrl"]).rsplit("/in/", 1)[1]


async def post_all(url: str, count: int, concurrency: int) -> None:
    body = json.dumps(BODY).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    async def post(session: aiohttp.ClientSession) -> None:
        headers = {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": uuid.uuid4().hex,
            "x-hub-signature-256": signature,
        }
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"ingest answered {resp.status}: {await resp.text()}")

    await post_many(count, concurrency, post)


def run(kind: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    with serving(kind, args.concurrency) as (url, base, proc):
        path = asyncio.run(setup(base, args.receiver))
        asyncio.run(control(args.receiver, "reset"))
        with Sampler([proc.pid]) as sampler:
            started = time.time()
            asyncio.run(post_all(base + path, count, args.concurrency))
            ingested = time.time()
            finished = asyncio.run(wait_delivered(args.receiver, url, count, args.timeout))
    return {
        "database": kind,
        "requests": count,
        "ingest_per_s": count / (ingested - started),
        "forwarded_per_s": count / (finished - started),
        "cpu_s_per_1000": sampler.cpu_seconds / count * 1000,
        "peak_mb": sampler.peak_rss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    receiver_port = free_port()
    args.receiver = f"http://127.0.0.1:{receiver_port}"
    with process([sys.executable, "-m", "bench.receiver", str(receiver_port)]):
        wait_port(receiver_port)
        uvloop.install()
        top = asyncio.run(ceiling(args.receiver, args.requests * 3, args.concurrency))
        print(f"ceiling: {top:,.0f} POST/s (aiohttp, concurrency {args.concurrency})", flush=True)
        for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
            result = run(kind, args.requests, args)
            result["ingest_x_ceiling"] = ratio(result["ingest_per_s"], top)
            result["forwarded_x_ceiling"] = ratio(result["forwarded_per_s"], top)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
