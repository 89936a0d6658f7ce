"""The engine refuses private addresses unless the operator allows them."""

from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver


def test_loopback_refused_by_default_and_recorded(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(allowed_cidrs=(), retry_schedule=(30,)) as hl, hl.client() as c:
        _app, ep = make_endpoint(c, receiver.url())
        make_endpoint(c, f"http://localhost:{receiver.port}/x")
        make_endpoint(c, f"http://[::ffff:127.0.0.1]:{receiver.port}/x")
        make_endpoint(c, "http://169.254.169.254/latest/meta-data")
        make_endpoint(c, "http://10.0.0.1/hook")
        publish(c, "acme")
        found = wait_attempts(c, "acme", ep, 1)
        others = [
            a for e in c.get("/api/v1/app/acme/endpoint").json()["data"] for a in wait_attempts(c, "acme", e["id"], 1)
        ]
    assert found[0]["responseStatusCode"] == 0
    assert "blocked" in found[0]["error"]
    assert len(others) == 5
    assert all(a["responseStatusCode"] == 0 and "blocked" in a["error"] for a in others)
    assert receiver.requests == []


def test_allowed_cidrs_open_a_range(hookline_factory, receiver: Receiver) -> None:
    import ipaddress

    with hookline_factory(allowed_cidrs=(ipaddress.ip_network("127.0.0.1/32"),)) as hl, hl.client() as c:
        make_endpoint(c, receiver.url())
        publish(c, "acme")
        receiver.wait_for(1)
