"""``hookline serve --tls-cert --tls-key`` serves HTTPS itself (issue: security basics at the
edge). The svix SDK publishes over it when told to trust the certificate, and nothing else
gets through: no plain HTTP, no client that does not trust the certificate."""

import json
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import standardwebhooks
from svix import Svix, SvixOptions
from svix.api import ApplicationIn, EndpointIn, MessageIn
from tests.support.processes import HOOKLINE_SERVE, HooklineProcess, hookline_env
from tests.support.servers import ADMIN_TOKEN, Receiver, free_port, wait_until
from tests.support.tls import Authority, Pair


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


@pytest.fixture
def server_pair(authority: Authority) -> Pair:
    return authority.issue("server", server=True)


@pytest.fixture
def tls_hookline(tmp_path: Path, authority: Authority, server_pair: Pair) -> Iterator[HooklineProcess]:
    env = hookline_env(
        f"sqlite:///{tmp_path}/hookline.db", free_port(), tls_cert=server_pair.cert, tls_key=server_pair.key
    )
    server = HooklineProcess(env, tmp_path / "server.log")
    server.trust(str(authority.pair.cert))  # clients trust the CA that signed the server's certificate
    try:
        server.start(timeout=120)
        yield server
    finally:
        server.close()


def test_the_svix_sdk_publishes_over_tls(
    tls_hookline: HooklineProcess, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_hookline.url.startswith("https://")
    monkeypatch.setenv("SSL_CERT_FILE", tls_hookline.ca_file)  # how httpx (and so the SDK) is told to trust it
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=tls_hookline.url))
    app = svix.application.create(ApplicationIn(name="tls"))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=receiver.url()))
    sent = svix.message.create(app.id, MessageIn(event_type="tls.checked", payload={"over": "https"}))
    [arrived] = receiver.wait_for(1, timeout=30)
    secret = svix.endpoint.get_secret(app.id, endpoint.id).key
    standardwebhooks.Webhook(secret).verify(arrived.body, arrived.headers)
    assert arrived.headers["webhook-id"] == sent.id


def test_only_tls_clients_that_trust_the_certificate_get_in(tls_hookline: HooklineProcess) -> None:
    plain = tls_hookline.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{plain}/api/v1/health/ping", timeout=5)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_hookline.url}/api/v1/health/ping", timeout=5, verify=ssl.create_default_context())
    with tls_hookline.client() as trusted:
        assert trusted.get("/api/v1/health/ping").status_code == 204
        # The dashboard served over https tells browsers to come back over https only (HSTS).
        page = trusted.get("/ui/login")
        assert page.status_code == 200 and page.headers["strict-transport-security"] == "max-age=31536000"
        assert "Secure" in page.headers["set-cookie"]


def test_serve_refuses_unusable_tls_files_in_one_line(tmp_path: Path, server_pair: Pair) -> None:
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    cases = [
        (["--tls-cert", str(server_pair.cert)], "set both or neither"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(server_pair.key)], "no such file"),
        (["--tls-cert", str(server_pair.cert), "--tls-key", str(not_a_key)], "HOOKLINE_TLS_KEY"),
    ]
    env = hookline_env(f"sqlite:///{tmp_path}/hookline.db", free_port())
    for args, problem in cases:
        done = subprocess.run(HOOKLINE_SERVE + args, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        assert problem in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_hookline_listen_forwards_over_tls_when_told_to_trust_the_certificate(
    tls_hookline: HooklineProcess, tmp_path: Path
) -> None:
    """``hookline listen`` talks to an https server (its API, then its WebSocket over wss) with the
    certificate trusted through SSL_CERT_FILE, which both its HTTP client and aiohttp honour."""
    from tests.cli.test_listen import local_receiver

    env = {**os.environ, "HOOKLINE_URL": tls_hookline.url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
    (tmp_path / "other").mkdir()
    stranger = Authority(tmp_path / "other")  # a CA that did not sign the server's certificate
    with local_receiver() as local:
        untrusted = subprocess.run(
            [sys.executable, "-m", "hookline", "listen", local.url(), "--json"],
            env={**env, "SSL_CERT_FILE": str(stranger.pair.cert)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert untrusted.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr, untrusted.stderr
        listen = subprocess.Popen(
            [sys.executable, "-m", "hookline", "listen", local.url(), "--json"],
            env={**env, "SSL_CERT_FILE": tls_hookline.ca_file},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert listen.stdout is not None
            ready = json.loads(listen.stdout.readline() or "{}")
            assert ready.get("event") == "ready" and ready["url"].startswith("https://"), listen.stderr
            # Sent at once: forwarded live, or from the backlog as soon as the listener is connected.
            with tls_hookline.client() as trusted:
                sent = trusted.post(ready["url"] + "/over/tls", content=b'{"over": "tls"}', timeout=60)
            assert sent.status_code in (200, 201), sent.text
            wait_until(lambda: len(local.got) >= 1, 60, "the captured request at the local receiver")
            (got,) = local.got
            assert (got.method, got.path, got.body) == ("POST", "/webhooks/over/tls", b'{"over": "tls"}')
        finally:
            listen.send_signal(signal.SIGINT)
            try:
                listen.wait(60)
            finally:
                if listen.poll() is None:
                    listen.kill()
