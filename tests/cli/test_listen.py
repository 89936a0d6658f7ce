"""``hookline listen`` and ``hookline inspect`` end to end: a real server, the real command in its own
process connecting over a real WebSocket, and a real local aiohttp receiver."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from standardwebhooks import Webhook
from tests.cli.conftest import Cli
from tests.support import servers
from tests.support.servers import ADMIN_TOKEN, Hookline, free_port, run_hookline, wait_until

HOP = {"host", "content-length", "connection", "transfer-encoding"}


@dataclass
class Got:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class LocalReceiver:
    """An aiohttp server on 127.0.0.1 in a thread of its own: records each request as received."""

    status: int = 201
    got: list[Got] = field(default_factory=list)
    answer_headers: dict[str, str] = field(default_factory=lambda: {"X-Local": "yes"})
    answer_body: bytes = b"local answer"
    port: int = 0

    def url(self, path: str = "/webhooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def local_receiver() -> Iterator[LocalReceiver]:
    receiver = LocalReceiver(port=free_port())
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        receiver.got.append(Got(request.method, request.path_qs, headers, body))
        return web.Response(status=receiver.status, body=receiver.answer_body, headers=receiver.answer_headers)

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(serve())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield receiver
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


class Listen:
    """``hookline listen`` in a process of its own, its stdout lines collected."""

    def __init__(self, server_url: str, *args: str) -> None:
        env = {**os.environ, "HOOKLINE_URL": server_url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookline", "listen", *args, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line)

    @property
    def ready(self) -> dict[str, Any]:
        return wait_until(lambda: next((x for x in self.lines if x.get("event") == "ready"), None), 60, "ready")

    def requests(self) -> list[dict[str, Any]]:
        return [x for x in self.lines if "method" in x]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@contextmanager
def listening(server_url: str, *args: str) -> Iterator[Listen]:
    listen = Listen(server_url, *args)
    try:
        yield listen
    finally:
        if listen.proc.poll() is None:
            listen.stop()


def connected(hl: Hookline, bin_id: str) -> None:
    hub = hl.app.state.inspect_hub
    wait_until(lambda: hub.has_listener(bin_id), 60, "the listener to connect")


@contextmanager
def server_on(database_url: str, port: int, **overrides: Any) -> Iterator[Hookline]:
    settings = servers.test_settings(database_url, public_url=f"http://127.0.0.1:{port}", **overrides)
    with run_hookline(settings, port=port) as hl:
        yield hl


def forwarded(headers: list[tuple[str, str]] | list[list[str]]) -> list[tuple[str, str]]:
    return [(k.lower(), v) for k, v in headers if k.lower() not in HOP]


def test_receiver_gets_identical_bytes_and_headers_and_the_sender_its_status(database_url: str) -> None:
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local, listening(hl.url, local.url()) as listen:
        bin_ = listen.ready
        connected(hl, bin_["bin"])
        body = bytes(range(256)) + b'{"a": 1}'
        headers = [("Content-Type", "application/octet-stream"), ("X-Rep", "1"), ("X-Rep", "2"), ("Webhook-Id", "m1")]
        resp = httpx.post(bin_["url"] + "/sub/path?x=1&x=2", content=body, headers=headers, timeout=60)
        assert resp.status_code == 201, resp.text
        assert resp.content == b"local answer" and resp.headers["x-local"] == "yes"
        (got,) = local.got
        assert got.method == "POST" and got.path == "/webhooks/sub/path?x=1&x=2"
        assert got.body == body
        with hl.client() as admin:
            (row,) = admin.get(f"/api/v1/inspect/{bin_['bin']}/request").json()["data"]
        assert forwarded(got.headers) == forwarded(row["headers"])
        assert ("x-rep", "1") in forwarded(got.headers) and ("x-rep", "2") in forwarded(got.headers)
        (line,) = wait_until(listen.requests, 30, "the request line")
        assert (line["method"], line["path"], line["status"]) == ("POST", "/sub/path?x=1&x=2", 201)
        assert isinstance(line["ms"], int) and line["time"]
        assert listen.stop() == 0


def test_a_large_local_answer_reaches_the_sender_whole(database_url: str) -> None:
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local, listening(hl.url, local.url()) as listen:
        # Larger than what one socket read buffers: a single read(n) used to pass back only its start.
        local.answer_body = os.urandom(700_000)
        bin_ = listen.ready
        connected(hl, bin_["bin"])
        resp = httpx.post(bin_["url"], content=b"{}", timeout=60)
        assert resp.status_code == 201, resp.text
        assert resp.content == local.answer_body


def test_the_relay_adds_no_cookie_the_local_app_set(database_url: str) -> None:
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local:
        local.answer_headers = {"Set-Cookie": "session=local-secret; Path=/"}
        # By name: a cookie jar keeps no cookies of IP hosts.
        with listening(hl.url, local.url().replace("127.0.0.1", "localhost")) as listen:
            bin_ = listen.ready
            connected(hl, bin_["bin"])
            for n in range(2):
                assert httpx.post(bin_["url"], content=b"%d" % n, timeout=60).status_code == 201
            wait_until(lambda: len(local.got) == 2, 30, "both relayed requests")
    assert [[v for k, v in got.headers if k.lower() == "cookie"] for got in local.got] == [[], []]


def test_the_sender_gets_no_cookie_of_the_local_app_and_a_sandboxed_page(database_url: str) -> None:
    # The capture URL is on hookline's own origin, beside the dashboard: a local app's cookie
    # would land there, and its page would run script as the dashboard.
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local:
        local.answer_headers = {
            "X-Local": "yes",
            "Set-Cookie": "hookline_session=local; Path=/",
            "Clear-Site-Data": '"cookies"',
        }
        with listening(hl.url, local.url()) as listen:
            bin_ = listen.ready
            connected(hl, bin_["bin"])
            resp = httpx.post(bin_["url"], content=b"{}", timeout=60)
    assert resp.status_code == 201 and resp.content == b"local answer"
    assert resp.headers["x-local"] == "yes"  # the rest of the local answer is relayed
    assert "set-cookie" not in resp.headers and "clear-site-data" not in resp.headers
    assert resp.headers["content-security-policy"] == "sandbox"
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_backlog_reconnect_and_server_restart_lose_nothing(database_url: str) -> None:
    port = free_port()
    with local_receiver() as local:
        with server_on(database_url, port) as hl, hl.client() as admin:
            bin_ = admin.post("/api/v1/inspect", json={}).json()
            # Sent while no listener is connected: the sender gets the bin's own answer, kept for later.
            assert httpx.post(bin_["url"], content=b"early-1").status_code == 200
            assert httpx.post(bin_["url"], content=b"early-2").status_code == 200
        # Restart the server (same database) with the backlog still waiting.
        with server_on(database_url, port) as hl, listening(hl.url, local.url(), "--bin", bin_["id"]) as listen:
            wait_until(lambda: len(local.got) == 2, 60, "the backlog")
            assert [g.body for g in local.got] == [b"early-1", b"early-2"]
            connected(hl, bin_["id"])
            assert httpx.post(bin_["url"], content=b"live-1", timeout=60).status_code == 201
            # The server restarts under a connected listener, which reconnects with backoff.
            hl.server.stop()
            hl.thread.join(30)
            with server_on(database_url, port) as again:
                connected(again, bin_["id"])
                assert httpx.post(bin_["url"], content=b"live-2", timeout=60).status_code == 201
                wait_until(lambda: len(listen.requests()) == 4, 30, "four lines")
                assert listen.stop() == 0
                # Sent while the listener is down: forwarded when one connects again, exactly once.
                assert httpx.post(bin_["url"], content=b"while-down").status_code == 200
                with listening(again.url, local.url(), "--bin", bin_["id"]) as second:
                    wait_until(lambda: len(local.got) == 5, 60, "the request sent while down")
                    connected(again, bin_["id"])
                    assert second.stop() == 0
                # --no-backlog: what arrived meanwhile is not forwarded, what arrives after is.
                assert httpx.post(bin_["url"], content=b"skipped").status_code == 200
                with listening(again.url, local.url(), "--bin", bin_["id"], "--no-backlog") as third:
                    connected(again, bin_["id"])
                    assert httpx.post(bin_["url"], content=b"after", timeout=60).status_code == 201
                    assert third.stop() == 0
    assert [g.body for g in local.got] == [b"early-1", b"early-2", b"live-1", b"live-2", b"while-down", b"after"]


def test_listen_app_relays_signed_messages_and_removes_its_endpoint(database_url: str) -> None:
    port = free_port()
    # Default SSRF rules: the server reaches its own capture URL on loopback, and nothing else there.
    with (
        server_on(database_url, port, allowed_cidrs=(), request_timeout=15.0, lease_seconds=30.0) as hl,
        hl.client() as admin,
        local_receiver() as local,
    ):
        assert admin.post("/api/v1/app", json={"name": "Shop", "uid": "shop"}).status_code == 201
        for name in ("order.paid", "order.other"):
            admin.post("/api/v1/event-type", json={"name": name, "description": "x"})
        local.status = 200
        with listening(hl.url, local.url(), "--app", "shop", "--event-types", "order.paid") as listen:
            ready = listen.ready
            connected(hl, ready["bin"])
            endpoints = admin.get("/api/v1/app/shop/endpoint").json()["data"]
            assert [e["id"] for e in endpoints] == [ready["endpoint"]]
            payload = {"type": "order.paid", "amount": 5}
            for event_type in ("order.other", "order.paid"):
                sent = admin.post("/api/v1/app/shop/msg", json={"eventType": event_type, "payload": payload})
                assert sent.status_code == 202, sent.text
            wait_until(lambda: local.got, 60, "the relayed message")
            got = local.got[0]
            headers = dict((k.lower(), v) for k, v in got.headers)
            assert Webhook(ready["secret"]).verify(got.body, headers) == payload
            assert assert_ok_attempt(admin, ready["endpoint"])
            assert listen.stop() == 0
        assert admin.get(f"/api/v1/app/shop/endpoint/{ready['endpoint']}").status_code == 404
        assert all(json.loads(g.body)["type"] == "order.paid" for g in local.got)


def assert_ok_attempt(admin: httpx.Client, endpoint_id: str) -> bool:
    def ok() -> bool:
        attempts = admin.get(f"/api/v1/app/shop/attempt/endpoint/{endpoint_id}").json()["data"]
        return any(a["responseStatusCode"] == 200 for a in attempts)

    return bool(wait_until(ok, 60, "a successful attempt"))


def test_inspect_new_prints_id_and_url(database_url: str) -> None:
    with server_on(database_url, free_port()) as hl:
        _inspect_commands(Cli(hl.url))


def _inspect_commands(cli: Cli) -> None:
    created = cli.json("inspect", "new", "--max-requests", "3")
    assert created["id"].startswith("bin_") and "/i/" in created["url"]
    assert created["maxRequests"] == 3
    assert httpx.post(created["url"], content=b"hi").status_code == 200
    listed = cli.json("inspect", "requests", created["id"])
    assert [r["method"] for r in listed] == ["POST"]
    shown = cli.ok("inspect", "show", created["id"], listed[0]["id"]).stdout
    assert shown.startswith("POST /") and shown.rstrip().endswith("hi")
    checked = cli.json("inspect", "new", "--secret", "s3cr3t", "--provider", "github", "--status", "202")
    assert checked["verifyProvider"] == "github" and checked["response"]["status"] == 202
    assert cli("inspect", "new", "--provider", "github").exit_code == 2
    assert cli.ok("inspect", "delete", created["id"], "--yes").exit_code == 0
    assert httpx.post(created["url"], content=b"hi").status_code == 404


def test_listen_refuses_a_target_elsewhere_unless_allowed(hookline: Hookline) -> None:
    cli = Cli(hookline.url)
    result = cli("listen", "http://example.com/hook")
    assert result.exit_code == 2 and "--allow-external" in result.stderr
    assert "TARGET: http://example.com/hook is not on this machine" in result.stderr


def test_a_listen_that_cannot_start_leaves_no_capture_url_behind(hookline: Hookline) -> None:
    cli = Cli(hookline.url)
    with hookline.client() as admin:
        before = admin.get("/api/v1/inspect").json()["data"]
        result = cli("listen", "http://127.0.0.1:9/hook", "--app", "no-such-app")
        assert result.exit_code == 1 and "application not found" in result.stderr
        assert admin.get("/api/v1/inspect").json()["data"] == before


def test_a_second_listener_takes_the_bin_and_the_first_exits(database_url: str) -> None:
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local, hl.client() as admin:
        bin_ = admin.post("/api/v1/inspect", json={}).json()
        with listening(hl.url, local.url(), "--bin", bin_["id"]) as first:
            connected(hl, bin_["id"])
            with listening(hl.url, local.url(), "--bin", bin_["id"]) as second:
                assert first.proc.wait(60) == 1
                assert any("another hookline listen" in line for line in first.errors)
                connected(hl, bin_["id"])
                assert httpx.post(bin_["url"], content=b"x", timeout=60).status_code == 201
                wait_until(second.requests, 30, "the second listener's line")
                assert second.stop() == 0


def test_the_replies_a_session_remembers_are_bounded() -> None:
    """Each reply was kept for the whole session, its body included: a day of large answers grew
    ``hookline listen`` without end. The newest are kept (only those can be sent again)."""
    from hookline.cli import listen as relay
    from hookline.cli.options import Session

    listener = relay.Listener(Session(None, "t", 1.0, False), "bin_1", "http://127.0.0.1:1", backlog=True, as_json=True)
    for n in range(relay._REMEMBERED + 5):
        listener._remember(f"req_{n}", {"status": 200, "body": "x"})
    assert len(listener.answered) == relay._REMEMBERED and "req_4" not in listener.answered
    assert f"req_{relay._REMEMBERED + 4}" in listener.answered
    big = "y" * (relay._REMEMBERED_BYTES // 3)
    for n in range(4):
        listener._remember(f"big_{n}", {"status": 200, "body": big})
    assert listener._answered_bytes <= relay._REMEMBERED_BYTES
    assert "big_3" in listener.answered and "big_0" not in listener.answered
