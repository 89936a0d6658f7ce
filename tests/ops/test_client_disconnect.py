"""A client that goes away mid-body is logged as that, at info level, without a traceback."""

import socket
import time
from pathlib import Path

from tests.support.processes import HooklineProcess, hookline_env
from tests.support.servers import ADMIN_TOKEN, free_port


def _send_half(port: int, path: str, content_type: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n".encode()
        s.sendall(head + b"Content-Type: " + content_type + b"\r\nContent-Length: 1000\r\n\r\n" + b'{"eventType":"a.b"')
        time.sleep(0.3)  # the server is reading the body now


def test_a_client_gone_mid_body_is_an_info_line(tmp_path: Path) -> None:
    env = hookline_env(f"sqlite:///{tmp_path}/hookline.db", free_port(), log_level="info", log_format="json")
    server = HooklineProcess(env, tmp_path / "server.log")
    try:
        server.start(timeout=120)
        with server.client() as c:
            assert c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        _send_half(server.port, "/api/v1/app/acme/msg", b"application/json")
        _send_half(server.port, "/api/v1/app", b"application/json")
        time.sleep(1)
        with server.client() as c:  # still serving
            assert c.get("/api/v1/health/ping").status_code == 204
    finally:
        server.close()
    log = server.log_path.read_text()
    lines = [line for line in log.splitlines() if "client disconnected" in line]
    assert len(lines) == 2, log[-3000:]
    assert all('"level": "info"' in line for line in lines)
    assert "unhandled error" not in log
    assert "Traceback" not in log
