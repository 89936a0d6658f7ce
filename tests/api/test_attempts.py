"""Attempt logs (by endpoint, by message, one), and delivery status per message and per endpoint."""

import httpx
from svix.models import (
    ListResponseEndpointMessageOut,
    ListResponseMessageAttemptOut,
    ListResponseMessageEndpointOut,
    MessageAttemptOut,
)
from tests.support.api import delivery_status, publish
from tests.support.servers import ADMIN_TOKEN, Received, Receiver, Reply, wait_until


def _destinations(c: httpx.Client, msg_id: str) -> dict[str, dict]:
    resp = c.get(f"/api/v1/app/acme/msg/{msg_id}/endpoint")
    assert resp.status_code == 200, resp.text
    ListResponseMessageEndpointOut.model_validate(resp.json())
    return {e["id"]: e for e in resp.json()["data"]}


def _attempts(c: httpx.Client, path: str, **params) -> list[dict]:
    resp = c.get(f"/api/v1/app/acme/attempt/{path}", params=params)
    assert resp.status_code == 200, resp.text
    ListResponseMessageAttemptOut.model_validate(resp.json())
    return list(resp.json()["data"])


def test_attempts_and_delivery_status(hookline_factory, receiver: Receiver) -> None:
    seen_in_flight: list[dict] = []

    def respond(request: Received) -> Reply:
        if request.path == "/ok":
            # Asked while hookline waits for this very answer: the delivery is "sending".
            with httpx.Client(base_url=hl.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
                seen_in_flight.append(_destinations(c, request.headers["webhook-id"]))
            return Reply(200, b'{"ok": true}')
        return Reply(500, b"broken")

    receiver.respond = respond
    with hookline_factory(retry_schedule=(1.5,)) as hl, hl.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        ok = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url("/ok")}).json()["id"]
        bad = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url("/bad")}).json()["id"]
        msg = publish(c, "acme", "invoice.paid", payload={"n": 1}, channels=["eu"])

        # After the first failure: pending, with the next attempt scheduled.
        wait_until(lambda: _attempts(c, f"endpoint/{bad}"), what="the first attempt at the failing endpoint")
        pending = _destinations(c, msg)[bad]
        assert (pending["status"], pending["statusText"]) == (1, "pending")
        assert pending["nextAttempt"] is not None

        # The retry fails too, and the schedule is exhausted: fail.
        wait_until(lambda: _destinations(c, msg)[bad]["status"] == 2, what="the delivery to fail")
        destinations = _destinations(c, msg)
        assert (destinations[ok]["status"], destinations[ok]["statusText"]) == (0, "success")
        assert (destinations[bad]["statusText"], destinations[bad]["nextAttempt"]) == ("fail", None)
        assert destinations[ok]["url"] == receiver.url("/ok")
        assert seen_in_flight[0][ok]["status"] == 3 and seen_in_flight[0][ok]["statusText"] == "sending"

        good = _attempts(c, f"endpoint/{ok}")
        assert len(good) == 1
        attempt = MessageAttemptOut.model_validate(good[0])
        assert attempt.id.startswith("atmpt_")
        assert (attempt.msg_id, attempt.endpoint_id, attempt.url) == (msg, ok, receiver.url("/ok"))
        assert (attempt.status, attempt.response_status_code, attempt.trigger_type) == (0, 200, 0)
        assert good[0]["statusText"] == "success" and good[0]["response"] == '{"ok": true}'

        failed = _attempts(c, f"endpoint/{bad}")
        assert [(a["status"], a["responseStatusCode"], a["response"]) for a in failed] == [(2, 500, "broken")] * 2
        assert failed[0]["id"] > failed[1]["id"]  # newest first
        assert _attempts(c, f"endpoint/{bad}", status=0) == []
        assert len(_attempts(c, f"endpoint/{bad}", status=2)) == 2
        assert len(_attempts(c, f"endpoint/{bad}", status_code_class=500)) == 2
        assert _attempts(c, f"endpoint/{bad}", status_code_class=200) == []
        assert len(_attempts(c, f"endpoint/{bad}", channel="eu", event_types="invoice.paid")) == 2
        assert _attempts(c, f"endpoint/{bad}", event_types="other.type") == []

        by_msg = _attempts(c, f"msg/{msg}")
        assert sorted(a["id"] for a in by_msg) == sorted([good[0]["id"], *(a["id"] for a in failed)])
        assert [a["id"] for a in _attempts(c, f"msg/{msg}", endpoint_id=ok)] == [good[0]["id"]]
        assert [a["id"] for a in _attempts(c, f"msg/{msg}", status=0)] == [good[0]["id"]]
        assert len(_attempts(c, f"msg/{msg}", limit=1)) == 1

        one = c.get(f"/api/v1/app/acme/msg/{msg}/attempt/{good[0]['id']}")
        assert one.status_code == 200 and one.json() == good[0]
        assert c.get(f"/api/v1/app/acme/msg/{msg}/attempt/atmpt_missing").status_code == 404
        other_msg = publish(c, "acme", "other.type")  # delivered to both endpoints meanwhile
        other_time = c.get(f"/api/v1/app/acme/msg/{other_msg}").json()["timestamp"]
        assert c.get(f"/api/v1/app/acme/msg/{other_msg}/attempt/{good[0]['id']}").status_code == 404

        per_endpoint = c.get(f"/api/v1/app/acme/endpoint/{bad}/msg", params={"event_types": "invoice.paid"})
        assert per_endpoint.status_code == 200, per_endpoint.text
        page = ListResponseEndpointMessageOut.model_validate(per_endpoint.json())
        assert [(m.id, m.status, m.payload) for m in page.data] == [(msg, 2, {"n": 1})]
        assert per_endpoint.json()["data"][0]["statusText"] == "fail"
        assert c.get(f"/api/v1/app/acme/endpoint/{ok}/msg", params={"status": 2}).json()["data"] == []
        listed = c.get(
            f"/api/v1/app/acme/endpoint/{ok}/msg", params={"with_content": "false", "status": 0, "before": other_time}
        )
        assert [(m["id"], m["payload"]) for m in listed.json()["data"]] == [(msg, {})]

        expunged = c.delete(f"/api/v1/app/acme/msg/{msg}/attempt/{failed[0]['id']}/content")
        assert expunged.status_code == 204
        assert c.get(f"/api/v1/app/acme/msg/{msg}/attempt/{failed[0]['id']}").json()["response"] == ""


def test_resend_is_a_manual_attempt(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url()}).json()["id"]
        msg = publish(c, "acme")
        receiver.wait_for(1)
        resent = c.post(f"/api/v1/app/acme/msg/{msg}/endpoint/{ep}/resend")
        assert resent.status_code == 202, resent.text
        assert [r.headers["webhook-id"] for r in receiver.wait_for(2)] == [msg, msg]
        manual = wait_until(lambda: [a for a in _attempts(c, f"endpoint/{ep}") if a["triggerType"] == 1])
        assert manual[0]["status"] == 0
        assert c.post(f"/api/v1/app/acme/msg/msg_missing/endpoint/{ep}/resend").status_code == 404
        assert c.post(f"/api/v1/app/acme/msg/{msg}/endpoint/ep_missing/resend").status_code == 404


def test_sending_to_a_disabled_endpoint_is_refused_and_keeps_its_status(hookline, receiver: Receiver) -> None:
    """A resend, send-example, recover, replay or bulk replay to a disabled endpoint would send
    nothing and mark a delivered message failed: each is a 409 saying to enable it first."""
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url(), "uid": "main"}).json()["id"]
        msg = publish(c, "acme")
        receiver.wait_for(1)
        wait_until(lambda: delivery_status(c, "acme", msg)[0]["statusText"] == "success")
        assert c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"disabled": True}).status_code == 200
        since = {"since": "2020-01-01T00:00:00Z"}
        refused = [
            c.post(f"/api/v1/app/acme/msg/{msg}/endpoint/{ep}/resend"),
            c.post(f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "test.event"}),
            c.post(f"/api/v1/app/acme/endpoint/{ep}/recover", json=since),
            c.post(f"/api/v1/app/acme/endpoint/{ep}/replay-missing", json=since),
            c.post(f"/api/v1/app/acme/endpoint/{ep}/bulk-replay", json=since),
        ]
        for answer in refused:
            assert answer.status_code == 409, answer.text
            assert answer.json()["detail"] == "endpoint main is disabled: enable it first"
        assert delivery_status(c, "acme", msg)[0]["statusText"] == "success"
        c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"disabled": False})
        assert c.post(f"/api/v1/app/acme/msg/{msg}/endpoint/{ep}/resend").status_code == 202
        assert [r.headers["webhook-id"] for r in receiver.wait_for(2)] == [msg, msg]


def test_attempts_show_the_headers_they_were_sent_with(hookline, receiver) -> None:
    """hookline's requestHeaders: what the receiver got, with credentials redacted."""
    from tests.support.api import make_endpoint, publish, wait_attempts

    with hookline.client() as c:
        headers = {"Authorization": "Bearer s3cret", "X-Team": "crm", "X-Auth-Token": "t0ken", "Api-Secret": "s"}
        app, ep = make_endpoint(c, receiver.url(), headers=headers)
        msg = publish(c, app)
        [attempt] = wait_attempts(c, app, ep, 1)
        sent = attempt["requestHeaders"]
        [got] = receiver.wait_for(1)
        assert sent["webhook-signature"] == got.headers["webhook-signature"]
        assert sent["webhook-id"] == msg and sent["X-Team"] == "crm"
        assert sent["Authorization"] == "[redacted]" and got.headers["authorization"] == "Bearer s3cret"
        # Names that say they carry a credential are hidden too, and sent as set.
        assert sent["X-Auth-Token"] == sent["Api-Secret"] == "[redacted]"
        assert got.headers["x-auth-token"] == "t0ken" and got.headers["api-secret"] == "s"
        shown = c.get(f"/api/v1/app/{app}/endpoint/{ep}/headers").json()
        assert shown["headers"] == {"X-Team": "crm"}
        assert sorted(shown["sensitive"]) == ["Api-Secret", "Authorization", "X-Auth-Token"]
