"""Endpoints that can never work are accepted, with a warning that names what to change;
a request the SSRF guard refuses fails at once instead of running the retry schedule."""

import time

from click.testing import CliRunner
from tests.support.api import delivery_status, make_endpoint, publish, wait_attempts
from tests.support.servers import ADMIN_TOKEN, Receiver

from hookline.cli import main
from hookline.domain.retry import plan_after_attempt


def test_a_blocked_attempt_is_final() -> None:
    assert plan_after_attempt(0, 1, (1.0, 1.0), None, 0).next_attempt_at is not None
    blocked = plan_after_attempt(0, 1, (1.0, 1.0), None, 0, blocked=True)
    assert (blocked.succeeded, blocked.next_attempt_at, blocked.disable_endpoint) == (False, None, False)


def test_create_and_change_warn_about_endpoints_that_cannot_work(hookline_factory) -> None:
    with hookline_factory(allowed_cidrs=()) as hl, hl.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        c.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "x"})
        created = c.post(
            "/api/v1/app/acme/endpoint",
            json={"url": "http://127.0.0.1:9/hook", "eventTypes": ["invoice.paid", "invoice.payd"]},
        )
        assert created.status_code == 201, created.text
        url_warning, type_warning = created.json()["warnings"]
        assert (
            url_warning.startswith("url: 127.0.0.1 is a loopback address") and "HOOKLINE_ALLOWED_CIDRS" in url_warning
        )
        assert type_warning.startswith("eventTypes: invoice.payd not in the event type catalogue")
        ep = created.json()["id"]
        fine = c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"url": "https://example.com/h", "eventTypes": None})
        assert fine.json()["warnings"] == []
        assert "warnings" not in c.get(f"/api/v1/app/acme/endpoint/{ep}").json()
        for url in ("http://localhost:8000/x", "http://[::ffff:10.0.0.1]/x", "http://169.254.169.254/"):
            put = c.put(f"/api/v1/app/acme/endpoint/{ep}", json={"url": url})
            assert put.status_code == 200 and put.json()["warnings"][0].startswith("url: "), (url, put.text)
    # Allowed ranges are not warned about.
    with hookline_factory() as hl, hl.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        created = c.post("/api/v1/app/acme/endpoint", json={"url": "http://127.0.0.1:9/hook"})
        assert created.json()["warnings"] == []


def test_blocked_address_fails_without_retries(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(allowed_cidrs=(), retry_schedule=(0.05, 0.05, 0.05)) as hl, hl.client() as c:
        _app, ep = make_endpoint(c, f"http://127.0.0.1:{receiver.port}/x")
        msg = publish(c, "acme")
        wait_attempts(c, "acme", ep, 1)
        time.sleep(0.5)  # long enough for the whole schedule, had it been retried
        assert len(wait_attempts(c, "acme", ep, 1)) == 1
        assert [d["status"] for d in delivery_status(c, "acme", msg)] == [2]
    assert receiver.requests == []


def test_cli_prints_the_warning_on_stderr(hookline_factory) -> None:
    with hookline_factory(allowed_cidrs=()) as hl, hl.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        env = {"HOOKLINE_URL": hl.url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
        result = CliRunner().invoke(main, ["endpoint", "create", "acme", "http://10.1.2.3/hook"], env=env)
    assert result.exit_code == 0, result.output
    assert "warning: url: 10.1.2.3 is a private (RFC 1918) address" in result.stderr
    assert "HOOKLINE_ALLOWED_CIDRS" in result.stderr
