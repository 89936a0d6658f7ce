"""Auto-disable, operational webhooks and encrypted secrets."""

import json
import time

import standardwebhooks
from sqlalchemy import select
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver, Reply, run, wait_until

from hookline.store import tables
from hookline.store.database import Database

OP_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _events(op: Receiver) -> list[dict]:
    for r in op.requests:
        standardwebhooks.Webhook(OP_SECRET).verify(r.body, r.headers)
    return [json.loads(r.body) for r in op.requests]


def test_endpoint_disabled_after_failing_for_the_window(hookline_factory, receiver: Receiver) -> None:
    op = Receiver()
    receiver.respond = lambda _r: Reply(status=500)
    try:
        with (
            hookline_factory(
                retry_schedule=(0.05,),
                disable_after_days=0.5 / 86400,
                operational_webhook_url=op.url("/ops"),
                operational_webhook_secret=OP_SECRET,
            ) as hl,
            hl.client() as c,
        ):
            _app, ep = make_endpoint(c, receiver.url())
            publish(c, "acme")
            receiver.wait_for(2)
            time.sleep(0.3)
            assert not c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["disabled"]
            time.sleep(0.4)
            publish(c, "acme")
            wait_until(lambda: c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["disabled"], 10, "auto-disable")
            wait_until(lambda: "endpoint.disabled" in [e["type"] for e in _events(op)], 10, "endpoint.disabled event")
    finally:
        op.close()
    events = _events(op)
    types = [e["type"] for e in events]
    assert "endpoint.created" in types
    assert types.count("message.attempt.exhausted") == 2
    disabled = next(e for e in events if e["type"] == "endpoint.disabled")
    assert disabled["data"]["endpointId"] == ep and disabled["data"]["appUid"] == "acme"


def test_a_success_resets_the_failure_window(hookline_factory, receiver: Receiver) -> None:
    replies = iter([500, 500, 200, 500, 500])
    receiver.respond = lambda _r: Reply(status=next(replies, 500))
    with hookline_factory(retry_schedule=(0.05,), disable_after_days=0.5 / 86400) as hl, hl.client() as c:
        _app, ep = make_endpoint(c, receiver.url())
        publish(c, "acme")
        receiver.wait_for(2)
        time.sleep(0.6)
        publish(c, "acme")  # succeeds: the failing run ends
        receiver.wait_for(3)
        publish(c, "acme")
        receiver.wait_for(5)
        time.sleep(0.3)
        assert not c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["disabled"]


def test_failing_and_recovered_operational_events(hookline_factory, receiver: Receiver) -> None:
    op = Receiver()
    replies = iter([500, 500, 500, 500, 200])
    receiver.respond = lambda _r: Reply(status=next(replies, 200))
    try:
        with (
            hookline_factory(
                retry_schedule=(0.05,) * 5, operational_webhook_url=op.url(), operational_webhook_secret=OP_SECRET
            ) as hl,
            hl.client() as c,
        ):
            make_endpoint(c, receiver.url())
            msg = publish(c, "acme", eventId="order-1")
            receiver.wait_for(5)
            wait_until(lambda: "message.attempt.recovered" in [e["type"] for e in _events(op)], 10, "recovered")
    finally:
        op.close()
    events = {e["type"]: e for e in _events(op)}
    assert events["message.attempt.failing"]["data"]["msgId"] == msg
    assert events["message.attempt.failing"]["data"]["msgEventId"] == "order-1"
    assert events["message.attempt.recovered"]["data"]["lastAttempt"]["responseStatusCode"] == 200


def test_secrets_are_encrypted_at_rest_with_a_main_secret(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(main_secret="correct horse battery staple") as hl, hl.client() as c:
        _app, ep = make_endpoint(c, receiver.url(), secret=OP_SECRET)
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"] == OP_SECRET
        publish(c, "acme")
        got = receiver.wait_for(1)[0]

        async def stored() -> str:
            db = Database(hl.settings.database_url)
            try:
                async with db.read() as conn:
                    query = select(tables.endpoint.c.secret).where(tables.endpoint.c.id == ep)
                    return str((await conn.execute(query)).scalar_one())
            finally:
                await db.close()

        raw = run(stored())
    assert raw.startswith("enc:v1:") and OP_SECRET not in raw
    standardwebhooks.Webhook(OP_SECRET).verify(got.body, got.headers)
