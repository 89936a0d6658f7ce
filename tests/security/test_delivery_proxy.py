"""``HOOKLINE_DELIVERY_PROXY`` sends every delivery through an HTTP proxy (one fixed egress
address for receivers to allow-list), and the SSRF guard still judges the final target:
the proxy is not a way around it. The proxy here is a real one, proxy.py."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.api import make_endpoint
from tests.support.servers import Receiver, free_port, wait_until


class Proxy:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(self.port)]
        command += ["--num-workers", "1", "--num-acceptors", "1", "--threaded", "--log-level", "INFO"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its log is how the test sees what it carried
        with log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    def seen(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    p = Proxy(tmp_path / "proxy.log")
    yield p
    p.close()


def test_deliveries_go_through_the_proxy(hookline_factory, receiver: Receiver, proxy: Proxy) -> None:
    with hookline_factory(delivery_proxy=proxy.url) as hl, hl.client() as admin:
        app, _ = make_endpoint(admin, receiver.url("/through-proxy"))
        sent = admin.post(f"/api/v1/app/{app}/msg", json={"eventType": "a.b", "payload": {"n": 1}})
        assert sent.status_code == 202, sent.text
        [arrived] = receiver.wait_for(1, timeout=30)
        assert arrived.path == "/through-proxy"
        # The receiver saw its own name in Host.
        assert arrived.headers["host"] == f"127.0.0.1:{receiver.port}"
    # The proxy logs a request when its connection closes: hookline has stopped, so it has.
    wait_until(lambda: "/through-proxy" in proxy.seen(), timeout=30, what="the proxy's access log")


def test_the_guard_judges_the_target_not_the_proxy(database_url: str, receiver: Receiver, proxy: Proxy) -> None:
    from tests.support.servers import run_hookline, test_settings

    # Loopback is not allowed here: the proxy itself is on loopback, the receiver too.
    settings = test_settings(database_url, delivery_proxy=proxy.url).with_overrides(allowed_cidrs=())
    with run_hookline(settings) as hl, hl.client() as admin:
        app, _ = make_endpoint(admin, receiver.url("/never"))
        msg = admin.post(f"/api/v1/app/{app}/msg", json={"eventType": "a.b", "payload": {}}).json()

        def attempt() -> dict | None:
            data = admin.get(f"/api/v1/app/{app}/attempt/msg/{msg['id']}").json()["data"]
            return data[0] if data else None

        first = wait_until(attempt, timeout=30, what="an attempt")
        assert first["responseStatusCode"] == 0
        assert "blocked" in first["error"] and "loopback" in first["error"], first
    assert receiver.requests == []
    assert "/never" not in proxy.seen()
