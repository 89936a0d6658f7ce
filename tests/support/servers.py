"""Real servers for tests: hookline itself (uvicorn in a thread) and a webhook receiver."""

import asyncio
import contextlib
import dataclasses
import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from hookline.api.app import create_app
from hookline.api.protocol import protocol_for
from hookline.config import Settings, check

ADMIN_TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings(database_url: str, **overrides: Any) -> Settings:
    base = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        allowed_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        retry_schedule=(0.2, 0.2, 0.2),
        poll_interval=0.05,
        # Generous: in a loaded full run a test's process can stall for seconds, and an attempt cut
        # off by the timeout is a failure no test asked for ("no response" in the attempts log,
        # seen twice in fresh-clone CI runs at 2 s). Tests of timeouts set their own.
        request_timeout=8.0,  # below lease_seconds, as the settings require
        lease_seconds=10.0,
        sqlite_synchronous="NORMAL",
    )
    return check(base.with_overrides(**overrides))


@dataclass
class Hookline:
    url: str
    settings: Settings
    server: "StoppableServer"
    thread: threading.Thread

    def client(self, token: str = ADMIN_TOKEN) -> httpx.Client:
        # Generous: tests run three at a time on two cores, and a first call may start a
        # sandbox process; a request that is merely slow must not fail a test.
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    @property
    def app(self) -> Any:
        return self.server.config.app


@contextmanager
def run_hookline(
    settings: Settings,
    *,
    run_engine: bool = True,
    prepare: Callable[[Any], None] | None = None,
    port: int | None = None,
) -> Iterator[Hookline]:
    # Bound here and handed to uvicorn: a port picked free and bound later can be taken in
    # between by another test process.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    port = int(sock.getsockname()[1])
    # As ``serve`` does: the server knows the address it listens on (ingest and capture URLs).
    settings = dataclasses.replace(settings, host="127.0.0.1", port=port)
    app = create_app(settings, run_engine=run_engine)
    if prepare:
        prepare(app)  # before start: middleware and instrumentation must be in place by then
    # As ``hookline serve`` runs uvicorn: X-Forwarded-* believed only with HOOKLINE_PROXY_HEADERS.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        http=protocol_for(settings),
        proxy_headers=settings.proxy_headers,
    )
    server = StoppableServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("hookline did not start")
        time.sleep(0.01)
    try:
        yield Hookline(f"http://127.0.0.1:{port}", settings, server, thread)
    finally:
        server.stop()
        thread.join(timeout=30)
        sock.close()


class StoppableServer(uvicorn.Server):
    """uvicorn's server, stopped without waiting for its next look: its main loop looks for
    ``should_exit`` every 0.1 s, a wait that would end each of some two thousand tests."""

    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections:
            await super().shutdown(sockets)  # connections to tell: uvicorn's way, with its 0.1 s for them
            return
        # None open: uvicorn's steps without that wait, which would add 0.1 s to every test.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        await self._wait_tasks_to_complete()
        await self.lifespan.shutdown()

    def stop(self) -> None:
        self.should_exit = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop has already ended
                loop.call_soon_threadsafe(stopping.set)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every request it gets.

    ``respond`` decides each reply; by default 200.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.respond: Callable[[Received], Reply] = lambda _r: Reply()
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with receiver._lock:
                    receiver.requests.append(item)
                reply = receiver.respond(item)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        wait_until(lambda: len(self.requests) >= count, timeout, f"{count} requests (got {len(self.requests)})")
        return list(self.requests)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
