"""Every field the svix SDK sends on these calls takes effect, or is refused with a 4xx naming it.

Endpoint upsert, scheduled messages (``deliverAt``), tags, and the options that used to be
accepted and ignored (issue 15), against a real server on SQLite and PostgreSQL.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    ApplicationListOptions,
    BulkExpungeContentsIn,
    BulkReplayIn,
    EndpointGetAttemptStatsOptions,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointUpsertIn,
    EventExampleIn,
    EventTypeIn,
    EventTypePatch,
    MessageAttemptListByEndpointOptions,
    MessageAttemptListByMsgOptions,
    MessageIn,
    MessageListOptions,
    MessagePrecheckIn,
)
from svix.exceptions import HTTPValidationError
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, wait_until

from hookline.store import tables
from hookline.store.database import Database

WAIT = 60.0  # generous: the machine is shared


def _sdk(url: str) -> Svix:
    return Svix(ADMIN_TOKEN, SvixOptions(server_url=url))


def _names_field(r: httpx.Response, field: str) -> bool:
    return r.status_code in (400, 422) and field in r.text


def _stored_message(database_url: str, msg_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                row = (await conn.execute(select(tables.message).where(tables.message.c.id == msg_id))).mappings().one()
                return dict(row)
        finally:
            await db.close()

    return asyncio.run(read())


def test_endpoint_upsert_creates_then_updates(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    created = svix.endpoint.upsert(app.id, "billing", EndpointUpsertIn(url=receiver.url(), description="first"))
    assert created.uid == "billing" and created.id.startswith("ep_")
    assert svix.endpoint.get_secret(app.id, "billing").key.startswith("whsec_")
    updated = svix.endpoint.upsert(app.id, "billing", EndpointUpsertIn(url=receiver.url("/two"), description="second"))
    assert updated.id == created.id and updated.uid == "billing" and updated.description == "second"
    by_id = svix.endpoint.upsert(app.id, created.id, EndpointUpsertIn(url=receiver.url("/three")))
    assert by_id.id == created.id and by_id.url.endswith("/three")
    assert len(svix.endpoint.list(app.id).data) == 1

    client = hookline.client()
    r = client.put(f"/api/v1/app/{app.id}/endpoint/shipping", json={"url": receiver.url()})
    assert r.status_code == 201 and r.json()["uid"] == "shipping"
    assert client.put(f"/api/v1/app/{app.id}/endpoint/shipping", json={"url": receiver.url()}).status_code == 200
    # Creating under one uid while the body names another is refused, naming uid.
    r = client.put(f"/api/v1/app/{app.id}/endpoint/other", json={"url": receiver.url(), "uid": "else"})
    assert r.status_code == 409 and "uid" in r.text
    # Another application's token cannot create in this one.
    other = client.post("/api/v1/app", json={"name": "Other"}).json()
    token = client.post(f"/api/v1/auth/app-portal-access/{other['id']}", json={}).json()["token"]
    r = hookline.client(token).put(f"/api/v1/app/{app.id}/endpoint/intruder", json={"url": receiver.url()})
    assert r.status_code in (403, 404)


def test_deliver_at_holds_the_message_and_is_shown(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    app = svix.application.create(ApplicationIn(name="Acme"))
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url()))
    at = datetime.now(UTC) + timedelta(seconds=3)
    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"n": 1}, deliver_at=at))
    assert msg.deliver_at is not None and abs((msg.deliver_at - at).total_seconds()) < 0.01
    assert svix.message.get(app.id, msg.id).deliver_at == msg.deliver_at
    got = receiver.wait_for(1, timeout=WAIT)[0]
    # Signed when sent: never before the time asked for.
    assert int(got.headers["webhook-timestamp"]) >= int(at.timestamp())

    client = hookline.client()
    far = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    r = client.post(f"/api/v1/app/{app.id}/msg", json={"eventType": "a", "payload": {}, "deliverAt": far})
    assert _names_field(r, "deliverAt")
    # A time already past is delivered at once.
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = client.post(f"/api/v1/app/{app.id}/msg", json={"eventType": "a", "payload": {}, "deliverAt": past})
    assert r.status_code == 202 and r.json()["deliverAt"] is None
    receiver.wait_for(2, timeout=WAIT)


def test_deliver_at_survives_a_restart(hookline_factory, receiver: Receiver) -> None:
    at = datetime.now(UTC) + timedelta(seconds=4)
    with hookline_factory(run_engine=False) as first:
        svix = _sdk(first.url)
        app = svix.application.create(ApplicationIn(name="Acme"))
        svix.endpoint.create(app.id, EndpointIn(url=receiver.url()))
        msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"n": 1}, deliver_at=at))
    with hookline_factory() as second:
        got = receiver.wait_for(1, timeout=WAIT)[0]
        assert got.headers["webhook-id"] == msg.id
        assert int(got.headers["webhook-timestamp"]) >= int(at.timestamp())
        assert _sdk(second.url).message.get(app.id, msg.id).deliver_at == msg.deliver_at


def test_tags_are_stored_returned_and_filtered(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    app = svix.application.create(ApplicationIn(name="Acme"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url()))
    tagged = svix.message.create(app.id, MessageIn(event_type="a", payload={}, tags=["project_1", "eu/west"]))
    plain = svix.message.create(app.id, MessageIn(event_type="a", payload={}))
    other = svix.message.create(app.id, MessageIn(event_type="a", payload={}, tags=["projectX1"]))
    assert tagged.tags == ["project_1", "eu/west"]
    assert svix.message.get(app.id, tagged.id).tags == ["project_1", "eu/west"]
    assert plain.tags is None
    assert [m.id for m in svix.message.list(app.id, MessageListOptions(tag="project_1")).data] == [tagged.id]
    assert [m.id for m in svix.message.list(app.id, MessageListOptions(tag="eu/west")).data] == [tagged.id]
    assert len(svix.message.list(app.id).data) == 3
    receiver.wait_for(3, timeout=WAIT)

    def attempts() -> list[Any]:
        opts = MessageAttemptListByEndpointOptions(tag="projectX1")
        return svix.message_attempt.list_by_endpoint(app.id, ep.id, opts).data

    listed = wait_until(attempts, WAIT)
    assert {a.msg_id for a in listed} == {other.id}
    by_msg = svix.message_attempt.list_by_msg(app.id, tagged.id, MessageAttemptListByMsgOptions(tag="projectX1"))
    assert by_msg.data == []

    # Bulk replay by tag sends only the tagged message again.
    since = datetime.now(UTC) - timedelta(hours=1)
    task = svix.endpoint.bulk_replay(app.id, ep.id, BulkReplayIn(since=since, tag="project_1"))
    wait_until(lambda: svix.background_task.get(task.id).status == "finished", WAIT)
    fourth = receiver.wait_for(4, timeout=WAIT)[3]
    assert fourth.headers["webhook-id"] == tagged.id

    # Polling consumers see the tags too.
    polled = wait_until(lambda: [m for m in svix.message.poller.poll(app.id, ep.id).data if m.id == tagged.id], WAIT)
    assert polled[0].tags == ["project_1", "eu/west"]

    client = hookline.client()
    r = client.post(f"/api/v1/app/{app.id}/msg", json={"eventType": "a", "payload": {}, "tags": ["no spaces"]})
    assert _names_field(r, "tags")


def test_options_that_were_ignored_now_take_effect(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    client = hookline.client()
    app = svix.application.create(ApplicationIn(name="Acme"))
    empty = svix.application.create(ApplicationIn(name="Empty"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url()))

    # exclude_apps_with_no_endpoints (and the disabled / play variants)
    listed = svix.application.list(ApplicationListOptions(exclude_apps_with_no_endpoints=True)).data
    assert [a.id for a in listed] == [app.id]
    assert {a.id for a in svix.application.list().data} == {app.id, empty.id}
    off = svix.application.create(ApplicationIn(name="Off"))
    svix.endpoint.create(off.id, EndpointIn(url=receiver.url(), disabled=True))
    kept = svix.application.list(ApplicationListOptions(exclude_apps_with_disabled_endpoints=True)).data
    assert off.id not in {a.id for a in kept} and app.id in {a.id for a in kept}

    # deleteHeaders
    svix.endpoint.set_headers(app.id, ep.id, EndpointHeadersIn(headers={"X-A": "1", "X-B": "2"}))
    svix.endpoint.patch_headers(app.id, ep.id, EndpointHeadersPatchIn(headers={"X-C": "3"}, delete_headers=["x-a"]))
    assert svix.endpoint.get_headers(app.id, ep.id).headers == {"X-B": "2", "X-C": "3"}

    # send-example: payload, exampleIndex
    schema = {"type": "object", "examples": [{"first": 1}, {"second": 2}]}
    svix.event_type.create(EventTypeIn(name="user.created", description="d", schemas={"1": schema}))
    svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="user.created", payload={"mine": True}))
    svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="user.created", example_index=1))
    got = receiver.wait_for(2, timeout=WAIT)
    assert sorted(r.body for r in got) == [b'{"mine":true}', b'{"second":2}']
    with pytest.raises(HTTPValidationError) as err:
        svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="user.created", example_index=5))
    assert err.value.detail[0].loc == ["body", "exampleIndex"]

    # with_msg, expanded_statuses
    msg = svix.message.create(app.id, MessageIn(event_type="user.created", payload={"x": 1}, tags=["t"]))
    receiver.wait_for(3, timeout=WAIT)

    def with_msg() -> list[Any]:
        opts = MessageAttemptListByEndpointOptions(with_msg=True, with_content=True, expanded_statuses=True)
        return [a for a in svix.message_attempt.list_by_endpoint(app.id, ep.id, opts).data if a.msg_id == msg.id]

    attempt = wait_until(with_msg, WAIT)[0]
    assert attempt.msg is not None and attempt.msg.id == msg.id and attempt.msg.payload == {"x": 1}
    assert attempt.msg.tags == ["t"]
    plain = svix.message_attempt.list_by_endpoint(app.id, ep.id, MessageAttemptListByEndpointOptions()).data
    assert all(a.msg is None for a in plain)

    # payloadRetentionHours: the payload is kept that long (and no longer)
    kept_msg = svix.message.create(app.id, MessageIn(event_type="a", payload={}, payload_retention_hours=2))
    row = _stored_message(hookline.settings.database_url, kept_msg.id)
    assert row["payload_expires_at"] - row["created_at"] == 2 * 3_600_000

    # bulk replay: statusCodeClass refused, naming it
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = client.post(f"/api/v1/app/{app.id}/endpoint/{ep.id}/bulk-replay", json={"since": since, "statusCodeClass": 200})
    assert _names_field(r, "statusCodeClass")

    # event types: featureFlags (one) is the feature flag; groupName is refused
    created = svix.event_type.create(EventTypeIn(name="beta.thing", description="d", feature_flags=["beta"]))
    assert created.feature_flags == ["beta"]
    assert client.get("/api/v1/event-type/beta.thing").json()["featureFlag"] == "beta"
    patched = svix.event_type.patch("beta.thing", EventTypePatch(feature_flags=[]))
    assert not patched.feature_flags
    with pytest.raises(HTTPValidationError):
        svix.event_type.create(EventTypeIn(name="g", description="d", group_name="billing"))
    r = client.post("/api/v1/event-type", json={"name": "g", "description": "d", "groupName": "billing"})
    assert _names_field(r, "groupName")
    r = client.post("/api/v1/event-type", json={"name": "g", "description": "d", "featureFlags": ["a", "b"]})
    assert _names_field(r, "featureFlags")


def test_precheck_bulk_expunge_and_attempt_stats(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    app = svix.application.create(ApplicationIn(name="Acme"))
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b")).active
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url(), event_types=["a.b"], channels=["eu"]))
    assert svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b", channels=["eu"])).active
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b", channels=["us"])).active
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="c.d", channels=["eu"])).active

    receiver.respond = lambda r: Reply(status=500) if b'"n":2' in r.body else Reply()
    first = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 1}, channels=["eu"], event_id="e1"))
    second = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 2}, channels=["eu"]))
    receiver.wait_for(2, timeout=WAIT)

    def stats() -> Any:
        s = svix.endpoint.get_attempt_stats(app.id, ep.id)
        return s if s.success >= 1 and s.fail >= 1 else None

    got = wait_until(stats, WAIT)
    assert got.canceled == 0
    later = datetime.now(UTC) + timedelta(days=1)
    none = svix.endpoint.get_attempt_stats(app.id, ep.id, EndpointGetAttemptStatsOptions(since=later))
    assert (none.success, none.fail) == (0, 0)

    result = svix.message.bulk_expunge_content(app.id, BulkExpungeContentsIn(ids=["e1", second.id, "msg_nope"]))
    assert {k: str(v) for k, v in result.results.items()} == {
        "e1": "expunged",
        second.id: "expunged",
        "msg_nope": "not-found",
    }
    assert svix.message.get(app.id, first.id).payload == {}
