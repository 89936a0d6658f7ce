"""An ingest URL's 2xx means durable: ``kill -9`` right after it loses nothing."""

import httpx
from tests.support.processes import SpawnHookline
from tests.support.servers import Receiver, free_port


def test_request_answered_2xx_is_forwarded_after_kill_9(database_url: str, spawn_hookline: SpawnHookline) -> None:
    # The destination is down at first, so the delivery is still due when the process dies.
    hl = spawn_hookline(database_url, retry_schedule=",".join(["1"] * 20))
    with hl.client() as admin:
        source = admin.post("/ingest/api/v1/source", json={"name": "s", "type": "generic-webhook"}).json()
        down = f"http://127.0.0.1:{free_port()}/hook"
        dest = admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json={"url": down}).json()["id"]
    token = source["ingestUrl"].rsplit("/in/", 1)[1]
    body = b"\x00raw bytes\xff"
    resp = httpx.post(f"{hl.url}/in/{token}", content=body, headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 200, resp.text
    hl.kill()
    hl.start()
    receiver = Receiver()
    try:
        with hl.client() as admin:
            moved = admin.put(f"/ingest/api/v1/source/{source['id']}/endpoint/{dest}", json={"url": receiver.url()})
            assert moved.status_code == 200, moved.text
        got = receiver.wait_for(1, timeout=60)[0]
        assert got.body == body
        assert got.headers["content-type"] == "application/octet-stream"
    finally:
        receiver.close()
