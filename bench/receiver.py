"""A fast webhook receiver for benchmarks, run as its own process.

It answers 204 (or 503 while "down"), counts deliveries by ``webhook-id`` and
records when each first arrived, so the driver can compute latencies. An optional
second argument makes every delivery wait that many milliseconds before answering
(a slow receiver: the scale-out scenario).
"""

import asyncio
import sys
import time

import uvloop
from aiohttp import web

arrivals: dict[str, float] = {}
total = 0
down = False
delay = 0.0


async def deliver(request: web.Request) -> web.Response:
    global total
    await request.read()
    if delay:
        await asyncio.sleep(delay)
    if down:
        return web.Response(status=503)
    total += 1
    webhook_id = request.headers.get("webhook-id", "")
    arrivals.setdefault(webhook_id + request.path, time.time())
    return web.Response(status=204)


async def stats(_request: web.Request) -> web.Response:
    return web.json_response({"total": total, "unique": len(arrivals)})


async def dump(_request: web.Request) -> web.Response:
    return web.json_response(arrivals)


async def control(request: web.Request) -> web.Response:
    global down, total
    action = request.match_info["action"]
    if action == "reset":
        arrivals.clear()
        total = 0
    down = action == "down"
    return web.Response(status=204)


def main() -> None:
    global delay
    if len(sys.argv) > 2:
        delay = float(sys.argv[2]) / 1000
    app = web.Application()
    app.router.add_get("/_stats", stats)
    app.router.add_get("/_arrivals", dump)
    app.router.add_post("/_control/{action}", control)
    app.router.add_post("/{tail:.*}", deliver)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
