"""Many processes on one PostgreSQL: one API process and two workers share the
work, and killing a worker mid-run loses nothing."""

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.servers import ADMIN_TOKEN, Receiver, free_port, wait_until

HOOKLINE = str(Path(sys.executable).with_name("hookline"))
MESSAGES = 3000
MAX_IN_FLIGHT = 50


def _env(database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HOOKLINE_DATABASE_URL": database_url,
        "HOOKLINE_PORT": str(port),
        "HOOKLINE_ADMIN_TOKEN": ADMIN_TOKEN,
        "HOOKLINE_ALLOWED_CIDRS": "127.0.0.0/8",
        "HOOKLINE_LEASE_SECONDS": "4",
        "HOOKLINE_REQUEST_TIMEOUT": "2",
        "HOOKLINE_RETRY_SCHEDULE": "0.5,1,1,1",
        "HOOKLINE_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "HOOKLINE_LOG_LEVEL": "info",
        "HOOKLINE_SQLITE_SYNCHRONOUS": "NORMAL",
    }


def _start(role: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [HOOKLINE, "serve", "--role", role], env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _attempts_logged(log: Path) -> int:
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and json.loads(line).get("event") == "attempt":
            count += 1
    return count


def test_api_and_two_workers_share_work_and_survive_a_kill(
    pg_database_url: str, receiver: Receiver, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port = free_port()
    env = _env(pg_database_url, port)
    logs = [tmp_path / "api.log", tmp_path / "worker1.log", tmp_path / "worker2.log"]
    processes.append(_start("api", env, logs[0]))
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    wait_until(lambda: _ping(client), 30, "api process")
    processes.append(_start("worker", env, logs[1]))
    processes.append(_start("worker", env, logs[2]))
    client.post("/api/v1/app", json={"name": "scale", "uid": "scale"})
    for n in range(3):
        assert client.post("/api/v1/app/scale/endpoint", json={"url": receiver.url(f"/ep{n}")}).status_code == 201

    accepted: list[str] = []
    lock = threading.Lock()

    def publish(count: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as c:
            for _ in range(count):
                resp = c.post("/api/v1/app/scale/msg", json={"eventType": "load.test", "payload": {"n": 1}})
                assert resp.status_code == 202, resp.text
                with lock:
                    accepted.append(resp.json()["id"])

    publishers = [threading.Thread(target=publish, args=(MESSAGES // 4,)) for _ in range(4)]
    for t in publishers:
        t.start()
    # Kill one worker once a good part of the work is done.
    wait_until(lambda: len(receiver.requests) >= MESSAGES, 120, "a third of the deliveries")
    processes[1].send_signal(signal.SIGKILL)
    for t in publishers:
        t.join()
    expected = {(f"/ep{n}", msg) for n in range(3) for msg in accepted}
    wait_until(
        lambda: expected <= {(r.path, r.headers["webhook-id"]) for r in receiver.requests},
        120,
        "every accepted message at every endpoint",
    )
    seen = Counter((r.path, r.headers["webhook-id"]) for r in receiver.requests)
    duplicates = sum(n - 1 for n in seen.values())
    assert len(accepted) == MESSAGES
    processes[2].send_signal(signal.SIGTERM)
    processes[2].wait(30)
    # Only attempts the killed worker had in flight (or sent but not yet recorded) come twice,
    # and those that timed out after the receiver had taken them (a loaded CI machine answers
    # some after the 2 s timeout; seen: 86 of them, 56 duplicates): each is logged, then retried.
    timeouts = sum(log.read_text(errors="replace").count("timed out after") for log in logs[1:])
    assert duplicates <= MAX_IN_FLIGHT + timeouts, (duplicates, timeouts)
    worker_attempts = [_attempts_logged(logs[1]), _attempts_logged(logs[2])]
    assert all(n > 0 for n in worker_attempts), worker_attempts
    print(f"accepted={len(accepted)} delivered={len(receiver.requests)} dup={duplicates} workers={worker_attempts}")


def _ping(client: httpx.Client) -> bool:
    try:
        return client.get("/api/v1/health/ping").status_code == 204
    except httpx.TransportError:
        return False
