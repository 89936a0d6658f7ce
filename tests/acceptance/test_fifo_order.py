"""FIFO order holds across ``kill -9`` and across two engine processes on PostgreSQL.

hookline runs as real processes delivering to a receiver that takes 0 to 30 ms and refuses
one request in ten with 503 (so retries are in the mix). At the FIFO endpoint, the messages
answered 2xx must come in publish order: a message may arrive twice (a killed process had
sent it without recording it), but never after a later one. A plain endpoint of the same
application gets everything too.
"""

import random
import time
from typing import Any

import pytest
from tests.support.api import make_endpoint
from tests.support.processes import CountingReceiver, SpawnHookline

pytestmark = pytest.mark.slow

MESSAGES = 60


def _publish_all(client: Any) -> list[str]:
    ids = []
    for n in range(MESSAGES):
        resp = client.post("/api/v1/app/acme/msg", json={"eventType": "order.placed", "payload": {"n": n}})
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["id"])
    return ids


def _arrivals(receiver: CountingReceiver, path: str, order: dict[str, int]) -> list[int]:
    return [order[d.msg_id] for d in receiver.deliveries() if d.path == path]


def _wait_all(receiver: CountingReceiver, order: dict[str, int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(set(_arrivals(receiver, p, order)) == set(range(MESSAGES)) for p in ("/fifo", "/plain")):
            return
        time.sleep(0.1)
    got = _arrivals(receiver, "/fifo", order)
    raise AssertionError(f"not all delivered: fifo has {sorted(set(got))[-3:]} of {MESSAGES}")


def _assert_in_order(arrived: list[int]) -> None:
    assert arrived == sorted(arrived), arrived  # repeats allowed, going back is not
    assert sorted(set(arrived)) == list(range(MESSAGES))


@pytest.fixture
def receiver() -> Any:
    r = CountingReceiver(delay=(0.0, 0.03), fail_rate=0.1, seed=random.randrange(1_000_000))
    try:
        yield r
    finally:
        r.close()


def test_fifo_order_survives_kill_9(
    database_url: str, receiver: CountingReceiver, spawn_hookline: SpawnHookline
) -> None:
    hl = spawn_hookline(database_url)
    with hl.client() as client:
        make_endpoint(client, receiver.url("/fifo"), fifo=True)
        make_endpoint(client, receiver.url("/plain"))
        order = {msg_id: n for n, msg_id in enumerate(_publish_all(client))}
    # Kill it mid-run, once the FIFO endpoint is under way, and start it again.
    deadline = time.monotonic() + 60
    while len(set(_arrivals(receiver, "/fifo", order))) < 10:
        assert time.monotonic() < deadline, "the FIFO endpoint never got going"
        time.sleep(0.02)
    hl.kill()
    killed_at = len(set(_arrivals(receiver, "/fifo", order)))
    assert killed_at < MESSAGES, "finished before the kill: nothing was tested"
    hl.start()
    _wait_all(receiver, order, timeout=120)
    _assert_in_order(_arrivals(receiver, "/fifo", order))


def test_fifo_order_with_two_workers_on_postgresql(
    pg_database_url: str, receiver: CountingReceiver, spawn_hookline: SpawnHookline
) -> None:
    first = spawn_hookline(pg_database_url, log_level="info")
    second = spawn_hookline(pg_database_url, log_level="info")
    with first.client() as client:
        make_endpoint(client, receiver.url("/fifo"), fifo=True)
        make_endpoint(client, receiver.url("/plain"))
        order = {msg_id: n for n, msg_id in enumerate(_publish_all(client))}
    _wait_all(receiver, order, timeout=120)
    _assert_in_order(_arrivals(receiver, "/fifo", order))
    # Both processes delivered (each logs its attempts).
    for process in (first, second):
        assert '"event": "attempt"' in process.log_path.read_text(), process.log_tail()
