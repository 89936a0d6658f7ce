"""Per-endpoint client certificates (mutual TLS): a receiver that demands one gets hookline's,
and refuses a delivery from an endpoint without one. The key is kept encrypted at rest
when HOOKLINE_MAIN_SECRET is set, and never shown again."""

import asyncio
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import create_engine, select
from tests.support.api import make_endpoint, publish
from tests.support.servers import wait_until
from tests.support.tls import Authority, Pair

from hookline.store import tables as t


class MtlsReceiver:
    """An HTTPS server on 127.0.0.1 that asks for a client certificate signed by ``authority``."""

    def __init__(self, authority: Authority, server: Pair) -> None:
        self.seen: list[str] = []  # the subject of each client certificate that got through
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(authority.pair.cert))
        context.load_cert_chain(server.cert, server.key)
        context.verify_mode = ssl.CERT_REQUIRED
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def hook(request: web.Request) -> web.Response:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            subject = dict(item[0] for item in peer["subject"]) if peer else {}
            self.seen.append(subject.get("commonName", "?"))
            await request.read()
            return web.Response(text="ok")

        async def start() -> None:
            app = web.Application()
            app.router.add_post("/hook", hook)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            started.set()

        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        assert started.wait(10)

    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Authority:
    ca = Authority(tmp_path)
    # hookline verifies the receiver's certificate as usual; here it is told to trust the test CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.pair.cert))
    return ca


@pytest.fixture
def mtls_receiver(authority: Authority) -> Iterator[MtlsReceiver]:
    receiver = MtlsReceiver(authority, authority.issue("receiver", server=True))
    yield receiver
    receiver.close()


def _attempts(admin, app: str, msg_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return admin.get(f"/api/v1/app/{app}/attempt/msg/{msg_id}").json()["data"]


def test_a_receiver_demanding_a_client_certificate_gets_the_endpoints(
    hookline_factory, authority: Authority, mtls_receiver: MtlsReceiver, database_url: str
) -> None:
    client = authority.issue("hookline-client", server=False)
    with hookline_factory(main_secret="a main secret") as hl, hl.client() as admin:
        app, endpoint = make_endpoint(admin, mtls_receiver.url())
        # Without a certificate, the receiver refuses the handshake: a failed attempt, nothing arrives.
        first = publish(admin, app)
        failed = wait_until(lambda: _attempts(admin, app, first), timeout=30, what="an attempt")
        assert failed[0]["responseStatusCode"] == 0 and failed[0]["error"], failed
        assert mtls_receiver.seen == []

        path = f"/api/v1/app/{app}/endpoint/{endpoint}/client-certificate"
        assert admin.get(path).status_code == 404
        put = admin.put(path, json={"cert": client.cert_pem(), "key": client.key_pem()})
        assert put.status_code == 200, put.text
        shown = admin.get(path).json()
        assert shown["subject"] == "CN=hookline-client" and len(shown["fingerprint"]) == 64
        assert "key" not in shown and "BEGIN" not in str(shown)
        if database_url.startswith("sqlite"):  # the key at rest is sealed, not PEM
            engine = create_engine(database_url)
            with engine.connect() as conn:
                [stored] = conn.execute(select(t.endpoint_client_cert.c.key)).scalars().all()
            engine.dispose()
            assert "PRIVATE KEY" not in stored

        second = publish(admin, app)
        ok = wait_until(lambda: _attempts(admin, app, second), timeout=30, what="an attempt")
        assert ok[0]["responseStatusCode"] == 200, ok
        # (The first message may have got through too, on a retry after the certificate was set.)
        assert set(mtls_receiver.seen) == {"hookline-client"}

        assert admin.delete(path).status_code == 204
        assert admin.get(path).status_code == 404


def test_bad_certificates_are_refused_naming_the_field(hookline, authority: Authority, tmp_path: Path) -> None:
    client = authority.issue("one", server=False)
    other = authority.issue("two", server=False)
    with hookline.client() as admin:
        app, endpoint = make_endpoint(admin, "https://example.com/hook")
        path = f"/api/v1/app/{app}/endpoint/{endpoint}/client-certificate"
        cases = [
            ({"cert": "hello", "key": client.key_pem()}, "cert", "not a PEM certificate"),
            ({"cert": client.cert_pem(), "key": "hello"}, "key", "not a PEM private key"),
            ({"cert": client.cert_pem(), "key": other.key_pem()}, "key", "does not belong"),
        ]
        for body, field, problem in cases:
            resp = admin.put(path, json=body)
            assert resp.status_code == 422, resp.text
            [item] = resp.json()["detail"]
            assert item["loc"] == ["body", field] and problem in item["msg"], item
        assert admin.get(path).status_code == 404
