"""``python -m bench``: hookline against a same-run aiohttp ceiling, over loopback.

Everything runs on this machine in separate processes: a fast receiver, hookline
(`hookline serve` subprocesses) and this driver, which publishes and measures.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
import uvloop

from bench.measure import percentile, ratio, table

TOKEN = "bench-admin-token"
PG_ADMIN = os.environ.get("HOOKLINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
HOOKLINE = str(Path(sys.executable).with_name("hookline"))
BODY = {"type": "invoice.paid", "data": {"invoice": "in_1234567890", "amount": 4200, "currency": "eur"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Sampler:
    """Peak RSS and CPU seconds of a process tree, sampled in a thread."""

    def __init__(self, pids: list[int]) -> None:
        self.roots = [psutil.Process(p) for p in pids]
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.cpu_start = self._cpu()

    def _tree(self) -> list[psutil.Process]:
        procs: list[psutil.Process] = []
        for root in self.roots:
            with contextlib.suppress(psutil.Error):
                procs += [root, *root.children(recursive=True)]
        return procs

    def _cpu(self) -> float:
        total = 0.0
        for p in self._tree():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            rss = 0
            for p in self._tree():
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            self.peak_rss = max(self.peak_rss, rss)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cpu_seconds = self._cpu() - self.cpu_start
        self._stop.set()
        self._thread.join()


class Database:
    """A fresh database for one scenario: a temp SQLite file or a new PostgreSQL database."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tmp = Path(tempfile.mkdtemp(prefix="hookline-bench-"))
        self.name = f"hookline_bench_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp}/bench.db"
        asyncio.run(_pg(f"CREATE DATABASE {self.name}"))
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + self.name

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.kind == "postgresql":
            asyncio.run(_pg(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def database_cpu(url: str) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to the database of ``url``
    (0 for SQLite, whose work is done in hookline's own process and counted there). A
    backend that exits between two readings takes its seconds with it: hookline's pools
    keep theirs open for a run."""
    if not url.startswith("postgresql"):
        return 0.0
    name = f" {url.rsplit('/', 1)[1]} "
    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        if command.startswith("postgres:") and name in command:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system
    return total


def hookline_env(database_url: str, port: int, concurrency: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOOKLINE_DATABASE_URL": database_url,
        "HOOKLINE_PORT": str(port),
        "HOOKLINE_ADMIN_TOKEN": TOKEN,
        "HOOKLINE_ALLOWED_CIDRS": "127.0.0.0/8",
        "HOOKLINE_LOG_LEVEL": "warning",
        # Same concurrency per receiver as the ceiling uses.
        "HOOKLINE_ENDPOINT_CONCURRENCY": str(concurrency),
        "HOOKLINE_MAX_IN_FLIGHT": str(max(200, concurrency * 2)),
        **extra,
    }


async def post_many(count: int, concurrency: int, post: Callable[[aiohttp.ClientSession], Awaitable[None]]) -> None:
    """``post`` ``count`` times, ``concurrency`` at a time, over one session."""
    remaining = count
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await post(session)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


@contextlib.contextmanager
def serving(kind: str, concurrency: int) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """One ``hookline serve`` on a fresh database: (database URL, base URL, process)."""
    port = free_port()
    with Database(kind) as url, process([HOOKLINE, "serve"], hookline_env(url, port, concurrency)) as proc:
        wait_port(port)
        yield url, f"http://127.0.0.1:{port}", proc


async def ceiling(receiver: str, count: int, concurrency: int) -> float:
    """The best a Python sender does: plain aiohttp POSTs of the same body."""
    body = json.dumps(BODY).encode()

    async def post(session: aiohttp.ClientSession) -> None:
        headers = {"content-type": "application/json", "webhook-id": uuid.uuid4().hex}
        async with session.post(f"{receiver}/ceiling", data=body, headers=headers) as resp:
            await resp.read()

    started = time.perf_counter()
    await post_many(count, concurrency, post)
    return count / (time.perf_counter() - started)


async def _api(
    session: aiohttp.ClientSession, base: str, method: str, path: str, body: Any = None, key: str | None = None
) -> Any:
    headers = {"idempotency-key": key} if key else None
    async with session.request(method, base + path, json=body, headers=headers) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {await resp.text()}")
        return await resp.json() if resp.status != 204 else None


async def setup(base: str, receiver: str, endpoints: int) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as s:
        await _api(s, base, "POST", "/api/v1/app", {"name": "bench", "uid": "bench"})
        for n in range(endpoints):
            await _api(s, base, "POST", "/api/v1/app/bench/endpoint", {"url": f"{receiver}/ep{n}"})


async def publish(
    base: str,
    count: int,
    concurrency: int,
    rate: float | None = None,
    *,
    app: str = "bench",
    answered: dict[str, float] | None = None,
    keys: bool = False,
) -> dict[str, float]:
    """Publish ``count`` messages to ``app``; return msg id -> the time its POST was sent (and
    into ``answered``, if given: msg id -> how long the POST took to be answered). ``keys``:
    each POST with an ``idempotency-key``, as the svix SDKs send one with every POST."""
    sent: dict[str, float] = {}
    remaining = count
    interval = concurrency / rate if rate else 0.0
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {TOKEN}"}, connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.time()
                body = await _api(
                    session,
                    base,
                    "POST",
                    f"/api/v1/app/{app}/msg?with_content=false",
                    {"eventType": "invoice.paid", "payload": BODY},
                    key=f"auto_{uuid.uuid4()}" if keys else None,
                )
                sent[body["id"]] = started
                if answered is not None:
                    answered[body["id"]] = time.time() - started
                if interval:
                    await asyncio.sleep(max(0.0, interval - (time.time() - started)))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


async def receiver_stats(receiver: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{receiver}/_stats") as resp:
        return dict(await resp.json())


async def receiver_arrivals(receiver: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as s, s.get(f"{receiver}/_arrivals") as resp:
        return dict(await resp.json())


async def control(receiver: str, action: str) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"{receiver}/_control/{action}") as resp:
        await resp.read()


async def recorded_attempts(database_url: str) -> int:
    """Deliveries whose success is recorded: the engine's work is only done then."""
    if database_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=5)) as conn:
            return int(conn.execute("SELECT count(*) FROM delivery WHERE status = 0").fetchone()[0])
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM delivery WHERE status = 0"))
    finally:
        await conn.close()


async def wait_delivered(receiver: str, database_url: str, expected: int, timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (await receiver_stats(receiver))["unique"] >= expected and await recorded_attempts(database_url) >= expected:
            return time.time()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"only {(await receiver_stats(receiver))['unique']} of {expected} delivered in {timeout}s")


def run_scenario(
    kind: str, endpoints: int, messages: int, args: argparse.Namespace, workers: int = 1
) -> dict[str, Any]:
    port = free_port()
    with Database(kind) as url:
        env = hookline_env(url, port, args.concurrency)
        with process([HOOKLINE, "serve", "--workers", str(workers)], env) as proc:
            wait_port(port)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(setup(base, args.receiver, endpoints))
            asyncio.run(control(args.receiver, "reset"))
            database_before = database_cpu(url)
            with Sampler([proc.pid]) as sampler:
                started = time.time()
                sent = asyncio.run(publish(base, messages, args.concurrency))
                published = time.time()
                finished = asyncio.run(wait_delivered(args.receiver, url, messages * endpoints, args.timeout))
            database_seconds = database_cpu(url) - database_before
            arrivals = asyncio.run(receiver_arrivals(args.receiver))
    latencies = [
        (at - sent[key[: key.index("/")]]) * 1000 for key, at in arrivals.items() if key[: key.index("/")] in sent
    ]
    deliveries = messages * endpoints
    return {
        "database": kind,
        "endpoints": endpoints,
        "processes": workers,
        "messages": messages,
        "deliveries": deliveries,
        "publish_per_s": messages / (published - started),
        "e2e_per_s": deliveries / (finished - started),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "cpu_s_per_1000": sampler.cpu_seconds / deliveries * 1000,
        "db_cpu_s_per_1000": database_seconds / deliveries * 1000,
        "peak_mb": sampler.peak_rss / 2**20,
    }


def run_publish_only(kind: str, messages: int, args: argparse.Namespace, *, keys: bool = False) -> dict[str, Any]:
    """Publishing alone: an API-only process (``--role api``) stores messages for one
    endpoint while nothing delivers them (``keys``: as the svix SDKs publish, a new
    idempotency-key with each)."""
    port = free_port()
    with Database(kind) as url:
        env = hookline_env(url, port, args.concurrency)
        with process([HOOKLINE, "serve", "--role", "api"], env) as proc:
            wait_port(port)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(setup(base, args.receiver, 1))
            with Sampler([proc.pid]) as sampler:
                started = time.time()
                asyncio.run(publish(base, messages, args.concurrency, keys=keys))
                published = time.time()
    return {
        "database": kind,
        "keys": keys,
        "messages": messages,
        "publish_per_s": messages / (published - started),
        "cpu_s_per_1000": sampler.cpu_seconds / messages * 1000,
    }


def run_latency(rate: float, messages: int, args: argparse.Namespace) -> dict[str, Any]:
    """Publish at a fixed rate (half the measured maximum) and report latencies."""
    port = free_port()
    with Database("sqlite") as url, process([HOOKLINE, "serve"], hookline_env(url, port, args.concurrency)):
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(setup(base, args.receiver, 1))
        asyncio.run(control(args.receiver, "reset"))
        sent = asyncio.run(publish(base, messages, min(args.concurrency, 10), rate=rate))
        asyncio.run(wait_delivered(args.receiver, url, messages, args.timeout))
        arrivals = asyncio.run(receiver_arrivals(args.receiver))
    latencies = [
        (at - sent[key[: key.index("/")]]) * 1000 for key, at in arrivals.items() if key[: key.index("/")] in sent
    ]
    return {
        "rate_per_s": rate,
        "messages": messages,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def run_drain(deliveries: int, args: argparse.Namespace) -> dict[str, Any]:
    """A backlog piles up while nothing can deliver (API-only process, receiver down),
    then a full process with the receiver up drains it."""
    endpoints = 100
    messages = deliveries // endpoints
    port = free_port()
    with Database("sqlite") as url:
        env = hookline_env(url, port, args.concurrency)
        asyncio.run(control(args.receiver, "reset"))
        asyncio.run(control(args.receiver, "down"))
        with process([HOOKLINE, "serve", "--role", "api"], env):
            wait_port(port)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(setup(base, args.receiver, endpoints))
            asyncio.run(publish(base, messages, args.concurrency))
        asyncio.run(control(args.receiver, "up"))
        with process([HOOKLINE, "serve"], env) as proc, Sampler([proc.pid]) as sampler:
            started = time.time()
            wait_port(port)
            finished = asyncio.run(wait_delivered(args.receiver, url, deliveries, args.timeout * 10))
    return {
        "deliveries": deliveries,
        "drain_s": finished - started,
        "drain_per_s": deliveries / (finished - started),
        "peak_mb": sampler.peak_rss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of about a minute")
    parser.add_argument("--messages", type=int, help="messages for the 1-endpoint runs")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--drain", type=int, help="deliveries in the backlog drain (default 100,000)")
    parser.add_argument("--json", default="bench/results/latest.json")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    messages = args.messages or (1000 if args.quick else 3000)
    fanout = 30 if args.quick else 100
    drain = args.drain or (10_000 if args.quick else 100_000)
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]

    receiver_port = free_port()
    args.receiver = f"http://127.0.0.1:{receiver_port}"
    with process([sys.executable, "-m", "bench.receiver", str(receiver_port)]):
        wait_port(receiver_port)
        uvloop.install()
        top = asyncio.run(ceiling(args.receiver, messages * 3, args.concurrency))
        print(f"ceiling: {top:,.0f} POST/s (aiohttp, concurrency {args.concurrency})", flush=True)
        runs = []
        publishing = []
        for kind in kinds:
            for keys in (False, True):
                alone = run_publish_only(kind, messages, args, keys=keys)
                publishing.append(alone)
                print(json.dumps(alone), flush=True)
            for endpoints, count in ((1, messages), (100, fanout)):
                result = run_scenario(kind, endpoints, count, args)
                runs.append(result)
                print(json.dumps(result), flush=True)
            if kind == "postgresql":
                result = run_scenario(kind, 1, messages, args, workers=2)
                runs.append(result)
                print(json.dumps(result), flush=True)
        best = max((r["e2e_per_s"] for r in runs if r["database"] == "sqlite" and r["endpoints"] == 1), default=0)
        latency = run_latency(best / 2, messages // 2, args) if best else None
        if latency:
            print(json.dumps(latency), flush=True)
        drained = None if args.skip_drain else run_drain(drain, args)
        if drained:
            print(json.dumps(drained), flush=True)
    for r in runs:
        r["publish_x_ceiling"] = ratio(r["publish_per_s"], top)
        r["e2e_x_ceiling"] = ratio(r["e2e_per_s"], top)
    columns = [
        ("database", "db"),
        ("endpoints", "endpoints"),
        ("processes", "procs"),
        ("deliveries", "deliveries"),
        ("publish_per_s", "publish/s"),
        ("publish_x_ceiling", "x ceiling"),
        ("e2e_per_s", "deliveries/s"),
        ("e2e_x_ceiling", "x ceiling"),
        ("p50_ms", "p50 ms"),
        ("p95_ms", "p95 ms"),
        ("p99_ms", "p99 ms"),
        ("cpu_s_per_1000", "CPU s/1000"),
        ("db_cpu_s_per_1000", "PostgreSQL CPU s/1000"),
        ("peak_mb", "peak MB"),
    ]
    for r in publishing:
        r["publish_x_ceiling"] = ratio(r["publish_per_s"], top)
        r["key_shown"] = "yes" if r["keys"] else "no"
    print(f"\nceiling: {top:,.0f} POST/s\n")
    print(table(runs, columns))
    print("\npublishing alone (an API-only process; nothing delivers):\n")
    alone_columns = [
        ("database", "db"),
        ("key_shown", "idempotency-key"),
        ("messages", "messages"),
        ("publish_per_s", "publish/s"),
        ("publish_x_ceiling", "x ceiling"),
        ("cpu_s_per_1000", "CPU s/1000"),
    ]
    print(table(publishing, alone_columns))
    if latency:
        print(
            f"\nat half the max rate ({latency['rate_per_s']:,.0f}/s): p50 {latency['p50_ms']:.1f} ms, "
            f"p95 {latency['p95_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms"
        )
    if drained:
        print(
            f"backlog drain: {drained['deliveries']:,} deliveries in {drained['drain_s']:.1f} s "
            f"({drained['drain_per_s']:,.0f}/s), peak {drained['peak_mb']:.0f} MB"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"ceiling_per_s": top, "runs": runs, "publish_only": publishing, "latency": latency, "drain": drained},
            indent=2,
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
