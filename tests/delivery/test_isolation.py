"""One bad endpoint cannot hurt the others; throttles and per-endpoint caps hold."""

import threading
import time

from tests.support.api import make_endpoint, publish
from tests.support.servers import Received, Receiver, Reply


def test_hanging_endpoints_do_not_delay_a_healthy_one(hookline_factory, receiver: Receiver) -> None:
    """Three endpoints that never answer (until the test lets them) hold their attempts for the
    whole request timeout; every delivery to the healthy endpoint must arrive meanwhile. Were the
    healthy one queued behind them, nothing would reach it before those attempts timed out."""
    healthy = Receiver()
    release = threading.Event()
    hanging_answered: list[str] = []

    def hang(request: Received) -> Reply:
        release.wait(60)
        hanging_answered.append(request.path)
        return Reply()

    receiver.respond = hang
    try:
        with (
            hookline_factory(request_timeout=30.0, lease_seconds=40.0, retry_schedule=(60,)) as hl,
            hl.client() as c,
        ):
            for n in range(3):
                make_endpoint(c, receiver.url(f"/hang{n}"))
            make_endpoint(c, healthy.url("/ok"))
            for _ in range(300):
                publish(c, "acme")
            arrivals = healthy.wait_for(300, timeout=25)  # shorter than the hanging attempts' 30 s
            assert hanging_answered == [] and len(receiver.requests) > 0  # they were still hanging
            release.set()
    finally:
        release.set()
        healthy.close()
    assert len({r.headers["webhook-id"] for r in arrivals}) == 300


def test_endpoint_throttle_rate_is_enforced(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url(), throttleRate=5)
        for _ in range(30):
            publish(c, "acme")
        got = receiver.wait_for(30, timeout=20)
    times = sorted(r.at for r in got)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 5.5, f"{rate:.2f}/s"
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 6
    assert len({r.headers["webhook-id"] for r in got}) == 30  # throttled, never failed


def test_application_throttle_rate_spans_its_endpoints(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "slow", "uid": "slow", "throttleRate": 4})
        make_endpoint(c, receiver.url("/a"), app_uid="slow")
        make_endpoint(c, receiver.url("/b"), app_uid="slow")
        for _ in range(6):
            publish(c, "slow")
        got = receiver.wait_for(12, timeout=20)
    times = sorted(r.at for r in got)
    assert (len(times) - 1) / (times[-1] - times[0]) <= 4.5


def test_per_endpoint_concurrency_cap(hookline_factory, receiver: Receiver) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow(_r: object) -> Reply:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.3)
        with lock:
            active -= 1
        return Reply()

    receiver.respond = slow
    with hookline_factory(endpoint_concurrency=3) as hl, hl.client() as c:
        make_endpoint(c, receiver.url())
        for _ in range(12):
            publish(c, "acme")
        receiver.wait_for(12, timeout=20)
    assert peak == 3
