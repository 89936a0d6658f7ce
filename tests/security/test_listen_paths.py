"""``hookline listen TARGET`` passes what a capture URL receives to TARGET on the developer's
machine, the path below the capture URL appended to TARGET's. Whoever holds the capture URL
chooses that path, and must not reach above TARGET's own: ``/../../admin`` (or its percent-encoded
``%2e%2e`` spelling) sent to ``http://127.0.0.1:port/webhooks`` must stay below ``/webhooks``, as
the ingest gateway keeps a forwarded path below a destination's (domain.ingest.forward_path)."""

import socket

import pytest
from tests.cli.test_listen import connected, listening, local_receiver, server_on
from tests.support.servers import free_port, wait_until


def _send_raw(url: str, target: str) -> bytes:
    """A request whose target is sent byte for byte (HTTP clients resolve dot segments first)."""
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("below", "arrives"),
    [
        ("/../../admin/users?delete=1", "/webhooks/admin/users?delete=1"),
        ("/%2e%2e/%2E%2E/admin", "/webhooks/admin"),
        ("/a/./b/../c", "/webhooks/a/c"),
        ("/orders/paid?shop=x", "/webhooks/orders/paid?shop=x"),
    ],
)
def test_a_senders_path_stays_below_the_listeners_target(database_url: str, below: str, arrives: str) -> None:
    port = free_port()
    with server_on(database_url, port) as hl, local_receiver() as local, listening(hl.url, local.url()) as listen:
        bin_ = listen.ready
        connected(hl, bin_["bin"])
        capture_path = "/i/" + bin_["url"].split("/i/", 1)[1]
        answer = _send_raw(hl.url, capture_path + below)
        assert answer.startswith(b"HTTP/1.1 201"), answer
        wait_until(lambda: local.got, 30, "the local target to get the request")
        assert [g.path for g in local.got] == [arrives]
