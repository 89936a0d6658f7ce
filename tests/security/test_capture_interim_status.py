"""Whoever holds a capture URL chooses its answer's status for one request
(``?force_status_code=``, as Svix Play). A 1xx is not an answer but an interim one: hookline
still sent a body and went on answering on the same connection, so ``101 Switching Protocols``
told a reverse proxy in front (one set up for ``hookline listen``'s WebSocket) that the
connection had become a tunnel, and whatever the sender wrote next went straight to hookline,
past the proxy's rules; a 100 or 103 left the proxy pairing the answers that followed with the
wrong requests. Only final statuses may be forced, as only those may be configured."""

import socket

import pytest
from tests.support.servers import Hookline


def _exchange(hookline: Hookline, request: bytes) -> bytes:
    host, port = hookline.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # to the end: each request asks to close
            answer += chunk
    return answer


def _bin_path(hookline: Hookline) -> tuple[str, str]:
    with hookline.client() as admin:
        assert admin.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
        token = admin.post("/api/v1/auth/app-portal-access/acme", json={}).json()["token"]
    with hookline.client(token) as tenant:
        made = tenant.post("/api/v1/inspect", json={})
        assert made.status_code == 201, made.text
    return made.json()["id"], "/i/" + made.json()["url"].split("/i/", 1)[1]


@pytest.mark.parametrize("status", [100, 101, 103, 199])
def test_a_capture_url_never_answers_an_interim_status(hookline: Hookline, status: int) -> None:
    _bin_id, path = _bin_path(hookline)
    answer = _exchange(
        hookline,
        f"GET {path}?force_status_code={status} HTTP/1.1\r\nHost: hookline\r\nConnection: close\r\n\r\n".encode(),
    )
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 422 Unprocessable Entity", answer
    assert b'"loc":["query","force_status_code"]' in answer.replace(b" ", b""), answer


def test_final_statuses_may_still_be_forced(hookline: Hookline) -> None:
    bin_id, path = _bin_path(hookline)
    for status, line in ((200, b"HTTP/1.1 200 OK"), (204, b"HTTP/1.1 204 No Content"), (503, b"HTTP/1.1 503 ")):
        answer = _exchange(
            hookline,
            f"POST {path}?force_status_code={status} HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode(),
        )
        assert answer.startswith(line), answer
    with hookline.client() as admin:
        kept = admin.get(f"/api/v1/inspect/{bin_id}/request").json()["data"]
    assert sorted(r["responseStatus"] for r in kept) == [200, 204, 503]
