"""Prometheus metrics and the health check, against the real server."""

import re

import httpx
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver, Reply, wait_until


def _metric(text: str, name: str) -> float:
    """The value of a sample; 0 for a labelled counter that has not counted yet."""
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_what_happens(hookline_factory, receiver: Receiver) -> None:
    replies = iter([Reply(status=500), Reply(), Reply(status=410)])
    receiver.respond = lambda _r: next(replies, Reply())
    with hookline_factory(retry_schedule=(0.1,)) as hl, hl.client() as c:
        before = c.get("/metrics").text
        make_endpoint(c, receiver.url())
        publish(c, "acme")
        receiver.wait_for(2)
        publish(c, "acme")
        receiver.wait_for(3)

        def grew(name: str) -> float:
            return _metric(c.get("/metrics").text, name) - _metric(before, name)

        # Counters are per process and tests share one: compare against the start.
        wait_until(lambda: grew("hookline_endpoints_disabled_total") == 1, 10, "the 410 to disable the endpoint")
        text = c.get("/metrics").text
        with httpx.Client(base_url=hl.url, timeout=30) as anonymous:
            assert anonymous.get("/metrics").status_code == 401
        assert grew("hookline_messages_accepted_total") == 2
        assert grew('hookline_deliveries_total{outcome="success"}') == 1
        assert grew('hookline_deliveries_total{outcome="failure"}') == 1
        assert grew('hookline_deliveries_total{outcome="exhausted"}') == 1
        assert grew("hookline_attempt_duration_seconds_count") == 3
    assert "hookline_backlog " in text and "hookline_oldest_due_age_seconds " in text


def test_backlog_gauge_and_health_report_waiting_work(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(run_engine=False) as hl, hl.client() as c:
        make_endpoint(c, receiver.url())
        for _ in range(3):
            publish(c, "acme")
        assert _metric(c.get("/metrics").text, "hookline_backlog") == 3
        health = c.get("/api/v1/health")
        assert health.status_code == 200
        assert health.json()["backlog"] == 3 and health.json()["database"] == "ok"


def test_health_reports_the_engine(hookline) -> None:
    with hookline.client() as c:
        body = c.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["engine"]["running"] is True and body["engine"]["status"] == "ok"
