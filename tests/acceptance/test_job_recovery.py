"""A background job survives ``kill -9``: recover resumes and re-sends every message.

hookline runs as a real process. A few thousand deliveries to an endpoint have
failed (seeded in the database, as a long outage leaves them), and a recover job
starts. The job works in small batches, so it is still running
when the process is killed with SIGKILL. Started again on the same database (on
PostgreSQL: a second process, while the first stays dead), hookline claims the job
once its lease runs out, carries on from its last committed batch, and finishes:
every failed message reaches the receiver, and the job counts each exactly once.
"""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from tests.support.api import make_endpoint
from tests.support.processes import HooklineProcess, SpawnHookline
from tests.support.servers import Received, Receiver, Reply, wait_until

from hookline.domain.ids import new_id
from hookline.domain.model import DeliveryStatus
from hookline.store import tables as t
from hookline.store.database import Database

pytestmark = pytest.mark.slow

MESSAGES = 3000
SETTINGS: dict[str, Any] = {
    "job_batch_size": 25,  # a hundred and more batches: the kill lands mid-job
    "endpoint_concurrency": 20,
}


def _seed_failed(database_url: str, app_id: str, endpoint_id: str, count: int) -> list[str]:
    """Store ``count`` messages whose delivery to the endpoint failed: what a long outage leaves.

    Written straight into the database (in one transaction, beside the running
    server) because publishing and failing thousands through HTTP takes minutes.
    """
    now = int(time.time() * 1000)
    messages, deliveries = [], []
    for n in range(count):
        at = now - 60_000 + n  # the last minute, one message per ms
        msg_id = new_id("msg", at)
        payload = json.dumps({"n": n}).encode()
        messages.append(
            {
                "id": msg_id,
                "app_id": app_id,
                "event_type": "job.test",
                "event_id": None,
                "payload": payload,
                "channels": None,
                "created_at": at,
                "payload_expires_at": at + 86_400_000,
            }
        )
        delivery = {"id": new_id("dlv", at), "msg_id": msg_id, "endpoint_id": endpoint_id, "app_id": app_id}
        state = {"status": DeliveryStatus.FAIL, "attempts": 2, "next_attempt_at": None, "locked_until": None}
        deliveries.append({**delivery, **state, "trigger": 0, "created_at": at, "updated_at": at})

    async def write() -> None:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                await conn.execute(insert(t.message), messages)
                await conn.execute(insert(t.delivery), deliveries)
        finally:
            await db.close()

    asyncio.run(write())
    return [m["id"] for m in messages]


def _job_in_database(database_url: str, task_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                bt = t.background_task
                return dict((await conn.execute(select(bt).where(bt.c.id == task_id))).mappings().one())
        finally:
            await db.close()

    return asyncio.run(read())


def _task(hl: HooklineProcess, task_id: str) -> dict[str, Any]:
    with hl.client() as client:
        resp = client.get(f"/api/v1/background-task/{task_id}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


def test_recover_job_resumes_after_kill_9(database_url: str, receiver: Receiver, spawn_hookline: SpawnHookline) -> None:
    received_ok: set[str] = set()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        with lock:
            received_ok.add(request.headers["webhook-id"])
        return Reply(status=200)

    receiver.respond = respond
    first = spawn_hookline(database_url, **SETTINGS)
    with first.client() as client:
        app_id, endpoint = make_endpoint(client, receiver.url("/jobs"), app_uid="jobs")
    published = _seed_failed(database_url, app_id, endpoint, MESSAGES)
    stats = f"/api/v1/app/jobs/endpoint/{endpoint}/stats"
    with first.client() as client:
        assert client.get(stats).json()["fail"] == MESSAGES
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        started = client.post(f"/api/v1/app/jobs/endpoint/{endpoint}/recover", json={"since": since})
    assert started.status_code == 202, started.text
    task_id = started.json()["id"]
    assert started.json()["data"] == {"done": 0, "total": MESSAGES}

    # Kill while the job is partly done.
    wait_until(lambda: _task(first, task_id)["data"]["done"] >= 100, 30, "job progress")
    first.kill()
    at_kill = _job_in_database(database_url, task_id)
    assert at_kill["status"] == "running" and at_kill["done"] < MESSAGES, at_kill
    with lock:
        assert len(received_ok) < MESSAGES

    if database_url.startswith("postgresql"):
        # Another process takes the job over (once its lease ran out) while the first stays dead.
        runner = spawn_hookline(database_url, **SETTINGS)
        wait_until(lambda: _task(runner, task_id)["data"]["done"] > at_kill["done"], 30, "the takeover")
        assert not first.alive
        # The first process comes back: its start must not fail the job the other one runs.
        first.start(timeout=90)  # a loaded machine can take a while to import and start
    else:
        first.start(timeout=90)  # the same database, restarted
        runner = first
    finished = wait_until(
        lambda: (task := _task(runner, task_id))["status"] != "running" and task, 180, "the job to finish"
    )
    assert finished["status"] == "finished", finished
    # Each failed delivery was reset exactly once: no batch counted twice, none lost.
    assert finished["data"] == {"done": MESSAGES, "total": MESSAGES}

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with lock:
            missing = set(published) - received_ok
        if not missing:
            break
        time.sleep(0.2)
    assert not missing, f"{len(missing)} recovered messages never arrived, e.g. {sorted(missing)[:5]}"
    with runner.client() as client:
        # The last successes reach the receiver a moment before their outcomes are recorded.
        wait_until(lambda: client.get(stats).json()["success"] == MESSAGES, 60, "every success recorded")
    print(f"\n[{database_url.split(':')[0]}] done at kill: {at_kill['done']} of {MESSAGES}")
