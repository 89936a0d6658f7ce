"""/api/v1/app/{app}/endpoint: CRUD, secrets, custom headers and send-example."""

import base64
import json
import secrets

import pytest
import standardwebhooks
from svix.models import EndpointHeadersOut, EndpointOut, EndpointSecretOut, ListResponseEndpointOut
from tests.support.servers import Receiver

# Nothing is published in the CRUD test: these are never called.
URL, URL_2 = "https://hooks.example/acme", "https://hooks.example/v2"


def _secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def test_endpoint_crud(hookline) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        created = c.post(
            "/api/v1/app/acme/endpoint",
            json={
                "url": URL,
                "uid": "main",
                "description": "Main",
                "eventTypes": ["invoice.paid"],
                "channels": ["eu"],
                "metadata": {"team": "billing"},
                "throttleRate": 10,
            },
        )
        assert created.status_code == 201, created.text
        ep = EndpointOut.model_validate(created.json())
        assert ep.id.startswith("ep_") and ep.uid == "main" and ep.url == URL
        assert (ep.event_types, ep.channels, ep.throttle_rate, ep.disabled) == (["invoice.paid"], ["eu"], 10, False)
        assert "secret" not in created.json()
        assert c.get(f"/api/v1/app/acme/endpoint/{ep.id}").json() == created.json()
        assert c.get("/api/v1/app/acme/endpoint/main").json() == created.json()

        clash = c.post("/api/v1/app/acme/endpoint", json={"url": URL, "uid": "main"})
        assert clash.status_code == 409 and clash.json()["code"] == "conflict"
        # uids are per application.
        c.post("/api/v1/app", json={"name": "Other", "uid": "other"})
        assert c.post("/api/v1/app/other/endpoint", json={"url": URL, "uid": "main"}).status_code == 201

        # PUT replaces every field it has; without a uid it keeps the uid it was addressed by.
        put = c.put("/api/v1/app/acme/endpoint/main", json={"url": URL_2, "description": "Second"})
        assert put.status_code == 200, put.text
        body = put.json()
        assert (body["id"], body["uid"], body["url"], body["description"]) == (
            ep.id,
            "main",
            URL_2,
            "Second",
        )
        assert body["eventTypes"] is None and body["channels"] is None and body["throttleRate"] is None
        assert c.get("/api/v1/app/acme/endpoint/main").status_code == 200

        patched = c.patch("/api/v1/app/acme/endpoint/main", json={"disabled": True, "eventTypes": ["a.b", "c.d"]})
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert body["disabled"] is True and body["eventTypes"] == ["a.b", "c.d"]
        assert body["url"] == URL_2 and body["description"] == "Second"
        # null clears a list; null for a required field leaves it alone.
        body = c.patch("/api/v1/app/acme/endpoint/main", json={"eventTypes": None, "url": None}).json()
        assert body["eventTypes"] is None and body["url"] == URL_2

        second = c.post("/api/v1/app/acme/endpoint", json={"url": URL}).json()
        listed = ListResponseEndpointOut.model_validate(c.get("/api/v1/app/acme/endpoint").json())
        assert [e.id for e in listed.data] == sorted([ep.id, second["id"]]) and listed.done

        assert c.delete("/api/v1/app/acme/endpoint/main").status_code == 204
        gone = c.get(f"/api/v1/app/acme/endpoint/{ep.id}")
        assert gone.status_code == 404 and gone.json() == {"code": "not_found", "detail": "endpoint not found"}
        assert c.delete("/api/v1/app/acme/endpoint/main").status_code == 404
        assert [e["id"] for e in c.get("/api/v1/app/acme/endpoint").json()["data"]] == [second["id"]]
        # PUT creates a missing endpoint (Svix's upsert), with the path's key as its uid.
        recreated = c.put("/api/v1/app/acme/endpoint/main", json={"url": URL})
        assert recreated.status_code == 201 and recreated.json()["uid"] == "main"


def test_secret_get_and_rotate(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        generated = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url()}).json()["id"]
        key = EndpointSecretOut.model_validate(c.get(f"/api/v1/app/acme/endpoint/{generated}/secret").json()).key
        assert key.startswith("whsec_") and len(base64.b64decode(key[6:])) >= 24

        chosen = _secret()
        given = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url(), "secret": chosen}).json()["id"]
        assert c.get(f"/api/v1/app/acme/endpoint/{given}/secret").json() == {"key": chosen}

        rotated = c.post(f"/api/v1/app/acme/endpoint/{given}/secret/rotate", json={})
        assert rotated.status_code == 200, rotated.text
        new_key = rotated.json()["key"]
        assert new_key.startswith("whsec_") and new_key != chosen
        assert c.get(f"/api/v1/app/acme/endpoint/{given}/secret").json() == {"key": new_key}

        mine = _secret()
        body = {"key": mine, "gracePeriodSeconds": 0}
        assert c.post(f"/api/v1/app/acme/endpoint/{given}/secret/rotate", json=body).json() == {"key": mine}
        assert c.get(f"/api/v1/app/acme/endpoint/{given}/secret").json() == {"key": mine}

        # The first rotation left ``chosen`` signing for a day; the second, without a
        # grace period, retired ``new_key`` at once.
        c.post(f"/api/v1/app/acme/endpoint/{given}/send-example", json={"eventType": "svix.ping"})
        delivered = receiver.wait_for(1)[0]
        assert len(delivered.headers["webhook-signature"].split(" ")) == 2
        standardwebhooks.Webhook(mine).verify(delivered.body, delivered.headers)
        standardwebhooks.Webhook(chosen).verify(delivered.body, delivered.headers)
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook(new_key).verify(delivered.body, delivered.headers)


def test_custom_headers_are_sent_and_sensitive_ones_redacted(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        ep = c.post(
            "/api/v1/app/acme/endpoint", json={"url": receiver.url(), "headers": {"X-Created": "at-create"}}
        ).json()["id"]
        headers_path = f"/api/v1/app/acme/endpoint/{ep}/headers"
        assert c.get(headers_path).json() == {"headers": {"X-Created": "at-create"}, "sensitive": []}

        put = c.put(headers_path, json={"headers": {"Authorization": "Bearer s3cret", "X-Team": "billing"}})
        assert put.status_code == 204, put.text
        shown = EndpointHeadersOut.model_validate(c.get(headers_path).json())
        assert shown.headers == {"X-Team": "billing"}  # PUT replaced X-Created
        assert shown.sensitive == ["Authorization"]
        assert "s3cret" not in c.get(headers_path).text

        patch = c.patch(headers_path, json={"headers": {"x-team": None, "X-Region": "eu"}})
        assert patch.status_code == 204, patch.text
        assert c.get(headers_path).json() == {"headers": {"X-Region": "eu"}, "sensitive": ["Authorization"]}
        # Names are case-insensitive: this replaces X-Region instead of adding a second one.
        assert c.patch(headers_path, json={"headers": {"x-region": "us"}}).status_code == 204
        assert c.get(headers_path).json()["headers"] == {"x-region": "us"}

        c.post(f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "svix.ping"})
        delivered = receiver.wait_for(1)[0]
    assert delivered.headers["authorization"] == "Bearer s3cret"
    assert delivered.headers["x-region"] == "us"
    assert "x-team" not in delivered.headers and "x-created" not in delivered.headers


@pytest.mark.parametrize(
    "name", ["Host", "content-type", "Content-Length", "Webhook-Signature", "svix-id", "Transfer-Encoding", "TE"]
)
def test_headers_hookline_owns_are_refused_by_name_everywhere_they_are_set(hookline, name: str) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        url = "https://hooks.example/in"
        created = c.post("/api/v1/app/acme/endpoint", json={"url": url, "headers": {name: "x"}})
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": url, "headers": {"X-Kept": "1"}}).json()["id"]
        path = f"/api/v1/app/acme/endpoint/{ep}/headers"
        put = c.put(path, json={"headers": {"X-Fine": "1", name: "x"}})
        patch = c.patch(path, json={"headers": {name: "x"}})
        for refused in (created, put, patch):
            assert refused.status_code == 422, refused.text
            (detail,) = refused.json()["detail"]
            assert detail["loc"] == ["body", "headers", name] and "cannot be a custom header" in detail["msg"]
        # Nothing of a refused change was kept; removing such a header is allowed.
        assert c.get(path).json()["headers"] == {"X-Kept": "1"}
        assert c.patch(path, json={"headers": {name: None}}).status_code == 204
        assert [e["id"] for e in c.get("/api/v1/app/acme/endpoint").json()["data"]] == [ep]  # none half-made


def test_header_names_that_differ_only_by_case_are_refused_not_reduced_to_one(hookline) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        url = "https://hooks.example/in"
        twice = {"X-A": "1", "x-a": "2"}
        created = c.post("/api/v1/app/acme/endpoint", json={"url": url, "headers": twice})
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": url, "headers": {"X-Kept": "1"}}).json()["id"]
        path = f"/api/v1/app/acme/endpoint/{ep}/headers"
        for refused in (created, c.put(path, json={"headers": twice}), c.patch(path, json={"headers": twice})):
            assert refused.status_code == 422, refused.text
            (detail,) = refused.json()["detail"]
            assert detail["loc"] == ["body", "headers", "x-a"] and "name the same header" in detail["msg"]
        assert c.get(path).json()["headers"] == {"X-Kept": "1"}


def test_a_header_both_set_and_in_delete_headers_is_refused_not_made_a_delete(hookline) -> None:
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        url = "https://hooks.example/in"
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": url, "headers": {"X-A": "0", "X-B": "0"}}).json()["id"]
        path = f"/api/v1/app/acme/endpoint/{ep}/headers"
        for deleted in ("X-A", "x-a"):
            refused = c.patch(path, json={"headers": {"X-A": "1"}, "deleteHeaders": ["X-B", deleted]})
            assert refused.status_code == 422, refused.text
            (detail,) = refused.json()["detail"]
            assert detail["loc"] == ["body", "deleteHeaders", deleted]
            assert f"{deleted} is also set in headers" in detail["msg"]
        assert c.get(path).json()["headers"] == {"X-A": "0", "X-B": "0"}
        # A removal named twice (a null value, and in deleteHeaders) is no contradiction.
        both = c.patch(path, json={"headers": {"X-A": None, "X-C": "1"}, "deleteHeaders": ["x-a", "X-B", "x-b"]})
        assert both.status_code == 204, both.text
        assert c.get(path).json()["headers"] == {"X-C": "1"}


def test_send_example_refuses_an_event_type_the_catalogue_does_not_have(hookline, receiver: Receiver) -> None:
    """A typo in eventType sent a generic example of an event type that does not exist."""
    with hookline.client() as c:
        c.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "Paid"})
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        ep = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url()}).json()["id"]
        path = f"/api/v1/app/acme/endpoint/{ep}/send-example"
        for body in ({"eventType": "invoice.piad"}, {"eventType": "invoice.piad", "payload": {"n": 1}}):
            refused = c.post(path, json=body)
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "validation"
            [problem] = refused.json()["detail"]
            assert problem["loc"] == ["body", "eventType"] and "'invoice.piad'" in problem["msg"]
        assert c.get("/api/v1/app/acme/msg").json()["data"] == []
        # Svix's built-in test event needs no event type of its own.
        ping = c.post(path, json={"eventType": "svix.ping"})
        assert ping.status_code == 200, ping.text
        assert ping.json()["payload"] == {"success": True}
        assert json.loads(receiver.wait_for(1)[0].body) == {"success": True}
        assert c.post(path, json={"eventType": "invoice.paid"}).status_code == 200


def test_send_example_goes_to_that_endpoint_only(hookline, receiver: Receiver) -> None:
    example = {"invoice": "inv_1", "amount": 42}
    schema = {"1": {"type": "object", "examples": [example]}}
    with hookline.client() as c:
        c.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "Paid", "schemas": schema})
        c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"})
        target = c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url("/target")}).json()["id"]
        c.post("/api/v1/app/acme/endpoint", json={"url": receiver.url("/bystander")})
        secret = c.get(f"/api/v1/app/acme/endpoint/{target}/secret").json()["key"]

        sent = c.post(f"/api/v1/app/acme/endpoint/{target}/send-example", json={"eventType": "invoice.paid"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["eventType"] == "invoice.paid" and sent.json()["payload"] == example
        # An event type without a schema example gets a generic body.
        c.post("/api/v1/event-type", json={"name": "no.schema", "description": "No schema"})
        generic = c.post(f"/api/v1/app/acme/endpoint/{target}/send-example", json={"eventType": "no.schema"})
        assert generic.status_code == 200 and generic.json()["payload"]["type"] == "no.schema"
        missing = c.post("/api/v1/app/acme/endpoint/ep_missing/send-example", json={"eventType": "invoice.paid"})
        assert missing.status_code == 404

        delivered = receiver.wait_for(2)
    assert {r.path for r in delivered} == {"/target"}
    first = next(r for r in delivered if r.headers["webhook-id"] == sent.json()["id"])
    assert json.loads(first.body) == example
    standardwebhooks.Webhook(secret).verify(first.body, first.headers)
