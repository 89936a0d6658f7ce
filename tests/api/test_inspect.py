"""The inspector's capture URLs ("bins"), on a real server, SQLite and PostgreSQL: byte-exact
capture, configured responses and Svix Play overrides, limits, signatures, the SSE stream,
replay under the SSRF guard, and who may see a bin."""

import asyncio
import base64
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook
from tests.support import servers
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver, free_port, run_hookline, wait_until

from hookline.maintenance import clean_once
from hookline.store import tables
from hookline.store.database import Database


@pytest.fixture
def server(database_url: str) -> Iterator[Hookline]:
    port = free_port()
    settings = servers.test_settings(database_url, public_url=f"http://127.0.0.1:{port}")
    with run_hookline(settings, port=port) as hl:
        yield hl


def new_bin(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/inspect", json=fields)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def captured(client: httpx.Client, bin_id: str) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/inspect/{bin_id}/request", params={"order": "ascending", "limit": 250})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def full(client: httpx.Client, bin_id: str, request_id: str) -> dict[str, Any]:
    resp = client.get(f"/api/v1/inspect/{bin_id}/request/{request_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def raw_request(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send exactly these bytes (request line and headers as given) and return the response."""
    parsed = httpx.URL(url)
    with socket.create_connection((parsed.host, parsed.port), timeout=10) as sock:
        sock.sendall(head + body)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_bin_has_an_unguessable_url_under_public_url(server: Hookline) -> None:
    with server.client() as admin:
        one, two = new_bin(admin), new_bin(admin)
    assert one["url"].startswith(f"{server.url}/i/")
    tokens = [b["url"].rsplit("/", 1)[1] for b in (one, two)]
    assert tokens[0] != tokens[1]
    assert all(len(base64.urlsafe_b64decode(t + "==")) * 8 >= 128 for t in tokens)
    assert one["maxRequests"] == 500
    assert httpx.post(f"{server.url}/i/not-a-token", content=b"x").status_code == 404


BINARY = bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("method", "content_type", "body"),
    [
        ("POST", "application/x-www-form-urlencoded", b"a=1&b=%20two&a=3"),
        ("POST", "application/json", b'{ "z": 1,  "a": [1, 2.50, "\\u00e9"] }'),
        ("PUT", "application/octet-stream", BINARY),
        ("POST", None, b""),
        ("PURGE", "text/plain", b"odd method"),
        ("GET", None, b""),
        ("DELETE", "text/plain", b"gone"),
    ],
)
def test_capture_is_byte_exact(server: Hookline, method: str, content_type: str | None, body: bytes) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin)
        headers = [("X-Trace", "one"), ("x-trace", "Two"), ("X-Empty", "")]
        if content_type:
            headers.insert(0, ("Content-Type", content_type))
        resp = httpx.request(method, bin_["url"] + "/deep/path%20x?q=1&q=2&e=", content=body, headers=headers)
        assert resp.status_code == 200 and resp.text == "OK"
        (row,) = captured(admin, bin_["id"])
        got = full(admin, bin_["id"], row["id"])
    assert got["method"] == method
    assert got["path"] == "/deep/path%20x"
    assert got["query"] == "q=1&q=2&e="
    assert base64.b64decode(got["bodyBase64"]) == body
    assert got["size"] == len(body)
    assert got["client"] == "127.0.0.1"
    assert got["responseStatus"] == 200
    sent = [[k, v] for k, v in headers]
    names = [h[0].lower() for h in got["headers"]]
    # The sender's own headers, in order, repeats and case kept.
    mine = [[k.lower(), v] for k, v in got["headers"] if k.lower() in ("x-trace", "x-empty", "content-type")]
    assert mine == [[k.lower(), v] for k, v in sent]
    assert "host" in names


def test_a_senders_idempotency_key_is_recorded_not_answered_from_memory(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin)
        for body in (b"one", b"two"):
            httpx.post(bin_["url"], content=body, headers={"Idempotency-Key": "same"})
        rows = captured(admin, bin_["id"])
    assert len(rows) == 2


def test_headers_keep_raw_order_and_case(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin)
        path = httpx.URL(bin_["url"]).path
        head = (
            f"POST {path}/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-B: 2\r\nx-a: 1\r\nX-B: 3\r\n"
            "Content-Length: 3\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = raw_request(server.url, head, b"\x00\xff\x01")
        assert answer.startswith(b"HTTP/1.1 200")
        (row,) = captured(admin, bin_["id"])
        got = full(admin, bin_["id"], row["id"])
    # The server reads header names case-insensitively (uvicorn hands them over lowercased);
    # order, repeats and values are as sent.
    assert [[k.lower(), v] for k, v in got["headers"]] == [
        ["host", "127.0.0.1"],
        ["x-b", "2"],
        ["x-a", "1"],
        ["x-b", "3"],
        ["content-length", "3"],
        ["connection", "close"],
    ]
    assert base64.b64decode(got["bodyBase64"]) == b"\x00\xff\x01" and got["body"] is None


def test_configured_response_and_svix_play_overrides(server: Hookline) -> None:
    response = {
        "status": 202,
        "contentType": "application/json",
        "body": '{"ok":true}',
        "headers": [["X-Bin", "a"], ["X-Bin", "b"]],
    }
    with server.client() as admin:
        bin_ = new_bin(admin, response=response)
    resp = httpx.post(bin_["url"], content=b"hi")
    assert resp.status_code == 202 and resp.json() == {"ok": True}
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers.get_list("x-bin") == ["a", "b"]

    assert httpx.post(bin_["url"] + "?force_status_code=503", content=b"x").status_code == 503
    echoed = httpx.post(
        bin_["url"] + "?echo_body=true", content=b"\x01echo", headers={"content-type": "application/x-thing"}
    )
    assert echoed.content == b"\x01echo" and echoed.headers["content-type"] == "application/x-thing"
    assert httpx.post(bin_["url"] + "?random_failure_rate=1", content=b"x").status_code == 500
    assert httpx.post(bin_["url"] + "?random_failure_rate=0", content=b"x").status_code == 202
    bad = httpx.post(bin_["url"] + "?force_status_code=abc", content=b"x")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "force_status_code"]
    # ...and recorded, as every request is: its owner sees what came and what it was answered.
    with server.client() as admin:
        statuses = [r["responseStatus"] for r in captured(admin, bin_["id"])]
        for headers in ([["Content-Length", "1"]], [["Bad Name", "x"]], [["X-A", "a\r\nb"]], [["X-A"]]):
            refused = admin.post("/api/v1/inspect", json={"response": {"headers": headers}})
            assert refused.status_code == 422 and "headers" in json.dumps(refused.json()), headers
    assert statuses == [202, 503, 202, 500, 202, 422]


def test_update_changes_what_is_given(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin, name="a", verify={"secret": "whsec_" + base64.b64encode(b"k" * 24).decode()})
        path = f"/api/v1/inspect/{bin_['id']}"
        changed = admin.patch(path, json={"response": {"status": 418, "body": "teapot"}, "maxRequests": 2})
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "a" and changed.json()["verifyProvider"] == "standard-webhooks"
        assert changed.json()["maxRequests"] == 2 and changed.json()["url"] == bin_["url"]
        resp = httpx.post(bin_["url"], content=b"x")
        assert resp.status_code == 418 and resp.text == "teapot"
        cleared = admin.patch(path, json={"name": None, "verify": None, "maxRequests": None})
        assert cleared.json()["name"] is None and cleared.json()["verifyProvider"] is None
        assert cleared.json()["maxRequests"] == 2  # null leaves it
        httpx.post(bin_["url"], content=b"x")
        assert captured(admin, bin_["id"])[-1]["signature"] is None
        assert admin.patch(path, json={"unknown": 1}).status_code == 422
        assert admin.patch(path, json={"verify": {"provider": "stripe"}}).status_code == 422  # no secret


def test_delay_is_honoured(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin, response={"delay": 1.5})
        # A sender whose timeout is shorter than the delay times out: what the delay is for.
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(bin_["url"], content=b"x", timeout=0.5)
        started = time.monotonic()
        assert httpx.post(bin_["url"], content=b"x", timeout=30).status_code == 200
        assert time.monotonic() - started >= 1.5
        big = admin.patch(f"/api/v1/inspect/{bin_['id']}", json={"response": {"delay": 31}})
        assert big.status_code == 422 and "delay" in json.dumps(big.json())


def test_request_limit_drops_the_oldest(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin, maxRequests=3)
        for n in range(5):
            httpx.post(bin_["url"], content=f"n{n}".encode())
        rows = captured(admin, bin_["id"])
        bodies = [base64.b64decode(full(admin, bin_["id"], r["id"])["bodyBase64"]) for r in rows]
    assert bodies == [b"n2", b"n3", b"n4"]


def test_expired_bin_captures_nothing_and_is_purged(server: Hookline, database_url: str) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin, ttlSeconds=1)
        assert httpx.post(bin_["url"], content=b"x").status_code == 200
        wait_until(lambda: httpx.post(bin_["url"], content=b"x").status_code == 404, 20, "the bin to expire")
        assert admin.get(f"/api/v1/inspect/{bin_['id']}").status_code == 404
        assert bin_["id"] not in [b["id"] for b in admin.get("/api/v1/inspect").json()["data"]]
        assert new_bin(admin, ttlSeconds=7 * 86400)["maxRequests"] == 500

    async def purge() -> int | None:
        db = Database(database_url)
        try:
            if await clean_once(db, server.settings) is None:
                return None  # the server's own cleaner holds the lock: try again
            async with db.read() as conn:
                query = select(func.count()).select_from(tables.inspect_request)
                return int((await conn.execute(query.where(tables.inspect_request.c.bin_id == bin_["id"]))).scalar())
        finally:
            await db.close()

    wait_until(lambda: asyncio.run(purge()) == 0, 30, "the expired bin's requests to be purged")


def test_body_over_the_limit_is_413(database_url: str) -> None:
    port = free_port()
    settings = servers.test_settings(database_url, public_url=f"http://127.0.0.1:{port}", capture_max_bytes=1000)
    with run_hookline(settings, port=port) as hl, hl.client() as admin:
        bin_ = new_bin(admin)
        assert httpx.post(bin_["url"], content=b"x" * 1001).status_code == 413
        assert httpx.post(bin_["url"], content=b"x" * 1000).status_code == 200


def test_history_pages_delete_one_and_all(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin)
        for n in range(5):
            httpx.post(bin_["url"], content=f"{n}".encode())
        first = admin.get(f"/api/v1/inspect/{bin_['id']}/request", params={"limit": 2}).json()
        assert len(first["data"]) == 2 and not first["done"]
        second = admin.get(f"/api/v1/inspect/{bin_['id']}/request", params={"limit": 2, "iterator": first["iterator"]})
        ids = [r["id"] for r in first["data"] + second.json()["data"]]
        assert len(set(ids)) == 4 and ids == sorted(ids, reverse=True)
        assert admin.delete(f"/api/v1/inspect/{bin_['id']}/request/{ids[0]}").status_code == 204
        assert admin.get(f"/api/v1/inspect/{bin_['id']}/request/{ids[0]}").status_code == 404
        assert len(captured(admin, bin_["id"])) == 4
        assert admin.delete(f"/api/v1/inspect/{bin_['id']}/request").status_code == 204
        assert captured(admin, bin_["id"]) == []
        assert admin.delete(f"/api/v1/inspect/{bin_['id']}").status_code == 204
        assert httpx.post(bin_["url"], content=b"x").status_code == 404


def test_signature_check_says_valid_or_why_not(server: Hookline) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    with server.client() as admin:
        bin_ = new_bin(admin, verify={"secret": secret})
        assert bin_["verifyProvider"] == "standard-webhooks"
        body = b'{"type":"a.b"}'
        signed = Webhook(secret).sign("msg_1", _now(), body.decode())
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(_now().timestamp())),
            "webhook-signature": signed,
        }
        httpx.post(bin_["url"], content=body, headers=headers)
        httpx.post(bin_["url"], content=body + b" ", headers=headers)
        httpx.post(bin_["url"], content=body)
        rows = captured(admin, bin_["id"])
        unknown = admin.post("/api/v1/inspect", json={"verify": {"provider": "nope", "secret": "x"}})
    assert [r["signature"]["valid"] for r in rows] == [True, False, False]
    assert rows[0]["signature"]["reason"] is None
    assert rows[1]["signature"]["reason"] and rows[2]["signature"]["reason"]
    assert rows[1]["signature"]["reason"] != rows[2]["signature"]["reason"]
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "verify", "provider"]


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(tz=UTC)


def test_sse_stream_delivers_new_requests_while_open(server: Hookline) -> None:
    with server.client() as admin:
        bin_ = new_bin(admin)
        httpx.post(bin_["url"], content=b"before")  # not replayed: the stream starts from now
    events: list[dict[str, Any]] = []
    connected = threading.Event()

    def read() -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        url = f"{server.url}/api/v1/inspect/{bin_['id']}/stream"
        with httpx.stream("GET", url, headers=headers, timeout=60) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            for line in resp.iter_lines():
                connected.set()
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if len(events) == 2:
                        return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert connected.wait(30)
    httpx.post(bin_["url"] + "/one", content=b"1")
    wait_until(lambda: len(events) == 1, 30, "the first event")
    httpx.put(bin_["url"] + "/two?x=1", content=b"2")
    reader.join(30)
    assert [(e["method"], e["path"], e["query"]) for e in events] == [("POST", "/one", ""), ("PUT", "/two", "x=1")]


def test_replay_sends_the_same_request_and_respects_ssrf(database_url: str, receiver: Receiver) -> None:
    # Default SSRF rules (nothing allowed): loopback is refused, and nothing is sent.
    port = free_port()
    settings = servers.test_settings(database_url, public_url=f"http://127.0.0.1:{port}", allowed_cidrs=())
    with run_hookline(settings, port=port) as hl, hl.client() as admin:
        bin_ = new_bin(admin)
        httpx.post(bin_["url"], content=b"payload", headers={"X-Sig": "abc"})
        (row,) = captured(admin, bin_["id"])
        refused = admin.post(f"/api/v1/inspect/{bin_['id']}/request/{row['id']}/replay", json={"url": receiver.url()})
        assert refused.status_code == 422 and "blocked" in json.dumps(refused.json())
        assert (
            admin.post(f"/api/v1/inspect/{bin_['id']}/request/{row['id']}/replay", json={"url": "ftp://x"}).status_code
            == 422
        )
    assert receiver.requests == []
    # Allowed by HOOKLINE_ALLOWED_CIDRS: the same method, headers and body arrive.
    port = free_port()
    settings = servers.test_settings(
        database_url, public_url=f"http://127.0.0.1:{port}", allowed_cidrs=(ipaddress.ip_network("127.0.0.1/32"),)
    )
    with run_hookline(settings, port=port) as hl, hl.client() as admin:
        bin_ = new_bin(admin)
        httpx.post(bin_["url"], content=b"payload", headers={"X-Sig": "abc", "Content-Type": "text/x"})
        (row,) = captured(admin, bin_["id"])
        done = admin.post(f"/api/v1/inspect/{bin_['id']}/request/{row['id']}/replay", json={"url": receiver.url()})
        assert done.status_code == 200, done.text
        assert done.json()["statusCode"] == 200 and done.json()["body"] == "ok"
    (got,) = receiver.wait_for(1)
    assert got.body == b"payload" and got.headers["x-sig"] == "abc" and got.headers["content-type"] == "text/x"


def _listen_handshake(base: str, bin_id: str, token: str) -> int:
    """The status of a ``hookline listen`` WebSocket handshake with ``token``."""

    async def connect() -> int:
        url = base.replace("http://", "ws://") + f"/api/v1/inspect/{bin_id}/listen"
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(url, headers={"Authorization": f"Bearer {token}"}) as ws:
                    ready = await ws.receive_json(timeout=30)
                    assert ready["type"] == "ready" and ready["bin"]["id"] == bin_id
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    return asyncio.run(connect())


def test_another_applications_token_cannot_read_or_replay(server: Hookline, receiver: Receiver) -> None:
    with server.client() as admin:
        for uid in ("mine", "theirs"):
            assert admin.post("/api/v1/app", json={"name": uid, "uid": uid}).status_code == 201
        mine = admin.post("/api/v1/auth/app-portal-access/mine", json={}).json()["token"]
        theirs = admin.post("/api/v1/auth/app-portal-access/theirs", json={}).json()["token"]
    with server.client(mine) as me, server.client(theirs) as other:
        bin_ = new_bin(me)
        assert bin_["appId"]
        httpx.post(bin_["url"], content=b"secret stuff")
        (row,) = captured(me, bin_["id"])
        base = f"/api/v1/inspect/{bin_['id']}"
        for method, path, body in [
            ("GET", base, None),
            ("GET", f"{base}/request", None),
            ("GET", f"{base}/request/{row['id']}", None),
            ("GET", f"{base}/stream", None),
            ("PATCH", base, {"name": "x"}),
            ("POST", f"{base}/request/{row['id']}/replay", {"url": receiver.url()}),
            ("DELETE", f"{base}/request/{row['id']}", None),
            ("DELETE", f"{base}/request", None),
            ("DELETE", base, None),
        ]:
            resp = other.request(method, path, json=body)
            assert resp.status_code == 404, (method, path, resp.status_code)
        assert other.get("/api/v1/inspect").json()["data"] == []
        assert _listen_handshake(server.url, bin_["id"], theirs) == 404
        assert _listen_handshake(server.url, bin_["id"], "not-a-token") == 401
        assert _listen_handshake(server.url, bin_["id"], mine) == 101
        assert [b["id"] for b in me.get("/api/v1/inspect").json()["data"]] == [bin_["id"]]
        assert len(captured(me, bin_["id"])) == 1
    with server.client() as admin:
        assert admin.get(f"/api/v1/inspect/{bin_['id']}").status_code == 200
    assert receiver.requests == []
