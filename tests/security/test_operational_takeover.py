"""A tenant cannot become the operational application (issue: close the holes, item 1).

The operational application used to be whichever application had the uid
``hookline-operational``; an application token could rename its own application
to that uid and receive every other tenant's operational events, and, after a
restart, the operator's signing secret. These tests drive real servers with real
application tokens minted through the API.
"""

import json

import httpx
import standardwebhooks
from sqlalchemy import select
from tests.support.api import make_endpoint
from tests.support.servers import Receiver, run, wait_until

from hookline.store import tables
from hookline.store.database import Database

OP_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _portal_token(admin: httpx.Client, app: str) -> str:
    resp = admin.post(f"/api/v1/auth/app-portal-access/{app}", json={})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def hl_kwargs(op: Receiver) -> dict[str, object]:
    return {"operational_webhook_url": op.url("/ops"), "operational_webhook_secret": OP_SECRET}


def test_tenant_cannot_take_over_operational_webhooks(hookline_factory, receiver: Receiver) -> None:
    op = Receiver()
    try:
        with hookline_factory(**hl_kwargs(op)) as hl, hl.client() as admin:
            make_endpoint(admin, receiver.url(), app_uid="attacker")
            token = _portal_token(admin, "attacker")
            with hl.client(token) as tenant:
                # The takeover request of the report, and every other identity change, is refused.
                for method, body in [
                    ("PUT", {"name": "x", "uid": "hookline-operational"}),
                    ("PATCH", {"uid": "hookline-operational"}),
                    ("PATCH", {"uid": "something-else"}),
                    ("PATCH", {"throttleRate": 1000}),
                    ("PUT", {"name": "x", "throttleRate": 1000}),
                    ("PATCH", {"metadata": {"plan": "enterprise"}}),
                ]:
                    resp = tenant.request(method, "/api/v1/app/attacker", json=body)
                    assert resp.status_code == 403, (method, body, resp.text)
                    assert resp.json()["code"] == "forbidden"
                    assert next(iter(set(body) - {"name"})) in resp.json()["detail"]
                # Renaming is the tenant's own business, and a PUT without admin fields keeps them.
                assert tenant.patch("/api/v1/app/attacker", json={"name": "Renamed"}).status_code == 200
                assert tenant.put("/api/v1/app/attacker", json={"name": "Again"}).status_code == 200
                # Sending back the values it already has is not a change.
                assert tenant.put("/api/v1/app/attacker", json={"name": "A", "uid": "attacker"}).status_code == 200
            got = admin.get("/api/v1/app/attacker").json()
            assert (got["uid"], got["name"], got["throttleRate"], got["metadata"]) == ("attacker", "A", None, {})

            # Even an admin-made application with the old magic uid is just an application.
            make_endpoint(admin, receiver.url(), app_uid="hookline-operational")
            # Another tenant's endpoint: its event goes to the operator, not to any tenant.
            _victim, victim_ep = make_endpoint(admin, receiver.url(), app_uid="victim")
            wait_until(
                lambda: any(json.loads(r.body)["data"].get("endpointId") == victim_ep for r in op.requests),
                10,
                "endpoint.created at the operator",
            )
            for app in ("attacker", "hookline-operational"):
                assert admin.get(f"/api/v1/app/{app}/msg").json()["data"] == [], app
            # The operational application is nobody's tenant: not listed, no token can be made for it.
            listed = {a["uid"] for a in admin.get("/api/v1/app", params={"limit": 250}).json()["data"]}
            assert listed == {"attacker", "hookline-operational", "victim"}
            op_event = json.loads(op.requests[0].body)
            assert op_event["type"] == "endpoint.created"
            standardwebhooks.Webhook(OP_SECRET).verify(op.requests[0].body, op.requests[0].headers)
    finally:
        op.close()


def test_restart_does_not_hand_the_operator_secret_to_a_tenant(hookline_factory, receiver: Receiver) -> None:
    op = Receiver()
    try:
        with hookline_factory(**hl_kwargs(op)) as hl, hl.client() as admin:
            make_endpoint(admin, receiver.url(), app_uid="attacker")
            token = _portal_token(admin, "attacker")
            with hl.client(token) as tenant:
                assert tenant.patch("/api/v1/app/attacker", json={"uid": "hookline-operational"}).status_code == 403
        # The next start configures the operational endpoint again from the settings.
        with hookline_factory(**hl_kwargs(op)) as hl, hl.client(token) as tenant:
            endpoints = tenant.get("/api/v1/app/attacker/endpoint").json()["data"]
            assert [e["uid"] for e in endpoints] == [None]
            for ep in endpoints:
                secret = tenant.get(f"/api/v1/app/attacker/endpoint/{ep['id']}/secret").json()["key"]
                assert secret != OP_SECRET
            assert [a["uid"] for a in tenant.get("/api/v1/app").json()["data"]] == ["attacker"]
    finally:
        op.close()


def test_no_token_reaches_the_operational_application(hookline_factory, receiver: Receiver) -> None:
    op = Receiver()
    try:
        with hookline_factory(**hl_kwargs(op)) as hl, hl.client() as admin:
            make_endpoint(admin, receiver.url(), app_uid="victim")
            wait_until(lambda: op.requests, 10, "an operational event")

            # The operational application's id is in no API answer; find it in the store.
            async def internal_id() -> str:
                db = Database(hl.settings.database_url)
                try:
                    async with db.read() as conn:
                        query = select(tables.application.c.id).where(tables.application.c.internal.is_(True))
                        return str((await conn.execute(query)).scalar_one())
                finally:
                    await db.close()

            op_app = run(internal_id())
            resp = admin.post(f"/api/v1/auth/app-portal-access/{op_app}", json={})
            assert resp.status_code == 404, resp.text
            assert op_app not in admin.get("/api/v1/app").text
    finally:
        op.close()
