"""Applications hookline keeps for itself (an ingest source's, the operational webhooks'), and
get-or-create under concurrency: a request that loses the race to create an application gets the
one the winner made (found by fuzzing)."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from tests.support.servers import Hookline, Receiver, run
from tests.support.tls import Authority

from hookline.store import tables
from hookline.store.database import Database

SOURCES = "/ingest/api/v1/source"


def _internal_app(hl: Hookline, *, of_source: str | None) -> str:
    """The id of an internal application (no API answer holds it): ``of_source``'s, or with
    None the operational one."""

    async def read() -> str:
        db = Database(hl.settings.database_url)
        try:
            async with db.read() as conn:
                if of_source is not None:
                    query = select(tables.ingest_source.c.app_id).where(tables.ingest_source.c.id == of_source)
                else:
                    app = tables.application
                    backing = select(tables.ingest_source.c.app_id)
                    query = select(app.c.id).where(app.c.internal.is_(True), app.c.id.not_in(backing))
                return str((await conn.execute(query)).scalar_one())
        finally:
            await db.close()

    return str(run(read()))


def _refusals(c: httpx.Client, app_id: str) -> list[httpx.Response]:
    return [
        c.put(f"/api/v1/app/{app_id}", json={"name": "mine now", "uid": "taken-over"}),
        c.put(f"/api/v1/app/{app_id}", json={"name": "mine now"}),
        c.patch(f"/api/v1/app/{app_id}", json={"name": "mine now"}),
        c.patch(f"/api/v1/app/{app_id}", json={"uid": "taken-over"}),
        c.delete(f"/api/v1/app/{app_id}"),
    ]


def test_an_ingest_sources_application_cannot_be_changed_or_deleted_as_an_application(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as c:
        source = c.post(SOURCES, json={"name": "edge", "type": "generic-webhook", "config": {}}).json()
        dest = c.post(f"{SOURCES}/{source['id']}/endpoint", json={"url": receiver.url()})
        assert dest.status_code == 201, dest.text
        app_id = _internal_app(hookline, of_source=source["id"])
        before = c.get(f"/api/v1/app/{app_id}").json()

        for resp in _refusals(c, app_id):
            assert resp.status_code == 409, resp.text
            detail = resp.json()["detail"]
            assert source["id"] in detail and f"{SOURCES}/{source['id']}" in detail, detail

        # Readable by the admin, as its messages are; never listed; unchanged.
        assert c.get(f"/api/v1/app/{app_id}").json() == before
        assert app_id not in c.get("/api/v1/app").text
        assert c.get("/api/v1/app/taken-over").status_code == 404
        # Nor can an environment import take it.
        imported = c.post("/api/v1/environment/import", json={"applications": [{"id": app_id, "name": "x"}]})
        assert imported.status_code == 409, imported.text

        # The source still works: its destinations are there and receive what comes in.
        listed = c.get(f"{SOURCES}/{source['id']}/endpoint")
        assert listed.status_code == 200 and [e["id"] for e in listed.json()["data"]] == [dest.json()["id"]]
        ingest_url = str(c.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
        assert httpx.post(ingest_url, json={"n": 1}).status_code == 200
        assert receiver.wait_for(1)[0].body == b'{"n":1}'


def test_the_operational_webhooks_application_cannot_be_changed_or_deleted_as_an_application(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as c:
        created = c.post("/api/v1/operational-webhook/endpoint", json={"url": receiver.url()})
        assert created.status_code == 201, created.text
        app_id = _internal_app(hookline, of_source=None)
        for resp in _refusals(c, app_id):
            assert resp.status_code == 409, resp.text
            assert "/api/v1/operational-webhook/endpoint" in resp.json()["detail"]
        endpoint = c.get(f"/api/v1/operational-webhook/endpoint/{created.json()['id']}")
        assert endpoint.status_code == 200, endpoint.text
        # Its id given as the uid of a get-or-create: refused, as any uid with an id's shape is.
        refused = c.post("/api/v1/app", params={"get_if_exists": "true"}, json={"name": "x", "uid": app_id})
        assert refused.status_code == 422 and "shape of a hookline id" in refused.text, refused.text


def _writes(c: httpx.Client, app_id: str, endpoint_id: str, tmp: Path) -> dict[str, httpx.Response]:
    """Every write the ordinary API offers into an application's endpoints and messages."""
    ep = f"/api/v1/app/{app_id}/endpoint"
    message = {"eventType": "invoice.paid", "payload": {"forged": True}}
    pair = Authority(tmp).issue("client", server=False)
    code = {"code": "function handler(w) { w.payload = {forged: true}; return w; }", "enabled": True}
    return {
        "create endpoint": c.post(ep, json={"url": "https://example.com/mine"}),
        "put new endpoint": c.put(f"{ep}/mine", json={"url": "https://example.com/mine"}),
        "put endpoint": c.put(f"{ep}/{endpoint_id}", json={"url": "https://example.com/mine"}),
        "patch endpoint": c.patch(f"{ep}/{endpoint_id}", json={"url": "https://example.com/mine"}),
        "rotate secret": c.post(f"{ep}/{endpoint_id}/secret/rotate", json={}),
        "put headers": c.put(f"{ep}/{endpoint_id}/headers", json={"headers": {"x-mine": "1"}}),
        "patch headers": c.patch(f"{ep}/{endpoint_id}/headers", json={"headers": {"x-mine": "1"}}),
        "send example": c.post(f"{ep}/{endpoint_id}/send-example", json={"eventType": "invoice.paid"}),
        "transformation": c.patch(f"{ep}/{endpoint_id}/transformation", json=code),
        "put client cert": c.put(
            f"{ep}/{endpoint_id}/client-certificate", json={"cert": pair.cert_pem(), "key": pair.key_pem()}
        ),
        "delete client cert": c.delete(f"{ep}/{endpoint_id}/client-certificate"),
        "delete endpoint": c.delete(f"{ep}/{endpoint_id}"),
        "publish": c.post(f"/api/v1/app/{app_id}/msg", json=message),
        "publish keyed": c.post(f"/api/v1/app/{app_id}/msg", json=message, headers={"idempotency-key": "forge-1"}),
    }


def _assert_refused(c: httpx.Client, app_id: str, endpoint_id: str, names_api: str, tmp: Path) -> None:
    """Each write answers 409 naming the API that manages the application; nothing changed."""
    before = c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}").json()
    for what, resp in _writes(c, app_id, endpoint_id, tmp).items():
        assert resp.status_code == 409, (what, resp.status_code, resp.text)
        assert resp.json()["code"] == "conflict" and names_api in resp.json()["detail"], (what, resp.text)
    # Reads stay open to the admin; the endpoint, its secret and its headers are as they were.
    assert c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}").json() == before
    assert [e["id"] for e in c.get(f"/api/v1/app/{app_id}/endpoint").json()["data"]] == [endpoint_id]
    assert c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret").status_code == 200
    assert "x-mine" not in c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers").text
    assert c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation").json()["code"] is None
    assert c.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/client-certificate").status_code == 404
    assert not [m for m in c.get(f"/api/v1/app/{app_id}/msg").json()["data"] if m["eventType"] == "invoice.paid"]


def test_an_ingest_sources_endpoints_and_messages_cannot_be_written_as_an_applications(
    hookline: Hookline, receiver: Receiver, tmp_path: Path
) -> None:
    """The admin token could add destinations the source API did not know of, and publish
    forged events that the source's destinations got as if the provider had sent them."""
    with hookline.client() as c:
        source = c.post(SOURCES, json={"name": "edge", "type": "generic-webhook", "config": {}}).json()
        dest = c.post(f"{SOURCES}/{source['id']}/endpoint", json={"url": receiver.url()}).json()
        app_id = _internal_app(hookline, of_source=source["id"])
        _assert_refused(c, app_id, dest["id"], f"{SOURCES}/{source['id']}", tmp_path)

        # The source API still manages its destinations, and forwards what comes in.
        path = f"{SOURCES}/{source['id']}/endpoint/{dest['id']}"
        assert c.put(path, json={"url": receiver.url("/moved")}).status_code == 200
        assert c.put(f"{path}/headers", json={"headers": {"x-source": "1"}}).status_code == 204
        assert c.post(f"{path}/secret/rotate", json={}).status_code == 204
        extra = c.post(f"{SOURCES}/{source['id']}/endpoint", json={"url": receiver.url("/extra")})
        assert extra.status_code == 201, extra.text
        assert c.delete(f"{SOURCES}/{source['id']}/endpoint/{extra.json()['id']}").status_code == 204
        ingest_url = str(c.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
        assert httpx.post(ingest_url, json={"n": 1}).status_code == 200
        (got,) = receiver.wait_for(1)
        assert (got.path, got.body, got.headers.get("x-source")) == ("/moved", b'{"n":1}', "1")


def test_the_operational_webhooks_endpoints_and_messages_cannot_be_written_as_an_applications(
    hookline: Hookline, receiver: Receiver, tmp_path: Path
) -> None:
    with hookline.client() as c:
        created = c.post("/api/v1/operational-webhook/endpoint", json={"url": receiver.url()})
        assert created.status_code == 201, created.text
        app_id = _internal_app(hookline, of_source=None)
        _assert_refused(c, app_id, created.json()["id"], "/api/v1/operational-webhook/endpoint", tmp_path)

        # Its own API still manages it, and it still hears of endpoint changes.
        path = f"/api/v1/operational-webhook/endpoint/{created.json()['id']}"
        assert c.put(path, json={"url": receiver.url("/ops")}).status_code == 200
        assert c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        assert c.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/hook"}).status_code == 201
        got = receiver.wait_for(1)
        assert got[0].path == "/ops" and b"endpoint.created" in got[0].body


def _at_once(hl: Hookline, count: int, call: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """``count`` calls sent together, each on a connection of its own."""
    start = threading.Barrier(count)

    def send(_: int) -> httpx.Response:
        with hl.client() as c:
            start.wait()
            return call(c)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


ROUNDS = 5


def _one_application_each_round(hl: Hookline, make: Callable[[str], Callable[[httpx.Client], httpx.Response]]) -> None:
    """Each round, 16 get-or-creates of a new uid: every one succeeds, and all name one application."""
    for round_ in range(ROUNDS):
        uid = f"raceapp{round_}"
        answers = _at_once(hl, 16, make(uid))
        assert all(a.is_success for a in answers), [(a.status_code, a.text) for a in answers if not a.is_success]
        with hl.client() as c:
            got = c.get(f"/api/v1/app/{uid}")
            assert got.status_code == 200, got.text
            listed = [a for a in c.get("/api/v1/app", params={"limit": 250}).json()["data"] if a["uid"] == uid]
            assert [a["id"] for a in listed] == [got.json()["id"]]


def test_concurrent_get_if_exists_creates_return_the_one_application(hookline: Hookline) -> None:
    created: list[int] = []

    def make(uid: str) -> Callable[[httpx.Client], httpx.Response]:
        def call(c: httpx.Client) -> httpx.Response:
            resp = c.post("/api/v1/app", params={"get_if_exists": "true"}, json={"name": "n", "uid": uid})
            created.append(resp.status_code)
            return resp

        return call

    _one_application_each_round(hookline, make)
    assert created.count(201) == ROUNDS and created.count(200) == ROUNDS * 15


def test_concurrent_puts_of_a_new_application_make_one_and_update_it(hookline: Hookline) -> None:
    def make(uid: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.put(f"/api/v1/app/{uid}", json={"name": "n"})

    _one_application_each_round(hookline, make)


def test_concurrent_publishes_that_create_their_application_all_publish(hookline: Hookline) -> None:
    def make(uid: str) -> Callable[[httpx.Client], httpx.Response]:
        body = {"eventType": "a.b", "payload": {}, "application": {"name": "n", "uid": uid}}
        return lambda c: c.post(f"/api/v1/app/{uid}/msg", json=body)

    _one_application_each_round(hookline, make)


def test_concurrent_portal_access_that_creates_its_application_all_succeed(hookline: Hookline) -> None:
    def make(uid: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(f"/api/v1/auth/app-portal-access/{uid}", json={"application": {"name": "n"}})

    _one_application_each_round(hookline, make)


def test_a_uid_another_application_holds_is_still_refused(hookline: Hookline) -> None:
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "Taken", "uid": "taken"}).status_code == 201
        assert c.post("/api/v1/app", json={"name": "again", "uid": "taken"}).status_code == 409
        resp = c.put("/api/v1/app/other", json={"name": "n", "uid": "taken"})
        assert resp.status_code == 409, resp.text
        body: dict[str, Any] = {"eventType": "a.b", "payload": {}, "application": {"name": "n", "uid": "taken"}}
        assert c.post("/api/v1/app/elsewhere/msg", json=body).status_code == 409
        assert [a["uid"] for a in c.get("/api/v1/app").json()["data"]] == ["taken"]
