"""Connections are bounded: silent ones are closed within the head timeout, counted from
accept; heads over 64 KiB are refused however they arrive; beyond the cap, a 503."""

import contextlib
import socket
import time

import pytest

from hookline.api.protocol import MAX_HEAD_BYTES


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Read until the server closes the connection; fail if it is still open after ``seconds``."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"connection still open after {seconds} s")
    return data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_silent_connections_are_closed_within_the_head_timeout(hookline_factory) -> None:
    with hookline_factory(head_timeout=0.5) as hl:
        silent = [socket.create_connection(("127.0.0.1", _port(hl.url)), timeout=10) for _ in range(20)]
        started = time.monotonic()
        try:
            for sock in silent:
                assert _closed_within(sock, 5) == b""  # nothing sent, nothing to answer
            assert time.monotonic() - started < 5
        finally:
            for sock in silent:
                sock.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_head_sent_in_one_write_is_held_to_the_limit(hookline) -> None:
    filler = b"a" * (MAX_HEAD_BYTES + 4096)  # a 68 KiB head, all in one write
    head = b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + filler + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", _port(hookline.url)), timeout=10) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(head)
        reply = _closed_within(s, 5)
    assert reply.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")), reply[:100]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_many_small_headers_in_one_write_are_held_to_the_limit(hookline) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(700))  # ~75 KiB
    head = b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    with socket.create_connection(("127.0.0.1", _port(hookline.url)), timeout=10) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(head)
        reply = _closed_within(s, 5)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_connections_beyond_the_cap_get_503_not_a_refusal(hookline_factory) -> None:
    with hookline_factory(max_connections=3) as hl:
        port = _port(hl.url)
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
                extra.sendall(b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\n\r\n")
                reply = _closed_within(extra, 5)
            assert reply.startswith(b"HTTP/1.1 503"), reply[:100]
            assert b"retry-after: 1" in reply.lower()
            assert b'"code":"server_busy"' in reply
        finally:
            for sock in held:
                sock.close()
        # Once they are gone, requests are served again.
        deadline = time.monotonic() + 5
        while True:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as again:
                again.sendall(b"GET /api/v1/health/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if _closed_within(again, 5).startswith(b"HTTP/1.1 204") or time.monotonic() > deadline:
                    break
            time.sleep(0.05)
        assert time.monotonic() <= deadline
