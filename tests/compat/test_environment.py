"""svix ``environment.export``/``import_``: one document moves everything to an empty server."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import standardwebhooks
from sqlalchemy import select
from svix import Svix, SvixOptions
from svix.api import AppPortalAccessIn, EnvironmentIn, EventTypeIn
from svix.exceptions import HttpError, HTTPValidationError
from tests.conftest import new_pg_database
from tests.support.servers import ADMIN_TOKEN, Receiver

from hookline.store import tables
from hookline.store.database import Database

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def other_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A second empty, migrated database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/other.db"
        return
    with new_pg_database(request.getfixturevalue("pg_template")) as url:
        yield url


def _populate(c: Any, url: str) -> None:
    schema = {"1": {"type": "object", "properties": {"id": {"type": "string"}}}}
    paid = {"name": "order.paid", "description": "Paid", "schemas": schema, "schemaValidation": "warn"}
    assert c.post("/api/v1/event-type", json=paid).is_success
    assert c.post(
        "/api/v1/event-type", json={"name": "beta.thing", "description": "B", "featureFlag": "beta"}
    ).is_success
    app = {"name": "Acme", "uid": "acme", "metadata": {"tier": "gold"}, "throttleRate": 50}
    assert c.post("/api/v1/app", json=app).is_success
    assert c.post("/api/v1/app", json={"name": "Bare"}).is_success
    endpoint = {
        "url": url,
        "uid": "main",
        "description": "orders",
        "eventTypes": ["order.paid"],
        "channels": ["eu"],
        "metadata": {"team": "billing"},
        "secret": SECRET,
        "headers": {"X-Team": "billing"},
    }
    ep = c.post("/api/v1/app/acme/endpoint", json=endpoint).json()["id"]
    # The rotated-out secret is still in its grace period: it must travel too.
    assert c.post(f"/api/v1/app/acme/endpoint/{ep}/secret/rotate", json={}).is_success
    # hookline's delivery policies travel too: a filter, FIFO, a transformation.
    disabled = {
        "url": url,
        "disabled": True,
        "secret": SECRET,
        "filter": {"payload": {"status": "paid"}},
        "fifo": True,
        "fifoOnExhausted": "block",
    }
    other = c.post("/api/v1/app/acme/endpoint", json=disabled).json()["id"]
    code = "function handler(webhook) { webhook.payload.moved = true; return webhook }"
    assert c.patch(f"/api/v1/app/acme/endpoint/{other}/transformation", json={"code": code, "enabled": True}).is_success


def _stored_secrets(database_url: str) -> list[str]:
    async def read() -> list[str]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                return [str(s) for s in (await conn.execute(select(tables.endpoint.c.secret))).scalars()]
        finally:
            await db.close()

    return asyncio.run(read())


def _without_stamp(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "createdAt"}


def test_export_then_import_into_an_empty_server_reproduces_everything(
    hookline_factory, other_database_url: str, receiver: Receiver
) -> None:
    from tests.support.servers import run_hookline, test_settings

    with hookline_factory(main_secret="server-a-secret") as a, a.client() as c:
        _populate(c, receiver.url())
        exported = c.post("/api/v1/environment/export")
        assert exported.status_code == 200, exported.text
        document = exported.json()
        sdk_view = Svix(ADMIN_TOKEN, SvixOptions(server_url=a.url)).environment.export()
        assert sorted(t.name for t in sdk_view.event_types) == ["beta.thing", "order.paid"]
        assert sdk_view.settings == {} and sdk_view.connectors == []
    assert next(ep["secret"] for app in document["applications"] for ep in app["endpoints"]) != SECRET  # rotated
    assert len(document["applications"]) == 2
    moved = [ep for app in document["applications"] for ep in app["endpoints"] if ep["fifo"]]
    assert moved and moved[0]["filter"] == {"payload": {"status": "paid"}} and moved[0]["transformation"]["enabled"]
    assert {t["name"]: t["schemaValidation"] for t in document["eventTypes"]}["order.paid"] == "warn"

    settings_b = test_settings(other_database_url, main_secret="server-b-secret")
    with run_hookline(settings_b) as b, b.client() as c:
        assert c.post("/api/v1/environment/export").json()["applications"] == []
        imported = c.post("/api/v1/environment/import", json=document)
        assert imported.status_code == 204, imported.text
        again = c.post("/api/v1/environment/export").json()
        assert _without_stamp(again) == _without_stamp(document)
        # Importing twice adds nothing: ids are kept, rows updated.
        assert c.post("/api/v1/environment/import", json=document).status_code == 204
        assert _without_stamp(c.post("/api/v1/environment/export").json()) == _without_stamp(document)
        assert c.get("/api/v1/app/acme/endpoint/main/secret").json()["key"] != SECRET  # the rotated one

        # Server B delivers with the moved secrets, and keeps them sealed with its own main secret.
        assert c.post("/api/v1/app/acme/msg", json={"eventType": "order.paid", "payload": {}, "channels": ["eu"]})
        got = receiver.wait_for(1)[0]
        key = c.get("/api/v1/app/acme/endpoint/main/secret").json()["key"]
        standardwebhooks.Webhook(key).verify(got.body, got.headers)
        standardwebhooks.Webhook(SECRET).verify(got.body, got.headers)  # the old one, in its grace period
    stored = _stored_secrets(other_database_url)
    assert len(stored) == 2
    assert all(s.startswith("enc:v1:") and SECRET not in s for s in stored)


def test_import_with_the_sdk_and_refusals(hookline) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    svix.environment.import_(EnvironmentIn(event_types=[EventTypeIn(name="a.b", description="A", feature_flags=["x"])]))
    created = svix.event_type.get("a.b")
    assert created.description == "A" and created.feature_flag == "x"

    with pytest.raises(HTTPValidationError) as invalid:
        svix.environment.import_(EnvironmentIn(event_types=[EventTypeIn(name="c", description="C", group_name="g")]))
    assert invalid.value.detail[0].loc[-1] == "groupName"
    with pytest.raises(HTTPValidationError) as invalid:
        svix.environment.import_(EnvironmentIn(settings={"colour": "red"}))
    assert invalid.value.detail[0].loc == ["body", "settings"]
    with hookline.client() as c:
        unknown = c.post("/api/v1/environment/import", json={"eventTypes": [], "webhooks": []})
        assert unknown.status_code == 422 and "webhooks" in unknown.text
        no_secret = {"applications": [{"id": "app_" + "0" * 22, "name": "A", "endpoints": [{"id": "ep_" + "0" * 22}]}]}
        refused = c.post("/api/v1/environment/import", json=no_secret)
        assert refused.status_code == 422
        assert c.get("/api/v1/app").json()["data"] == []  # all or nothing

    # Export and import are for admin tokens: the document holds every application's secrets.
    with hookline.client() as c:
        app_id = c.post("/api/v1/app", json={"name": "Acme"}).json()["id"]
    token = svix.authentication.app_portal_access(app_id, AppPortalAccessIn()).token
    scoped = Svix(token, SvixOptions(server_url=hookline.url))
    for call in (scoped.environment.export, lambda: scoped.environment.import_(EnvironmentIn(event_types=[]))):
        with pytest.raises(HttpError) as err:
            call()
        assert err.value.status_code == 403


def test_import_holds_policies_to_their_rules(hookline) -> None:
    """A document cannot bring in what the API would refuse: a bad filter, a bad schema."""
    with hookline.client() as c:
        app = {"id": "app_" + "A" * 22, "name": "Acme"}
        endpoint = {"id": "ep_" + "B" * 22, "url": "https://example.com/h", "secret": SECRET}
        bad_filter = {**endpoint, "filter": {"payload": {"amount": {"$between": [1, 2]}}}}
        resp = c.post("/api/v1/environment/import", json={"applications": [{**app, "endpoints": [bad_filter]}]})
        assert resp.status_code == 422, resp.text
        [item] = resp.json()["detail"]
        assert item["loc"][:6] == ["body", "applications", app["id"], "endpoints", endpoint["id"], "filter"]
        bad_schema = {"name": "a.b", "description": "x", "schemas": {"1": {"type": "nonsense"}}}
        resp = c.post("/api/v1/environment/import", json={"eventTypes": [bad_schema]})
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][:5] == [
            "body",
            "eventTypes",
            "a.b",
            "schemas",
            "1",
        ]
        assert c.post("/api/v1/environment/export").json()["applications"] == []  # nothing half-imported
