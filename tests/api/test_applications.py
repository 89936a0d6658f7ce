"""/api/v1/app: create, read by id or uid, PUT upsert, PATCH, DELETE."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from svix.models import ApplicationOut, ListResponseApplicationOut
from tests.support.api import make_endpoint, publish
from tests.support.servers import wait_until

from hookline.store import tables as t
from hookline.store import tokens
from hookline.store.database import Database


def test_create_get_and_get_if_exists(hookline) -> None:
    with hookline.client() as c:
        created = c.post("/api/v1/app", json={"name": "Acme", "uid": "acme", "metadata": {"plan": "pro"}})
        assert created.status_code == 201, created.text
        app = ApplicationOut.model_validate(created.json())
        assert app.id.startswith("app_") and app.uid == "acme" and app.name == "Acme"
        assert app.metadata == {"plan": "pro"}
        assert created.json()["throttleRate"] is None

        assert c.get(f"/api/v1/app/{app.id}").json() == created.json()
        assert c.get("/api/v1/app/acme").json() == created.json()

        again = c.post("/api/v1/app", json={"name": "Other", "uid": "acme"})
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "conflict"
        existing = c.post("/api/v1/app", params={"get_if_exists": "true"}, json={"name": "Other", "uid": "acme"})
        assert existing.status_code == 200, existing.text
        assert existing.json() == created.json()  # returned as it is, not updated

        # Without a uid there is nothing to find: a second application is made.
        anonymous = c.post("/api/v1/app", params={"get_if_exists": "true"}, json={"name": "No uid"})
        assert anonymous.status_code == 201 and anonymous.json()["uid"] is None

        listed = ListResponseApplicationOut.model_validate(c.get("/api/v1/app").json())
        assert {a.id for a in listed.data} == {app.id, anonymous.json()["id"]}
        assert listed.done


def test_put_upserts_and_keeps_the_uid(hookline) -> None:
    with hookline.client() as c:
        first = c.put("/api/v1/app/tenant-1", json={"name": "Tenant"})
        assert first.status_code == 201, first.text
        assert first.json()["uid"] == "tenant-1"  # the path names the new application
        app_id = first.json()["id"]

        second = c.put("/api/v1/app/tenant-1", json={"name": "Tenant renamed", "throttleRate": 5})
        assert second.status_code == 200, second.text
        assert second.json()["id"] == app_id
        # A PUT without a uid must not drop the uid it was addressed by...
        assert second.json()["uid"] == "tenant-1"
        assert second.json()["name"] == "Tenant renamed" and second.json()["throttleRate"] == 5
        # ...so the next PUT updates the same application rather than creating another.
        third = c.put("/api/v1/app/tenant-1", json={"name": "Tenant"})
        assert third.status_code == 200 and third.json()["id"] == app_id
        assert third.json()["throttleRate"] is None  # PUT replaces: unset fields are reset
        assert len(c.get("/api/v1/app").json()["data"]) == 1

        by_id = c.put(f"/api/v1/app/{app_id}", json={"name": "By id", "uid": "tenant-one"})
        assert by_id.status_code == 200 and by_id.json()["uid"] == "tenant-one"
        assert c.get("/api/v1/app/tenant-1").status_code == 404
        assert c.get("/api/v1/app/tenant-one").json()["id"] == app_id

        c.post("/api/v1/app", json={"name": "Taken", "uid": "taken"})
        clash = c.put(f"/api/v1/app/{app_id}", json={"name": "x", "uid": "taken"})
        assert clash.status_code == 409, clash.text


def test_patch_changes_only_what_is_given(hookline) -> None:
    with hookline.client() as c:
        app_id = c.post(
            "/api/v1/app", json={"name": "Acme", "uid": "acme", "metadata": {"a": "1"}, "throttleRate": 10}
        ).json()["id"]
        patched = c.patch("/api/v1/app/acme", json={"name": "Acme Inc"})
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert (body["id"], body["uid"], body["name"], body["metadata"], body["throttleRate"]) == (
            app_id,
            "acme",
            "Acme Inc",
            {"a": "1"},
            10,
        )
        assert body["updatedAt"] >= body["createdAt"]

        body = c.patch(f"/api/v1/app/{app_id}", json={"metadata": {"b": "2"}, "throttleRate": None}).json()
        assert body["metadata"] == {"b": "2"} and body["throttleRate"] is None and body["name"] == "Acme Inc"
        # An explicit null name is ignored (a name is required), not stored.
        assert c.patch("/api/v1/app/acme", json={"name": None}).json()["name"] == "Acme Inc"
        assert c.patch("/api/v1/app/acme", json={"uid": "acme-2"}).json()["uid"] == "acme-2"
        assert c.get("/api/v1/app/acme-2").json()["id"] == app_id

        missing = c.patch("/api/v1/app/nope", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_delete(hookline) -> None:
    with hookline.client() as c:
        app_id = c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).json()["id"]
        assert c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {"secret": 1}}).status_code == 202
        c.post("/api/v1/app/acme/endpoint", json={"url": "https://hooks.example/acme"})
        deleted = c.delete("/api/v1/app/acme")
        assert deleted.status_code == 204 and deleted.content == b""
        for path in ("/api/v1/app/acme", f"/api/v1/app/{app_id}", "/api/v1/app/acme/endpoint"):
            gone = c.get(path)
            assert gone.status_code == 404, path
            assert gone.json() == {"code": "not_found", "detail": "application not found"}
        assert c.delete("/api/v1/app/acme").status_code == 404
        assert c.get("/api/v1/app").json()["data"] == []
        # The uid is free again, for an application that starts empty.
        assert c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        assert c.get("/api/v1/app/acme/msg").json()["data"] == []
        assert c.get("/api/v1/app/acme/endpoint").json()["data"] == []


def test_delete_leaves_no_row_of_the_application(hookline, receiver) -> None:
    """Every table with an app_id (tables.py's metadata, so a new table is covered) holds no row
    of a deleted application: its messages' payloads are gone with it. Another's stay."""
    with hookline.client() as c:
        gone, ep = make_endpoint(c, receiver.url(), app_uid="gone")
        kept, _ = make_endpoint(c, receiver.url(), app_uid="kept")
        keyed = c.post(
            "/api/v1/app/gone/msg",
            json={"eventType": "user.signup", "payload": {"email": "pii@example.com"}},
            headers={"idempotency-key": "signup-1"},
        )
        assert keyed.status_code == 202, keyed.text
        publish(c, "gone")
        publish(c, "kept")
        receiver.wait_for(3)
        wait_until(lambda: len(c.get(f"/api/v1/app/gone/attempt/endpoint/{ep}").json()["data"]) == 2)
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert c.post(f"/api/v1/app/gone/endpoint/{ep}/recover", json={"since": since}).status_code == 202
        assert c.post("/api/v1/app/gone/integration", json={"name": "crm"}).status_code == 201
        assert c.post("/api/v1/auth/app-portal-access/gone", json={}).status_code == 200

        async def add_token() -> None:
            db = Database(hookline.settings.database_url)
            try:
                async with db.write() as conn:
                    await tokens.create(conn, app_id=gone, name="cli")
            finally:
                await db.close()

        async def counts(app_id: str) -> dict[str, int]:
            db = Database(hookline.settings.database_url)
            try:
                async with db.read() as conn:
                    return {
                        table.name: (
                            await conn.execute(select(func.count()).select_from(table).where(table.c.app_id == app_id))
                        ).scalar_one()
                        for table in t.metadata.sorted_tables
                        if "app_id" in table.c
                    }
            finally:
                await db.close()

        async def links() -> int:
            db = Database(hookline.settings.database_url)
            try:
                async with db.read() as conn:
                    return int((await conn.execute(select(func.count()).select_from(t.portal_link))).scalar_one())
            finally:
                await db.close()

        asyncio.run(add_token())
        assert asyncio.run(links()) == 1
        before = asyncio.run(counts(gone))
        for table in ("message", "delivery", "attempt", "endpoint", "api_token", "integration", "background_task"):
            assert before[table], f"the test made no {table} row"
        assert c.delete("/api/v1/app/gone").status_code == 204
        after = asyncio.run(counts(gone))
        assert {table: n for table, n in after.items() if n} == {}
        assert asyncio.run(links()) == 0, "the portal link of its token went with it"
        assert asyncio.run(counts(kept))["message"] == 1
