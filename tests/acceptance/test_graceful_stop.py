"""SIGTERM and SIGINT: stop taking new work, finish what is in flight, exit 0.

The receiver answers slowly, so when the signal arrives attempts are in the
middle of their HTTP request. hookline must stop listening, let those attempts
finish and record them, and exit with status 0 within a bounded wait. Started
again on the same database, it must not send them a second time, and it must
deliver what it had not started yet.
"""

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from tests.support.api import attempts, make_endpoint, publish
from tests.support.processes import SpawnHookline
from tests.support.servers import Received, Receiver, Reply, wait_until

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT = 2.0
# uvicorn drains HTTP for at most request_timeout + 5 s, the engine waits request_timeout + 1 s
# for in-flight attempts: with no HTTP client holding on, stopping takes about one attempt. The
# bound leaves room for a loaded machine and is still far below the 30 s a hanging receiver holds.
BOUNDED_WAIT = REQUEST_TIMEOUT + 8
CONCURRENCY = 8
MESSAGES = 20


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_finishes_in_flight_attempts_and_exits_cleanly(
    database_url: str, receiver: Receiver, spawn_hookline: SpawnHookline, sig: signal.Signals, tmp_path: Path
) -> None:
    receiver.respond = lambda _r: Reply(delay=1.0)
    hl = spawn_hookline(database_url, request_timeout=REQUEST_TIMEOUT, endpoint_concurrency=CONCURRENCY)
    with hl.client() as client:
        _app_id, endpoint_id = make_endpoint(client, receiver.url("/slow"), app_uid="stop")
        ids = [publish(client, "stop", payload={"n": n}) for n in range(MESSAGES)]
    wait_until(lambda: len(receiver.requests) >= CONCURRENCY, 10, "attempts in flight")

    signalled = time.monotonic()
    hl.send_signal(sig)
    time.sleep(0.5)
    # What reached the receiver by now was claimed before the signal (a request on its way when
    # the signal came may land just after it); nothing may arrive from here on.
    in_flight = {r.headers["webhook-id"] for r in receiver.requests}
    # Half a second later the slow attempts are still running: the process waits for
    # them, but the API no longer takes work.
    assert hl.alive, "exited without waiting for in-flight attempts"
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{hl.url}/api/v1/app/stop/msg", json={"eventType": "late", "payload": {}}, timeout=2)
    code = hl.wait(BOUNDED_WAIT + 5)
    stopped_in = time.monotonic() - signalled
    assert code == 0, hl.log_tail()
    assert stopped_in < BOUNDED_WAIT, f"took {stopped_in:.1f} s to stop"
    # Nothing new was claimed after the signal.
    assert {r.headers["webhook-id"] for r in receiver.requests} == in_flight

    receiver.respond = lambda _r: Reply()
    hl.start()
    wait_until(lambda: set(_counts(receiver.requests)) >= {("/slow", i) for i in ids}, 30, "all messages")
    with hl.client() as client:
        # An outcome is recorded a moment after its request arrives: wait for every message's.
        recorded = wait_until(
            lambda: (
                (found := attempts(client, "stop", endpoint_id)) and {a["msgId"] for a in found} >= set(ids) and found
            ),
            30,
            "every attempt recorded",
        )
    print(f"\n[{database_url.split(':')[0]} {sig.name}] in flight={len(in_flight)} stopped in {stopped_in:.2f} s")

    # The in-flight attempts were completed and recorded as succeeded before the exit,
    # so after the restart they were not sent again; the rest were sent once each.
    per_message = Counter(a["msgId"] for a in recorded)
    for msg_id in in_flight:
        assert per_message[msg_id] == 1, (msg_id, [a for a in recorded if a["msgId"] == msg_id])
    assert all(a["status"] == 0 and a["responseStatusCode"] == 200 for a in recorded)
    assert set(per_message) == set(ids)
    assert _counts(receiver.requests) == Counter({("/slow", i): 1 for i in ids})


def test_signal_with_a_hanging_receiver_stops_within_the_bound(
    database_url: str, receiver: Receiver, spawn_hookline: SpawnHookline
) -> None:
    """Attempts that cannot finish are cut off by the request timeout, recorded as failed
    and retried after the restart: the stop stays bounded, nothing is lost."""
    receiver.respond = lambda _r: Reply(delay=30)
    hl = spawn_hookline(database_url, request_timeout=REQUEST_TIMEOUT)
    with hl.client() as client:
        make_endpoint(client, receiver.url("/hang"), app_uid="hang")
        ids = [publish(client, "hang", payload={"n": n}) for n in range(5)]
    wait_until(lambda: len(receiver.requests) >= 5, 10, "attempts in flight")

    signalled = time.monotonic()
    hl.send_signal(signal.SIGTERM)
    code = hl.wait(BOUNDED_WAIT + 5)
    stopped_in = time.monotonic() - signalled
    assert code == 0, hl.log_tail()
    assert stopped_in < BOUNDED_WAIT, f"took {stopped_in:.1f} s to stop"

    receiver.respond = lambda _r: Reply()
    hl.start()
    wait_until(lambda: {r.headers["webhook-id"] for r in receiver.requests[5:]} >= set(ids), 30, "retries")
    print(f"\n[{database_url.split(':')[0]} hanging] stopped in {stopped_in:.2f} s")


def _counts(requests: list[Received]) -> Counter[tuple[str, str]]:
    return Counter((r.path, r.headers.get("webhook-id", "")) for r in requests)
