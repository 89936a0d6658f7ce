"""Recover failed deliveries and replay missing ones, through background tasks."""

from datetime import UTC, datetime, timedelta

from svix import Svix, SvixOptions
from svix.api import RecoverIn, ReplayIn
from tests.support.api import attempts, delivery_status, make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, wait_until

HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _finished(c, task_id: str) -> dict:
    # 30 s, over the test servers' 10 s job lease: in a loaded CI run a first batch once outlived
    # its lease ("job taken over"), and the same process's runner finished the job after it.
    return wait_until(
        lambda: (t := c.get(f"/api/v1/background-task/{task_id}").json())["status"] != "running" and t,
        30,
        "the task to finish",
    )


def _state(c, msg_id: str) -> str:
    return str(delivery_status(c, "acme", msg_id)[0]["statusText"])


def test_recover_resends_failed_deliveries_as_manual_attempts(hookline_factory, receiver: Receiver) -> None:
    receiver.respond = lambda _r: Reply(status=500)
    with hookline_factory(retry_schedule=(0.05,)) as hl, hl.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        ids = [publish(c, "acme") for _ in range(3)]
        wait_until(lambda: all(delivery_status(c, "acme", m)[0]["statusText"] == "fail" for m in ids), 10, "failures")
        receiver.respond = lambda _r: Reply(status=200)
        started = c.post(f"/api/v1/app/acme/endpoint/{ep}/recover", json={"since": HOUR_AGO})
        assert started.status_code == 202 and started.json()["task"] == "endpoint.recover"
        task = _finished(c, started.json()["id"])
        assert task["status"] == "finished" and task["data"] == {"done": 3, "total": 3}
        try:
            wait_until(lambda: all(_state(c, m) == "success" for m in ids), 10, "success")
        except AssertionError:
            # Failed once in a loaded full run, and never since: say what each delivery did.
            states = {m: _state(c, m) for m in ids}
            tried = attempts(c, "acme", ep)
            made = [(a["msgId"], a["status"], a["responseStatusCode"], a["triggerType"]) for a in tried]
            raise AssertionError(f"not all recovered: {states}; attempts, newest first: {made}") from None
        manual = [a for a in attempts(c, "acme", ep) if a["triggerType"] == 1]
    assert sorted(a["msgId"] for a in manual) == sorted(ids)
    # Nothing failed any more: a second recover has nothing to do.


def test_replay_missing_sends_what_a_disabled_endpoint_never_got(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url(), disabled=True, eventTypes=["user.created"])
        wanted = [publish(c, "acme", "user.created") for _ in range(3)]
        publish(c, "acme", "user.deleted")  # not for this endpoint
        c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"disabled": False})
        started = c.post(f"/api/v1/app/acme/endpoint/{ep}/replay-missing", json={"since": HOUR_AGO}).json()
        assert _finished(c, started["id"])["data"] == {"done": 3, "total": 3}
        got = receiver.wait_for(3)
        again = c.post(f"/api/v1/app/acme/endpoint/{ep}/replay-missing", json={"since": HOUR_AGO}).json()
        assert _finished(c, again["id"])["data"] == {"done": 0, "total": 0}
    assert sorted(r.headers["webhook-id"] for r in got) == sorted(wanted)


def test_replay_missing_sends_only_what_the_payload_filter_takes(hookline, receiver: Receiver) -> None:
    """What it "missed" is what it would have received: its payload filter applies too."""
    big_orders = {"eventType": {"$startsWith": "order."}, "payload": {"amount": {"$gte": 1000}}}
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url(), disabled=True, filter=big_orders)
        wanted = [publish(c, "acme", "order.created", payload={"amount": 1500})]
        publish(c, "acme", "order.created", payload={"amount": 10})
        publish(c, "acme", "user.signup", payload={"user": "u1"})
        wanted.append(publish(c, "acme", "order.paid", payload={"amount": 2000}))
        c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"disabled": False})
        started = c.post(f"/api/v1/app/acme/endpoint/{ep}/replay-missing", json={"since": HOUR_AGO}).json()
        assert _finished(c, started["id"])["data"] == {"done": 2, "total": 2}
        got = receiver.wait_for(2)
        again = c.post(f"/api/v1/app/acme/endpoint/{ep}/replay-missing", json={"since": HOUR_AGO}).json()
        assert _finished(c, again["id"])["data"] == {"done": 0, "total": 0}
    assert sorted(r.headers["webhook-id"] for r in got) == sorted(wanted)
    assert len(receiver.requests) == 2


def test_svix_sdk_recover_and_replay(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
    since = datetime.now(UTC) - timedelta(hours=1)
    recovered = svix.endpoint.recover("acme", ep, RecoverIn(since=since))
    replayed = svix.endpoint.replay_missing("acme", ep, ReplayIn(since=since))
    assert recovered.task == "endpoint.recover" and replayed.task == "endpoint.replay"
    status = wait_until(lambda: (t := svix.background_task.get(replayed.id)).status != "running" and t, 10, "task")
    assert status.status == "finished"


def test_tasks_are_scoped_to_their_application(hookline, receiver: Receiver) -> None:
    import asyncio

    import httpx

    from hookline.store import tokens
    from hookline.store.database import Database

    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url(), app_uid="a")
        b, _ = make_endpoint(c, receiver.url(), app_uid="b")
        task = c.post(f"/api/v1/app/a/endpoint/{ep}/recover", json={"since": HOUR_AGO}).json()

    async def token_for_b() -> str:
        db = Database(hookline.settings.database_url)
        try:
            async with db.write() as conn:
                return await tokens.create(conn, app_id=b, name="b")
        finally:
            await db.close()

    with httpx.Client(base_url=hookline.url, headers={"Authorization": f"Bearer {asyncio.run(token_for_b())}"}) as as_b:
        assert as_b.get(f"/api/v1/background-task/{task['id']}").status_code == 404


def test_bulk_replay_by_filter_for_an_endpoint_and_an_application(hookline_factory, receiver: Receiver) -> None:
    # A receiver slowed by a loaded machine must not look like a failure (and be sent again):
    # the test counts arrivals exactly.
    with hookline_factory(request_timeout=8.0) as hookline:
        _bulk_replay_by_filter(hookline, receiver)


def _bulk_replay_by_filter(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _, ep_a = make_endpoint(c, receiver.url("/a"))
        make_endpoint(c, receiver.url("/b"))
        created = [publish(c, "acme", "user.created") for _ in range(2)]
        publish(c, "acme", "user.deleted", channels=["eu"])
        receiver.wait_for(6)
        wait_until(lambda: all(d["statusText"] == "success" for m in created for d in delivery_status(c, "acme", m)))
        only_created = c.post(
            f"/api/v1/app/acme/endpoint/{ep_a}/bulk-replay",
            json={"since": HOUR_AGO, "eventTypes": ["user.created"], "status": 0},
        ).json()
        assert _finished(c, only_created["id"])["data"] == {"done": 2, "total": 2}
        got = receiver.wait_for(8)
        assert sorted(r.headers["webhook-id"] for r in got[6:]) == sorted(created)
        assert {r.path for r in got[6:]} == {"/a"}
        everywhere = c.post("/api/v1/app/acme/bulk-replay", json={"since": HOUR_AGO, "channel": "eu"}).json()
        assert everywhere["task"] == "application.bulk-replay"
        assert _finished(c, everywhere["id"])["data"] == {"done": 2, "total": 2}
        got = receiver.wait_for(10)
    assert {r.path for r in got[8:]} == {"/a", "/b"}
