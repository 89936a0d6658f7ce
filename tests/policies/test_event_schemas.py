"""Versioned event schemas on a real server: checked on write, enforced, warned about or
ignored on publish, and imported from an OpenAPI 3.1 document (API, svix SDK and CLI)."""

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from svix import Svix, SvixOptions
from svix.models import EventTypeImportOpenApiIn
from tests.support.api import make_endpoint
from tests.support.servers import ADMIN_TOKEN

from hookline.cli import main

OPENAPI = Path(__file__).parents[1] / "domain" / "data" / "payments_webhooks.yaml"
V1 = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}
V2 = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {"amount": {"type": "integer", "minimum": 0}, "currency": {"type": "string", "minLength": 3}},
}


def _event_type(c: Any, name: str, mode: str | None) -> None:
    body: dict[str, Any] = {"name": name, "description": "x", "schemas": {"1": V1, "2": V2}}
    if mode is not None:
        body["schemaValidation"] = mode
    resp = c.post("/api/v1/event-type", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["schemaValidation"] == (mode or "off")


def _publish(c: Any, event_type: str, payload: dict[str, Any], **extra: Any) -> Any:
    return c.post("/api/v1/app/acme/msg", json={"eventType": event_type, "payload": payload, **extra})


def test_bad_schemas_are_refused_naming_the_problem(hookline) -> None:
    with hookline.client() as c:
        bad = c.post(
            "/api/v1/event-type",
            json={"name": "a.b", "description": "x", "schemas": {"1": V1, "2": {"type": "objekt"}}},
        )
        assert bad.status_code == 422, bad.text
        detail = bad.json()["detail"][0]
        assert detail["loc"] == ["body", "schemas", "2", "type"]
        assert detail["msg"].startswith("schemas.2/type: ")
        ref = c.put(
            "/api/v1/event-type/a.b",
            json={"description": "x", "schemas": {"1": {"$ref": "https://elsewhere.example/s.json"}}},
        )
        assert ref.status_code == 422 and "not local" in ref.json()["detail"][0]["msg"]
        version = c.post("/api/v1/event-type", json={"name": "a.c", "description": "x", "schemas": {"v1": V1}})
        assert version.status_code == 422 and "positive integer" in version.json()["detail"][0]["msg"]
        c.post("/api/v1/event-type", json={"name": "a.d", "description": "x"})
        patched = c.patch("/api/v1/event-type/a.d", json={"schemas": {"1": {"minimum": "zero"}}})
        assert patched.status_code == 422 and patched.json()["detail"][0]["loc"] == ["body", "schemas", "1", "minimum"]
        mode = c.patch("/api/v1/event-type/a.d", json={"schemaValidation": "strict"})
        assert mode.status_code == 422
        assert c.get("/api/v1/event-type/a.d").json()["schemas"] is None


def test_enforce_refuses_a_payload_that_fails_its_version(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        _event_type(c, "invoice.paid", "enforce")
        # The default version is the highest: 2 wants a currency.
        refused = _publish(c, "invoice.paid", {"amount": 5})
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["body", "payload"]
        assert "schema version 2" in detail["msg"] and "'currency' is a required property" in detail["msg"]
        negative = _publish(c, "invoice.paid", {"amount": -1, "currency": "eur"})
        assert negative.status_code == 422
        detail = negative.json()["detail"][0]
        assert detail["loc"] == ["body", "payload", "amount"]
        assert "at /amount (JSON pointer)" in detail["msg"] and "less than the minimum of 0" in detail["msg"]
        # Naming version 1 checks against version 1.
        ok = _publish(c, "invoice.paid", {"amount": 5}, schemaVersion="1")
        assert ok.status_code == 202, ok.text
        assert ok.json()["schemaVersion"] == "1" and ok.json()["schemaWarning"] is None
        latest = _publish(c, "invoice.paid", {"amount": 5, "currency": "eur"})
        assert latest.status_code == 202 and latest.json()["schemaVersion"] == "2"
        unknown = _publish(c, "invoice.paid", {"amount": 5}, schemaVersion="7")
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "schemaVersion"]
        # Refused messages were not stored and sent nothing.
        receiver.wait_for(2)
        listed = c.get("/api/v1/app/acme/msg").json()["data"]
        assert sorted(m["schemaVersion"] for m in listed) == ["1", "2"]


def test_send_example_follows_the_schema_and_its_imported_examples(hookline, receiver) -> None:
    media = {
        "schema": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}},
        "examples": {"first": {"value": {"amount": 5}}, "second": {"value": {"amount": 7}}},
    }
    webhook = {"post": {"requestBody": {"content": {"application/json": media}}, "responses": {"200": {}}}}
    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": {"payment.done": webhook}}
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        assert c.post("/api/v1/event-type/import/openapi", json={"spec": spec}).status_code == 200
        # The body's own examples (OpenAPI's media-type examples) are what send-example sends.
        sent = c.post(f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "payment.done"})
        assert sent.status_code == 200 and sent.json()["payload"] == {"amount": 5}, sent.text
        second = c.post(
            f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "payment.done", "exampleIndex": 1}
        )
        assert second.json()["payload"] == {"amount": 7}, second.text
        # Under enforce, a generated example that fails the schema is refused as a publish would be.
        _event_type(c, "invoice.paid", "enforce")
        refused = c.post(f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "invoice.paid"})
        assert refused.status_code == 422, refused.text
        assert "schema version 2" in refused.json()["detail"][0]["msg"]
        given = {"amount": 3, "currency": "eur"}
        ok = c.post(
            f"/api/v1/app/acme/endpoint/{ep}/send-example", json={"eventType": "invoice.paid", "payload": given}
        )
        assert ok.status_code == 200 and ok.json()["schemaVersion"] == "2", ok.text


def _warnings_metric(c: Any, event_type: str) -> float:
    text = c.get("/metrics").text
    found = re.search(rf'^hookline_schema_warnings_total\{{event_type="{re.escape(event_type)}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_warn_accepts_counts_and_marks_the_message(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        _event_type(c, "invoice.warned", "warn")
        before = _warnings_metric(c, "invoice.warned")
        resp = _publish(c, "invoice.warned", {"amount": "five", "currency": "eur"})
        assert resp.status_code == 202, resp.text
        msg = resp.json()
        assert msg["schemaVersion"] == "2"
        assert msg["schemaWarning"] == "/amount: 'five' is not of type 'integer'"
        assert c.get(f"/api/v1/app/acme/msg/{msg['id']}").json()["schemaWarning"] == msg["schemaWarning"]
        good = _publish(c, "invoice.warned", {"amount": 5, "currency": "eur"}).json()
        assert good["schemaWarning"] is None
        assert _warnings_metric(c, "invoice.warned") == before + 1
        # Both are delivered: warn never holds a message back.
        assert len(receiver.wait_for(2)) == 2


def test_off_checks_nothing(hookline) -> None:
    with hookline.client() as c:
        make_endpoint(c, "https://hooks.example/a")
        _event_type(c, "invoice.off", None)
        resp = _publish(c, "invoice.off", {"anything": True})
        assert resp.status_code == 202 and resp.json()["schemaWarning"] is None
        assert resp.json()["schemaVersion"] == "2"
        # Switching the mode on later applies to what is published from then on.
        assert c.patch("/api/v1/event-type/invoice.off", json={"schemaValidation": "enforce"}).status_code == 200
        assert _publish(c, "invoice.off", {"anything": True}).status_code == 422
        # Event types outside the catalogue publish as before; naming a version there is refused.
        assert _publish(c, "not.catalogued", {"x": 1}).status_code == 202
        assert _publish(c, "not.catalogued", {"x": 1}, schemaVersion="1").status_code == 422


def test_svix_sdk_import_openapi_reads_a_real_openapi_31_file(hookline) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    raw = OPENAPI.read_text()
    dry = svix.event_type.import_openapi(EventTypeImportOpenApiIn(spec_raw=raw, dry_run=True))
    names = [
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "catalog.category.changed",
        "ping",
    ]
    assert dry.data.modified == names
    assert dry.data.to_modify is not None and [e.name for e in dry.data.to_modify] == names
    with hookline.client() as c:
        assert c.get("/api/v1/event-type").json()["data"] == []
    done = svix.event_type.import_openapi(EventTypeImportOpenApiIn(spec_raw=raw))
    assert done.data.modified == names
    paid = svix.event_type.get("invoice.paid")
    assert paid.description == "Sent when an invoice is paid in full, by card or bank transfer."
    assert paid.schemas is not None and set(paid.schemas) == {"1"}
    assert svix.event_type.get("ping").schemas is None
    # Again: nothing changes. As a parsed document, with replace_all, an extra event type is archived.
    again = svix.event_type.import_openapi(EventTypeImportOpenApiIn(spec_raw=raw))
    assert again.data.modified == []
    with hookline.client() as c:
        c.post("/api/v1/event-type", json={"name": "legacy.event", "description": "old"})
        import yaml

        spec = yaml.safe_load(raw)
        resp = c.post("/api/v1/event-type/import/openapi", json={"spec": spec, "replaceAll": True})
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"]["modified"] == ["legacy.event"]
        assert c.get("/api/v1/event-type/legacy.event").json()["archived"] is True
        # The imported schema is enforced like any other.
        c.patch("/api/v1/event-type/invoice.paid", json={"schemaValidation": "enforce"})
        make_endpoint(c, "https://hooks.example/a")
        bad = _publish(c, "invoice.paid", {"id": "evt_1", "type": "invoice.paid", "created": 1, "data": {}})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "payload", "data"]
        # Refusals name the problem in the document.
        swagger = c.post("/api/v1/event-type/import/openapi", json={"spec": {"openapi": "3.0.3", "paths": {}}})
        assert swagger.status_code == 422 and swagger.json()["detail"][0]["loc"] == ["body", "spec", "openapi"]
        both = c.post("/api/v1/event-type/import/openapi", json={"spec": spec, "specRaw": raw})
        assert both.status_code == 422
        garbage = c.post("/api/v1/event-type/import/openapi", json={"specRaw": "{: ["})
        assert garbage.status_code == 422 and garbage.json()["detail"][0]["loc"] == ["body", "specRaw"]


def test_cli_event_type_import(hookline) -> None:
    env = {"HOOKLINE_URL": hookline.url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
    runner = CliRunner()
    dry = runner.invoke(main, ["event-type", "import", str(OPENAPI), "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, (dry.stdout, dry.stderr)
    assert json.loads(dry.stdout)["modified"][0] == "invoice.paid"
    done = runner.invoke(main, ["event-type", "import", str(OPENAPI)], env=env)
    assert done.exit_code == 0, (done.stdout, done.stderr)
    assert "customer.subscription.updated" in done.stdout
    with hookline.client() as c:
        names = [e["name"] for e in c.get("/api/v1/event-type", params={"with_content": True}).json()["data"]]
        assert "catalog.category.changed" in names
        category = c.get("/api/v1/event-type/catalog.category.changed").json()
        assert "$defs" in category["schemas"]["1"]  # the recursive Category, kept as a definition
    bad = runner.invoke(main, ["event-type", "import", "-"], input="openapi: 3.0.0\n", env=env)
    assert bad.exit_code == 1 and "openapi" in bad.stderr
