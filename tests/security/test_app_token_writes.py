"""What an application-scoped token may change: every write route of the OpenAPI document is
classified here, so a new route fails this test until someone decides who may call it.

Tenant routes act inside the token's own application (tests/api/test_tenant_isolation.py shows
they reach no other); operator routes refuse an application token even on its own application.
"""

from typing import Any

import httpx
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver

TENANT = {
    "v1.message.create",
    "v1.message.expunge-content",
    "v1.message-attempt.resend",
    "v1.message-attempt.expunge-content",
    "v1.application.update",  # its name only: tests/security/test_operational_takeover.py
    "v1.application.patch",
    "v1.endpoint.create",
    "v1.endpoint.update",
    "v1.endpoint.patch",
    "v1.endpoint.delete",
    "v1.endpoint.rotate-secret",
    "v1.endpoint.update-headers",
    "v1.endpoint.patch-headers",
    "v1.endpoint.send-example",
    "v1.endpoint.transformation-partial-update",
    "hookline.endpoint.transformation-simulate",  # runs code in the sandbox; stores nothing
    "hookline.endpoint.test-filter",  # answers about its own endpoint; stores nothing
    "hookline.endpoint.fifo-skip",
    "v1.endpoint.bulk-replay",
    "v1.endpoint.recover",
    "v1.endpoint.replay-missing",
    "v1.application.bulk-replay",
    "v1.authentication.expire-all",  # ends its own application's portal sessions
    "v1.authentication.logout",  # ends the calling token
    "v1.message.poller.consumer-seek",
    "hookline.endpoint.put-client-certificate",
    "hookline.endpoint.delete-client-certificate",
    # The inspector: a bin belongs to whoever made it (tests/api/test_inspect.py shows another
    # application's token reaches none of these on it).
    "hookline.inspect.create",
    "hookline.inspect.update",
    "hookline.inspect.delete",
    "hookline.inspect.delete-request",
    "hookline.inspect.delete-requests",
    "hookline.inspect.replay",
    "v1.message.precheck",  # reads only: whether its own endpoints would receive a message
    "v1.message.bulk-expunge-content",
    "v1.message.expunge-all-contents",  # its own application's payloads
}
OPERATOR = {
    "v1.application.create",
    "v1.application.delete",
    "v1.event-type.create",  # the catalogue is shared by every application
    "v1.event-type.update",
    "v1.event-type.patch",
    "v1.event-type.delete",
    "v1.event-type.import-openapi",
    "v1.authentication.app-portal-access",  # mints tokens
    "hookline.token.create",
    "hookline.token.revoke",
    "v1.integration.create",  # an integration key is a token that never expires
    "v1.integration.update",
    "v1.integration.delete",
    "v1.integration.rotate-key",
    "v1.statistics.aggregate-app-stats",  # across applications
    "v1.statistics.aggregate-event-types",
    "v1.environment.export",
    "v1.environment.import",
    # The inbound gateway is the operator's (its sources' applications are internal).
    "v1.ingest.source.create",
    "v1.ingest.source.update",
    "v1.ingest.source.delete",
    "v1.ingest.source.rotate-token",
    "hookline.ingest.source.patch",  # its allow-list and rate limit
    "hookline.ingest.endpoint.patch",
    "v1.ingest.endpoint.create",
    "v1.ingest.endpoint.update",
    "v1.ingest.endpoint.delete",
    "v1.ingest.endpoint.rotate-secret",
    "v1.ingest.endpoint.update-headers",
    "hookline.ingest.request.replay",
    "hookline.ingest.source.replay",
    "v1.operational-webhook.endpoint.create",  # where hookline's own events go
    "v1.operational-webhook.endpoint.update",
    "v1.operational-webhook.endpoint.delete",
    "v1.operational-webhook.endpoint.update-headers",
    "v1.operational-webhook.endpoint.rotate-secret",
}
BODIES: dict[str, Any] = {
    "v1.application.create": {"name": "x"},
    "v1.event-type.create": {"name": "z.z", "description": "x"},
    "v1.event-type.update": {"description": "x"},
    "v1.event-type.patch": {"description": "x"},
    "v1.event-type.import-openapi": {"specRaw": "openapi: 3.1.0"},
    "v1.integration.create": {"name": "x"},
    "v1.integration.update": {"name": "x"},
    "hookline.token.create": {"name": "x"},
    "v1.statistics.aggregate-app-stats": {"since": "2020-01-01T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
    "v1.environment.import": {"eventTypes": []},
    "v1.operational-webhook.endpoint.create": {"url": "https://example.com/ops"},
    "v1.operational-webhook.endpoint.update": {"url": "https://example.com/ops"},
    "v1.operational-webhook.endpoint.update-headers": {"headers": {}},
}


def _write_operations(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method, path)
        for path, operations in spec["paths"].items()
        for method, op in operations.items()
        if method in ("post", "put", "patch", "delete")
    }


def test_every_write_route_is_classified_and_operator_routes_refuse_app_tokens(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        app, ep = make_endpoint(admin, receiver.url(), app_uid="mine")
        admin.post("/api/v1/event-type", json={"name": "a.b", "description": "x"})
        publish(admin, "mine")
        wait_attempts(admin, "mine", ep, 1)
        integ = admin.post("/api/v1/app/mine/integration", json={"name": "crm"}).json()["id"]
        spec = admin.get("/api/v1/openapi.json").json()
        token = admin.post("/api/v1/auth/app-portal-access/mine", json={}).json()["token"]
        admin_token_id = admin.get("/api/v1/auth/token").json()["data"][0]["id"]
        source = admin.post("/ingest/api/v1/source", json={"name": "s", "type": "generic-webhook"}).json()["id"]

    writes = _write_operations(spec)
    assert set(writes) == TENANT | OPERATOR, f"classify: {sorted(set(writes) ^ (TENANT | OPERATOR))}"
    assert not TENANT & OPERATOR

    ids = {
        "app_id": app,
        "endpoint_id": ep,
        "event_type_name": "a.b",
        "integ_id": integ,
        "token_id": admin_token_id,
        "source_id": source,
        "request_id": "req_x",
    }
    with httpx.Client(base_url=hookline.url, headers={"Authorization": f"Bearer {token}"}) as tenant:
        for operation in sorted(OPERATOR):
            method, path = writes[operation]
            url = path.format(**ids)
            body = BODIES.get(operation, {} if method != "delete" else None)
            resp = tenant.request(method.upper(), url, json=body)
            assert resp.status_code in (403, 404), (operation, resp.status_code, resp.text)
            assert resp.json()["code"] in ("forbidden", "not_found"), operation

    # Nothing the operator owns changed.
    with hookline.client() as admin:
        assert admin.get("/api/v1/app/mine").status_code == 200
        assert admin.get("/api/v1/event-type/a.b").json()["description"] == "x"
        assert admin.get(f"/api/v1/app/mine/integration/{integ}").json()["name"] == "crm"
        assert admin.get(f"/ingest/api/v1/source/{source}").json()["name"] == "s"
        assert any(
            t["id"] == admin_token_id and not t.get("revokedAt") for t in admin.get("/api/v1/auth/token").json()["data"]
        )
