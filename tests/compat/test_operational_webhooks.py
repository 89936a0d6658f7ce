"""svix ``operational_webhook.endpoint.*`` against a real server: the nine calls manage where
hookline sends its own events, alongside the environment-variable endpoint."""

import json

import pytest
import standardwebhooks
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    EndpointIn,
    OperationalWebhookEndpointHeadersIn,
    OperationalWebhookEndpointIn,
    OperationalWebhookEndpointListOptions,
    OperationalWebhookEndpointSecretIn,
    OperationalWebhookEndpointUpsertIn,
)
from svix.exceptions import HttpError
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until

WAIT = 60.0


def test_operational_endpoints_with_the_sdk(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    ops = svix.operational_webhook.endpoint
    assert ops.list().data == []

    created = ops.create(
        OperationalWebhookEndpointIn(
            url=receiver.url("/ops"), uid="pager", event_types=["endpoint.created"], headers={"X-Team": "sre"}
        )
    )
    assert created.uid == "pager" and created.event_types == ["endpoint.created"]
    assert ops.get("pager").id == created.id
    assert ops.get_headers(created.id).headers == {"X-Team": "sre"}
    secret = ops.get_secret("pager").key
    assert secret.startswith("whsec_")

    # hookline's own event reaches it, signed with its secret, with its headers.
    app = svix.application.create(ApplicationIn(name="Acme"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url("/tenant")))
    got = receiver.wait_for(1, timeout=WAIT)[0]
    assert got.path == "/ops" and got.headers["x-team"] == "sre"
    standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    event = json.loads(got.body)
    assert event["type"] == "endpoint.created" and event["data"]["endpointId"] == ep.id
    # The operational application stays invisible to the application API.
    assert [a.id for a in svix.application.list().data] == [app.id]

    ops.set_headers("pager", OperationalWebhookEndpointHeadersIn(headers={"X-Other": "1"}))
    assert ops.get_headers("pager").headers == {"X-Other": "1"}
    ops.rotate_secret("pager", OperationalWebhookEndpointSecretIn())
    new_secret = ops.get_secret("pager").key
    assert new_secret != secret

    updated = ops.upsert("pager", OperationalWebhookEndpointUpsertIn(url=receiver.url("/ops2"), description="d"))
    assert updated.id == created.id and updated.description == "d" and updated.event_types is None
    made = ops.upsert("audit", OperationalWebhookEndpointUpsertIn(url=receiver.url("/audit"), disabled=True))
    assert made.uid == "audit" and made.disabled
    page = ops.list(OperationalWebhookEndpointListOptions(limit=1))
    assert len(page.data) == 1 and not page.done
    assert {e.uid for e in ops.list().data} == {"pager", "audit"}

    ops.delete("audit")
    with pytest.raises(HttpError) as err:
        ops.get("audit")
    assert err.value.status_code == 404

    # Operator only: an application's token is refused.
    client = hookline.client()
    token = client.post(f"/api/v1/auth/app-portal-access/{app.id}", json={}).json()["token"]
    scoped = hookline.client(token)
    assert scoped.get("/api/v1/operational-webhook/endpoint").status_code == 403
    r = scoped.post("/api/v1/operational-webhook/endpoint", json={"url": receiver.url()})
    assert r.status_code == 403
    # A field hookline would not apply is refused, naming it.
    r = client.post("/api/v1/operational-webhook/endpoint", json={"url": receiver.url(), "channels": ["a"]})
    assert r.status_code == 422 and "channels" in r.text


def test_environment_endpoint_is_listed_and_kept(hookline_factory, receiver: Receiver) -> None:
    with hookline_factory(operational_webhook_url=receiver.url("/env")) as hl:
        svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hl.url))
        listed = svix.operational_webhook.endpoint.list().data
        assert [e.uid for e in listed] == ["env"]
        svix.operational_webhook.endpoint.create(OperationalWebhookEndpointIn(url=receiver.url("/api")))
        app = svix.application.create(ApplicationIn(name="Acme"))
        svix.endpoint.create(app.id, EndpointIn(url=receiver.url("/tenant")))
        wait_until(lambda: {r.path for r in receiver.requests} >= {"/env", "/api"}, WAIT)
