"""Bearer tokens: the admin token reaches everything, an app-scoped token its own application only."""

import asyncio
import typing

import httpx
import pytest
from svix import Svix, SvixOptions
from svix.api import ApplicationIn, ApplicationTokenExpireIn, AppPortalAccessIn, EndpointIn
from svix.exceptions import HttpError, HTTPValidationError
from svix.models import AppPortalCapability
from tests.support.api import make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN, Receiver

from hookline.api.errors import ApiError
from hookline.api.routes.auth import ApiTokenOut
from hookline.store import tokens
from hookline.store.database import Database


def _app_token(database_url: str, app_id: str) -> str:
    """What ``hookline token create --app`` does."""

    async def create() -> str:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                return await tokens.create(conn, app_id=app_id, name="tenant")
        finally:
            await db.close()

    return asyncio.run(create())


def _refused(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    assert resp.json()["code"] == code and resp.json()["detail"], resp.text


def test_missing_or_wrong_token_is_401(hookline) -> None:
    with httpx.Client(base_url=hookline.url, timeout=30) as anonymous:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "x"},
        ):
            for method, path in [
                ("GET", "/api/v1/app"),
                ("POST", "/api/v1/app/acme/msg"),
                ("GET", "/api/v1/event-type"),
            ]:
                resp = anonymous.request(method, path, headers=headers, json={"eventType": "a", "payload": {}})
                _refused(resp, 401, "authentication_failed")
                assert set(resp.json()) == {"code", "detail"} and "token" in resp.json()["detail"]
                assert resp.headers["www-authenticate"] == "Bearer"
        # Health and the API description are public.
        assert anonymous.get("/api/v1/health/ping").status_code == 204
        assert anonymous.get("/api/v1/openapi.json").status_code == 200


def test_app_token_reaches_its_own_application_only(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        mine, my_ep = make_endpoint(admin, receiver.url(), app_uid="mine")
        _, their_ep = make_endpoint(admin, receiver.url(), app_uid="theirs")
        their_msg = publish(admin, "theirs")
        admin.post("/api/v1/event-type", json={"name": "a.b", "description": "x"})
    token = _app_token(hookline.settings.database_url, mine)

    with hookline.client(token) as tenant:
        # Its own application, by id or uid, and everything under it.
        assert tenant.get(f"/api/v1/app/{mine}").json()["uid"] == "mine"
        assert tenant.get("/api/v1/app/mine").status_code == 200
        assert [a["id"] for a in tenant.get("/api/v1/app").json()["data"]] == [mine]
        assert tenant.get(f"/api/v1/app/mine/endpoint/{my_ep}").status_code == 200
        assert tenant.post("/api/v1/app/mine/endpoint", json={"url": receiver.url()}).status_code == 201
        assert tenant.patch("/api/v1/app/mine", json={"name": "Mine"}).json()["name"] == "Mine"
        published = tenant.post("/api/v1/app/mine/msg", json={"eventType": "a.b", "payload": {}})
        assert published.status_code == 202, published.text
        assert tenant.get(f"/api/v1/app/mine/msg/{published.json()['id']}").status_code == 200
        # Reading the shared catalogue is fine.
        assert [e["name"] for e in tenant.get("/api/v1/event-type").json()["data"]] == ["a.b"]

        # Another application does not exist as far as this token can tell.
        for method, path in [
            ("GET", "/api/v1/app/theirs"),
            ("PATCH", "/api/v1/app/theirs"),
            ("GET", "/api/v1/app/theirs/endpoint"),
            ("GET", f"/api/v1/app/theirs/endpoint/{their_ep}"),
            ("GET", f"/api/v1/app/mine/endpoint/{their_ep}"),
            ("GET", f"/api/v1/app/theirs/msg/{their_msg}"),
            ("GET", f"/api/v1/app/mine/msg/{their_msg}"),
            ("POST", "/api/v1/app/theirs/msg"),
        ]:
            body = {"eventType": "a.b", "payload": {}} if method == "POST" else {"name": "x"}
            _refused(tenant.request(method, path, json=body), 404, "not_found")
        # Publishing cannot create applications with an app token.
        body = {"eventType": "a.b", "payload": {}, "application": {"name": "New"}}
        _refused(tenant.post("/api/v1/app/new-one/msg", json=body), 404, "not_found")

        # Admin-only routes.
        for method, path, body in [
            ("POST", "/api/v1/app", {"name": "x"}),
            ("PUT", "/api/v1/app/brand-new", {"name": "x"}),
            ("DELETE", "/api/v1/app/mine", None),
            ("POST", "/api/v1/event-type", {"name": "c.d", "description": "x"}),
            ("PUT", "/api/v1/event-type/a.b", {"description": "x"}),
            ("PATCH", "/api/v1/event-type/a.b", {"description": "x"}),
            ("DELETE", "/api/v1/event-type/a.b", None),
            ("POST", "/api/v1/auth/app-portal-access/mine", {}),
        ]:
            _refused(tenant.request(method, path, json=body), 403, "forbidden")

    with hookline.client() as admin:
        assert admin.get("/api/v1/app/theirs").json()["name"] == "theirs"
        assert admin.get("/api/v1/event-type/a.b").json()["description"] == "x"
        assert len(admin.get("/api/v1/app").json()["data"]) == 2


def test_svix_sdk_authentication_calls(hookline) -> None:
    """The unmodified svix SDK: app_portal_access with every option, expire_all by session, logout."""
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    grant = AppPortalAccessIn(
        application=ApplicationIn(name="Acme", uid="acme"),
        expiry=3600,
        read_only=True,
        capabilities=[AppPortalCapability.VIEW_BASE],
        session_id="browser-1",
    )
    viewer = svix.authentication.app_portal_access("acme", grant).token
    other = svix.authentication.app_portal_access("acme", AppPortalAccessIn(session_id="browser-2")).token
    as_viewer = Svix(viewer, SvixOptions(server_url=hookline.url))
    assert as_viewer.application.get("acme").uid == "acme"
    with pytest.raises(HttpError) as refused:
        as_viewer.endpoint.create("acme", EndpointIn(url="https://example.com/h"))
    assert refused.value.status_code == 403
    with pytest.raises(HTTPValidationError) as invalid:
        svix.authentication.app_portal_access("acme", AppPortalAccessIn(expiry=60))
    assert invalid.value.status_code == 422 and "expiry" in str(invalid.value.to_dict())

    svix.authentication.expire_all("acme", ApplicationTokenExpireIn(session_ids=["browser-1"]))
    with httpx.Client(base_url=hookline.url, timeout=30) as c:
        assert c.get("/api/v1/app/acme", headers={"Authorization": f"Bearer {viewer}"}).status_code == 401
        assert c.get("/api/v1/app/acme", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    Svix(other, SvixOptions(server_url=hookline.url)).authentication.logout()
    with httpx.Client(base_url=hookline.url, timeout=30) as c:
        assert c.get("/api/v1/app/acme", headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_the_capability_policy_names_real_routes_and_starts_closed() -> None:
    """A typo in POLICY would silently close a route to every capability: each entry must be served."""
    from hookline.api.app import create_app
    from hookline.api.auth import POLICY, Principal, need
    from hookline.config import Settings
    from hookline.services.tokens import Capability

    app = create_app(Settings(database_url="sqlite:///unused.db"), run_engine=False)
    served = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert set(POLICY) <= served, set(POLICY) - served
    # Routes not in the table: reads need ViewBase, anything else a token without capability limits.
    assert need("GET", "/api/v1/app/{app_id}/msg") == frozenset({Capability.VIEW_BASE})
    assert need("POST", "/api/v1/app/{app_id}/msg") == "full"
    viewer = Principal(app_id="app_1", capabilities=frozenset({Capability.VIEW_BASE}))
    viewer.authorize("GET", "/api/v1/app/{app_id}/endpoint")
    with pytest.raises(ApiError):
        viewer.authorize("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret")
    Principal(app_id="app_1", read_only=True).authorize("POST", "/api/v1/auth/logout")


_APP = "/api/v1/app/{app_id}"
_EP = _APP + "/endpoint/{endpoint_id}"
# What each portal capability adds to ViewBase (which every grant includes): every served route
# of an application, and nothing else.
_GRANTS = {
    "ViewBase": set(),
    "ViewEndpointSecret": {("GET", _EP + "/secret")},
    "ManageEndpointSecret": {("GET", _EP + "/secret"), ("POST", _EP + "/secret/rotate")},
    "ManageEndpoint": {
        ("GET", _EP + "/secret"),
        ("POST", _EP + "/secret/rotate"),
        ("POST", _APP + "/endpoint"),
        ("PUT", _EP),
        ("PATCH", _EP),
        ("DELETE", _EP),
        ("PUT", _EP + "/headers"),
        ("PATCH", _EP + "/headers"),
        ("PUT", _EP + "/client-certificate"),
        ("DELETE", _EP + "/client-certificate"),
        ("POST", _EP + "/filter/test"),
        ("POST", _EP + "/fifo/skip-head"),
    },
    "ManageTransformations": {("PATCH", _EP + "/transformation"), ("POST", _EP + "/transformation/simulate")},
    "CreateAttempts": {
        ("POST", _APP + "/msg/{msg_id}/endpoint/{endpoint_id}/resend"),
        ("POST", _EP + "/recover"),
        ("POST", _EP + "/replay-missing"),
        ("POST", _EP + "/bulk-replay"),
        ("POST", _APP + "/bulk-replay"),
        ("POST", _EP + "/send-example"),
    },
}


def test_each_portal_capability_grants_its_routes_and_nothing_more() -> None:
    from hookline.api.app import create_app
    from hookline.api.auth import Principal
    from hookline.config import Settings
    from hookline.services.tokens import Capability

    app = create_app(Settings(database_url="sqlite:///unused.db"), run_engine=False)
    served = {(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item}
    own = {(m, path) for m, path in served if path.startswith(_APP) and m != "HEAD"}

    def allowed(principal: Principal) -> set[tuple[str, str]]:
        granted = set()
        for method, path in own:
            try:
                principal.authorize(method, path)
            except ApiError:
                continue
            granted.add((method, path))
        return granted

    base = allowed(Principal(app_id="app_1", capabilities=frozenset({Capability.VIEW_BASE})))
    # ViewBase: every read but the secret and the integration key (a token for the whole application),
    # and a consumer's poll, a GET that moves the consumer's cursor (b55870d).
    reads = {(m, p) for m, p in own if m == "GET"}
    secret, integration_key = ("GET", _EP + "/secret"), ("GET", _APP + "/integration/{integ_id}/key")
    consumer_poll = ("GET", _APP + "/poller/{sink_id}/consumer/{consumer_id}")
    assert base == reads - {secret, integration_key, consumer_poll}
    assert set(_GRANTS) == {c.value for c in Capability}
    for capability, routes in _GRANTS.items():
        assert routes <= own, routes - own  # a renamed route would pass unnoticed
        principal = Principal(app_id="app_1", capabilities=frozenset({Capability.VIEW_BASE, Capability(capability)}))
        assert allowed(principal) - base == routes, capability
    # Read-only is ViewBase alone: a read-only portal link cannot read the signing secret either.
    assert allowed(Principal(app_id="app_1", read_only=True)) == base


def test_manage_transformations_reaches_the_transformation_routes_over_http(hookline, receiver: Receiver) -> None:
    with hookline.client() as admin:
        _, ep = make_endpoint(admin, receiver.url(), app_uid="acme")
        integration = admin.post("/api/v1/app/acme/integration", json={"name": "ci"}).json()["id"]

        def portal(**body: object) -> str:
            resp = admin.post("/api/v1/auth/app-portal-access/acme", json=body)
            assert resp.status_code == 200, resp.text
            return str(resp.json()["token"])

        transformer = portal(capabilities=["ManageTransformations"])
        manager = portal(capabilities=["ManageEndpoint"])
        read_only = portal(readOnly=True)
    path = f"/api/v1/app/acme/endpoint/{ep}/transformation"
    code = "function handler(webhook) { webhook.payload.seen = true; return webhook; }"
    simulate = {"code": code, "eventType": "a.b", "payload": {"n": 1}}
    with hookline.client(transformer) as c:
        assert c.patch(path, json={"code": code, "enabled": True}).status_code == 204
        assert c.get(path).json()["enabled"] is True
        simulated = c.post(f"{path}/simulate", json=simulate)
        assert simulated.status_code == 200 and simulated.json()["ok"] is True, simulated.text
        _refused(c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"description": "x"}), 403, "forbidden")
    with hookline.client(manager) as c:
        _refused(c.patch(path, json={"enabled": False}), 403, "forbidden")
        _refused(c.post(f"{path}/simulate", json=simulate), 403, "forbidden")
    # An integration's key would lift any limit: a read-only or limited token cannot read it.
    for token in (read_only, manager, transformer):
        with hookline.client(token) as c:
            _refused(c.get(f"/api/v1/app/acme/integration/{integration}/key"), 403, "forbidden")
    # Nor can a read-only one read the endpoint's signing secret (Svix's ViewBase does not).
    with hookline.client(read_only) as c:
        _refused(c.get(f"/api/v1/app/acme/endpoint/{ep}/secret"), 403, "forbidden")
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}").status_code == 200


def test_the_token_origin_description_names_every_origin_stored() -> None:
    """It left out dashboard (the tokens of dashboard sign-in sessions, listed with the others)."""
    description = ApiTokenOut.model_fields["origin"].description or ""
    assert [o for o in typing.get_args(tokens.Origin) if o not in description] == []
