"""Recover and replay-missing: background tasks, followed until they finish.

The routes are being built alongside this client: each test is skipped, with
the reason, only while the server answers 404 for the route itself.
"""

from datetime import UTC, datetime, timedelta

import pytest
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, wait_until

from hookline import AsyncClient, Client, HooklineError
from hookline.client import BackgroundTask


def skip_if_route_missing(error: HooklineError) -> None:
    if error.status == 404 and "no such route" in str(error.detail):
        pytest.skip(f"background-task routes not on the server yet: {error.detail}")
    raise error


def start(client: Client, action: str, endpoint_id: str, since: datetime) -> BackgroundTask:
    method = client.endpoints.recover if action == "recover" else client.endpoints.replay_missing
    try:
        return method("acme", endpoint_id, since)
    except HooklineError as error:
        skip_if_route_missing(error)
        raise


def wait(client: Client, task: BackgroundTask) -> BackgroundTask:
    seen: list[BackgroundTask] = []
    try:
        done = client.tasks.wait(task, interval=0.05, timeout=20, on_progress=seen.append)
    except HooklineError as error:
        skip_if_route_missing(error)
        raise
    assert seen and seen[-1] == done
    return done


def test_recover_resends_failed_messages(hookline, receiver: Receiver) -> None:
    receiver.respond = lambda _r: Reply(status=500)
    with Client(hookline.url, ADMIN_TOKEN) as client:
        client.applications.create("Acme", uid="acme")
        endpoint = client.endpoints.create("acme", receiver.url())
        message = client.messages.create("acme", "test.event", {"n": 1})
        wait_until(
            lambda: client.messages.destinations("acme", message.id).data[0].status_text == "fail", 15, "exhaustion"
        )
        failed_requests = len(receiver.requests)
        receiver.respond = lambda _r: Reply(status=200)
        task = start(client, "recover", endpoint.id, datetime.now(UTC) - timedelta(hours=1))
        assert task.id and task.status in ("running", "finished")
        assert wait(client, task).status == "finished"
        assert receiver.wait_for(failed_requests + 1)[-1].headers["webhook-id"] == message.id


def test_replay_missing_sends_what_the_endpoint_never_got(hookline, receiver: Receiver) -> None:
    with Client(hookline.url, ADMIN_TOKEN) as client:
        client.applications.create("Acme", uid="acme")
        message = client.messages.create("acme", "test.event", {"n": 1})  # before the endpoint existed
        endpoint = client.endpoints.create("acme", receiver.url())
        task = start(client, "replay", endpoint.id, datetime.now(UTC) - timedelta(hours=1))
        assert wait(client, task).status == "finished"
        assert receiver.wait_for(1)[0].headers["webhook-id"] == message.id


async def test_async_recover_and_wait(hookline, receiver: Receiver) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN) as client:
        await client.applications.create("Acme", uid="acme")
        endpoint = await client.endpoints.create("acme", receiver.url())
        try:
            task = await client.endpoints.recover("acme", endpoint.id, datetime.now(UTC) - timedelta(hours=1))
            done = await client.tasks.wait(task.id, interval=0.05, timeout=20)
        except HooklineError as error:
            skip_if_route_missing(error)
            raise
        assert done.status == "finished" and done.id == task.id


def test_patch_and_bulk_replay(hookline, receiver: Receiver) -> None:
    with Client(hookline.url, ADMIN_TOKEN) as client:
        app = client.applications.patch(client.applications.create("Acme", uid="acme").id, name="Acme Inc")
        assert (app.name, app.uid) == ("Acme Inc", "acme")
        endpoint = client.endpoints.create("acme", receiver.url(), description="kept")
        off = client.endpoints.patch("acme", endpoint.id, disabled=True, throttle_rate=7)
        assert off.disabled and off.throttle_rate == 7 and off.description == "kept"
        assert not client.endpoints.patch("acme", endpoint.id, disabled=False).disabled
        message = client.messages.create("acme", "a.b", {"n": 1})
        receiver.wait_for(1)
        wait_until(lambda: client.messages.destinations("acme", message.id).data[0].status_text == "success")
        since = datetime.now(UTC) - timedelta(hours=1)
        by_endpoint = client.endpoints.bulk_replay("acme", endpoint.id, since, event_types=["a.b"], status=0)
        assert client.tasks.wait(by_endpoint, interval=0.05, timeout=20).progress == (1, 1)
        by_app = client.applications.bulk_replay("acme", since, channel="nowhere")
        assert client.tasks.wait(by_app, interval=0.05, timeout=20).progress == (0, 0)
        assert [r.headers["webhook-id"] for r in receiver.wait_for(2)] == [message.id, message.id]


async def test_async_patch_and_bulk_replay(hookline, receiver: Receiver) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN) as client:
        app = await client.applications.create("Acme", uid="acme")
        assert (await client.applications.patch("acme", metadata={"tier": "gold"})).metadata == {"tier": "gold"}
        endpoint = await client.endpoints.create("acme", receiver.url())
        assert (await client.endpoints.patch("acme", endpoint.id, uid="main")).uid == "main"
        await client.messages.create("acme", "a.b", {"n": 1})
        receiver.wait_for(1)
        since = datetime.now(UTC) - timedelta(hours=1)
        task = await client.applications.bulk_replay(app.id, since, until=datetime.now(UTC) + timedelta(minutes=1))
        assert task.task == "application.bulk-replay"
        assert (await client.tasks.wait(task, interval=0.05, timeout=20)).status == "finished"
        endpoint_task = await client.endpoints.bulk_replay("acme", "main", since)
        assert endpoint_task.task == "endpoint.bulk-replay"
