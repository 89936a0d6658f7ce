"""/api/v1/app/{app}/msg: publish, read by id or eventId, list with filters, expunge."""

import time

from svix.models import ListResponseMessageOut, MessageOut
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver


def test_publish_and_get(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        body = {"eventType": "invoice.paid", "eventId": "evt-1", "payload": {"amount": 42}, "channels": ["eu"]}
        created = c.post("/api/v1/app/acme/msg", json=body)
        assert created.status_code == 202, created.text
        msg = MessageOut.model_validate(created.json())
        assert msg.id.startswith("msg_")
        assert (msg.event_type, msg.event_id, msg.payload, msg.channels) == (
            "invoice.paid",
            "evt-1",
            {"amount": 42},
            ["eu"],
        )

        assert c.get(f"/api/v1/app/acme/msg/{msg.id}").json() == created.json()
        assert c.get("/api/v1/app/acme/msg/evt-1").json() == created.json()
        assert c.get("/api/v1/app/acme/msg/evt-1", params={"with_content": "false"}).json()["payload"] == {}

        duplicate = c.post("/api/v1/app/acme/msg", json={**body, "payload": {"other": True}})
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["code"] == "conflict"
        assert len(c.get("/api/v1/app/acme/msg").json()["data"]) == 1

        quiet = c.post(
            "/api/v1/app/acme/msg", params={"with_content": "false"}, json={"eventType": "a.b", "payload": {"x": 1}}
        )
        assert quiet.status_code == 202 and quiet.json()["payload"] == {}
        assert c.get(f"/api/v1/app/acme/msg/{quiet.json()['id']}").json()["payload"] == {"x": 1}

        assert c.get("/api/v1/app/acme/msg/msg_missing").status_code == 404
        # Accepted means stored with its deliveries: the receiver gets both.
        assert {r.headers["webhook-id"] for r in receiver.wait_for(2)} == {msg.id, quiet.json()["id"]}


def test_publish_can_create_the_application(hookline) -> None:
    with hookline.client() as c:
        body = {"eventType": "user.created", "payload": {}}
        missing = c.post("/api/v1/app/new-tenant/msg", json=body)
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"

        created = c.post("/api/v1/app/new-tenant/msg", json={**body, "application": {"name": "New Tenant"}})
        assert created.status_code == 202, created.text
        app = c.get("/api/v1/app/new-tenant").json()
        assert app["name"] == "New Tenant" and app["uid"] == "new-tenant"
        # Next time the application exists and is used as it is.
        again = c.post("/api/v1/app/new-tenant/msg", json={**body, "application": {"name": "Renamed"}})
        assert again.status_code == 202
        assert c.get("/api/v1/app/new-tenant").json()["name"] == "New Tenant"
        assert len(c.get("/api/v1/app").json()["data"]) == 1
        assert len(c.get("/api/v1/app/new-tenant/msg").json()["data"]) == 2


def test_list_filters(hookline) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        sent = []
        for event_type, channels in [
            ("invoice.paid", ["eu"]),
            ("invoice.paid", ["us", "eu_west"]),
            ("user.created", None),
            ("user.deleted", ["us"]),
        ]:
            fields = {"channels": channels} if channels else {}
            resp = c.post("/api/v1/app/acme/msg", json={"eventType": event_type, "payload": {}, **fields})
            sent.append(resp.json())
            time.sleep(0.005)  # distinct milliseconds, so before/after can tell them apart

        def ids(**params) -> list[str]:
            resp = c.get("/api/v1/app/acme/msg", params=params)
            assert resp.status_code == 200, resp.text
            return [m.id for m in ListResponseMessageOut.model_validate(resp.json()).data]

        a, b, d, e = (m["id"] for m in sent)
        assert ids() == [e, d, b, a]  # newest first
        assert ids(event_types="invoice.paid") == [b, a]
        assert ids(event_types="user.created,user.deleted") == [e, d]
        assert ids(event_types=["user.created", "invoice.paid"]) == [d, b, a]
        assert ids(channel="eu") == [a]  # exact channel, not a prefix or pattern
        assert ids(channel="eu_west") == [b]
        assert ids(channel="us") == [e, b]
        assert ids(channel="us", event_types="invoice.paid") == [b]
        assert ids(before=sent[2]["timestamp"]) == [b, a]
        assert ids(after=sent[1]["timestamp"]) == [e, d]
        assert ids(after=sent[0]["timestamp"], before=sent[3]["timestamp"]) == [d, b]
        # A time without a zone is UTC.
        assert ids(before=sent[2]["timestamp"].rstrip("Z")) == [b, a]
        assert ids(before="2000-01-01T00:00:00Z") == []
        assert ids(after="2000-01-01T00:00:00Z") == [e, d, b, a]
        assert ids(before="0001-01-01T00:00:00Z") == []
        assert ids(with_content="false", limit=1) == [e]


def test_expunge_content(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        msg_id = publish(c, "acme", payload={"card": "4242"}, eventId="order-9")
        receiver.wait_for(1)
        expunged = c.delete(f"/api/v1/app/acme/msg/{msg_id}/content")
        assert expunged.status_code == 204 and expunged.content == b""
        msg = c.get("/api/v1/app/acme/msg/order-9").json()
        assert msg["payload"] == {} and msg["eventType"] == "test.event"
        assert "4242" not in c.get("/api/v1/app/acme/msg").text
        assert c.delete("/api/v1/app/acme/msg/msg_missing/content").status_code == 404
