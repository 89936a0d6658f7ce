"""Request heads and bodies are bounded in size and time; memory stays bounded."""

import contextlib
import socket
import time

from tests.support.api import make_endpoint


def _raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return s.recv(4096)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_oversized_request_head_is_refused(hookline) -> None:
    port = _port(hookline.url)
    ok = _raw(port, b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\nX-Small: " + b"a" * 1000 + b"\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 204")
    big = b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(big)
        except (BrokenPipeError, ConnectionResetError):
            return  # closed on us mid-send: refused, as wanted
        assert s.recv(4096).startswith(b"HTTP/1.1 400")


def test_slow_request_body_times_out(hookline_factory) -> None:
    with hookline_factory(body_timeout=0.5) as hl:
        with socket.create_connection(("127.0.0.1", _port(hl.url)), timeout=10) as s:
            s.sendall(
                b"POST /api/v1/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-admin-token\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"'
            )
            started = time.monotonic()
            reply = s.recv(4096)
            while reply.endswith(b"\r\n\r\n") and (more := s.recv(4096)):
                reply += more  # the head and the body may arrive in two segments
        assert reply.startswith(b"HTTP/1.1 408"), reply
        assert b"request_timeout" in reply
        assert time.monotonic() - started < 5


def test_https_only_refuses_plain_http_endpoints(hookline_factory) -> None:
    with hookline_factory(endpoint_https_only=True) as hl, hl.client() as c:
        c.post("/api/v1/app", json={"name": "a", "uid": "acme"})
        resp = c.post("/api/v1/app/acme/endpoint", json={"url": "http://example.com/hook"})
        assert resp.status_code == 422
        assert resp.json()["code"] == "validation"
        assert "https" in str(resp.json()["detail"])
        assert c.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/hook"}).status_code == 201


def test_app_portal_access_gives_an_app_scoped_token(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url(), app_uid="tenant-a")
        make_endpoint(c, receiver.url(), app_uid="tenant-b")
        resp = c.post("/api/v1/auth/app-portal-access/tenant-a", json={})
        assert resp.status_code == 200, resp.text
        token = resp.json()["token"]
    with hookline.client(token) as scoped:
        assert scoped.get("/api/v1/app/tenant-a/endpoint").status_code == 200
        assert scoped.get("/api/v1/app/tenant-b/endpoint").status_code == 404
        assert [a["uid"] for a in scoped.get("/api/v1/app").json()["data"]] == ["tenant-a"]


def test_chunked_body_over_the_limit_is_refused(hookline) -> None:
    chunk = b"a" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = (
        b"POST /api/v1/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-admin-token\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(hookline.url)), timeout=10) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(head + body)
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply
