"""Versioned event schemas: meta-schema checks, payload validation, OpenAPI 3.1 import."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from hookline.domain.event_schemas import (
    OpenApiError,
    SchemaDefinitionError,
    UnknownSchemaVersion,
    check_schemas,
    latest_version,
    parse_openapi_webhooks,
    pointer,
    validate_payload,
)

V1 = {
    "type": "object",
    "required": ["id", "amount"],
    "properties": {"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}},
}
V2 = {
    **V1,
    "required": ["id", "amount", "currency"],
    "properties": {**V1["properties"], "currency": {"type": "string", "enum": ["eur", "usd"]}},
}
V10 = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
    "$defs": {"item": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}},
}
SCHEMAS = {"1": V1, "2": V2, "10": V10}


def test_valid_schemas_pass_the_meta_schema_check() -> None:
    assert check_schemas(SCHEMAS) is SCHEMAS
    check_schemas({})
    check_schemas({"1": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}})


@pytest.mark.parametrize(
    ("schemas", "version", "where", "reason"),
    [
        ([V1], None, "", "expected an object of versions"),
        ({"v1": V1}, None, "", "version 'v1' must be a positive integer"),
        ({"0": V1}, None, "", "version '0' must be a positive integer"),
        ({"01": V1}, None, "", "version '01' must be a positive integer"),
        ({"1": "object"}, "1", "", "a schema must be a JSON object"),
        ({"1": V1, "2": {"type": "objekt"}}, "2", "/type", "is not valid"),
        ({"1": {"properties": {"a": {"minimum": "zero"}}}}, "1", "/properties/a/minimum", "is not of type 'number'"),
        ({"1": {"required": "id"}}, "1", "/required", "is not of type 'array'"),
        (
            {"1": {"$schema": "https://example.com/my-dialect", "type": "object"}},
            "1",
            "/$schema",
            "unknown JSON Schema",
        ),
        ({"1": {"properties": {"a": {"$ref": "#/$defs/missing"}}}}, "1", "/properties/a/$ref", "does not resolve"),
        ({"1": {"$ref": "https://example.com/schema.json"}}, "1", "/$ref", "is not local"),
    ],
)
def test_bad_schemas_name_version_and_place(schemas: Any, version: str | None, where: str, reason: str) -> None:
    with pytest.raises(SchemaDefinitionError) as err:
        check_schemas(schemas)
    assert err.value.version == version
    assert err.value.pointer == where
    assert reason in err.value.reason


def test_the_highest_version_is_numeric_not_alphabetical() -> None:
    assert latest_version(SCHEMAS) == "10"
    assert latest_version({}) is None


def test_payload_validated_against_the_highest_version_by_default() -> None:
    assert validate_payload(SCHEMAS, {"items": [{"sku": "a"}]}) is None
    assert validate_payload(SCHEMAS, {"items": [{"sku": "a"}, {"qty": 1}]}) == (
        "/items/1",
        "'sku' is a required property",
    )


def test_payload_validated_against_a_named_version() -> None:
    assert validate_payload(SCHEMAS, {"id": "in_1", "amount": 5}, "1") is None
    assert validate_payload(SCHEMAS, {"id": "in_1", "amount": 5}, "2") == ("", "'currency' is a required property")
    assert validate_payload(SCHEMAS, {"id": "in_1", "amount": -1, "currency": "eur"}, "2") == (
        "/amount",
        "-1 is less than the minimum of 0",
    )
    assert validate_payload(SCHEMAS, {"id": "in_1", "amount": 1, "currency": "gbp"}, "2") == (
        "/currency",
        "'gbp' is not one of ['eur', 'usd']",
    )


def test_unknown_version() -> None:
    with pytest.raises(UnknownSchemaVersion, match="known: 1, 2, 10"):
        validate_payload(SCHEMAS, {}, "3")


def test_no_schemas_means_nothing_to_check() -> None:
    assert validate_payload({}, {"anything": True}) is None


def test_long_reasons_are_shortened() -> None:
    reason = validate_payload({"1": {"type": "string"}}, {"k": "x" * 5000})
    assert reason is not None and len(reason[1]) <= 300


def test_pointer_escapes() -> None:
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert pointer([]) == ""


# --- OpenAPI 3.1 webhooks ----------------------------------------------------------------

DOCUMENT = yaml.safe_load((Path(__file__).parent / "data" / "payments_webhooks.yaml").read_text())


def imported() -> dict[str, Any]:
    return {event.name: event for event in parse_openapi_webhooks(DOCUMENT)}


def test_import_reads_every_webhook() -> None:
    events = imported()
    assert list(events) == [
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "catalog.category.changed",
        "ping",
    ]
    assert events["invoice.paid"].description == "Sent when an invoice is paid in full, by card or bank transfer."
    assert events["invoice.payment_failed"].description == "Invoice payment failed"
    assert events["customer.subscription.updated"].description.startswith("Sent when a subscription changes")
    assert events["ping"].schemas == {} and events["ping"].examples == []


def test_imported_schemas_are_self_contained_and_valid() -> None:
    for event in imported().values():
        check_schemas(event.schemas)
        assert "#/components" not in str(event.schemas)


def test_imported_schema_validates_the_examples() -> None:
    paid = imported()["invoice.paid"]
    assert [e["id"] for e in paid.examples] == ["evt_1PaidCard", "evt_1PaidTransfer"]
    for example in paid.examples:
        assert validate_payload(paid.schemas, example) is None
    bad = {**paid.examples[0], "data": {**paid.examples[0]["data"], "status": "refunded"}}
    assert validate_payload(paid.schemas, bad) == (
        "/data/status",
        "'refunded' is not one of ['draft', 'open', 'paid', 'uncollectible', 'void']",
    )
    failed = imported()["invoice.payment_failed"]
    assert [e["id"] for e in failed.examples] == ["evt_2Failed"]
    assert validate_payload(failed.schemas, failed.examples[0]) is None


def test_subscription_path_item_reference() -> None:
    schemas = imported()["customer.subscription.updated"].schemas
    event = {
        "id": "evt_3",
        "type": "customer.subscription.updated",
        "created": 1,
        "data": {"object": {"id": "sub_1", "status": "active", "items": []}},
    }
    assert validate_payload(schemas, event) == ("/data/object/items", "[] should be non-empty")


def test_recursive_schema_is_kept_under_defs() -> None:
    schema = imported()["catalog.category.changed"].schemas["1"]
    assert schema["properties"]["data"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Category"}
    assert "Category" in schema["$defs"]
    tree = {"id": "c1", "name": "Shoes", "children": [{"id": "c2", "name": "Boots", "children": [{"id": "c3"}]}]}
    assert validate_payload({"1": schema}, {"type": "catalog.category.changed", "data": tree}) == (
        "/data/children/0/children/0",
        "'name' is a required property",
    )
    Draft202012Validator.check_schema(schema)


def with_webhooks(webhooks: Any, **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": webhooks, **extra}


BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}


@pytest.mark.parametrize(
    ("document", "where", "reason"),
    [
        ({"openapi": "3.0.3", "paths": {}}, "/openapi", "expected an OpenAPI 3.1 document"),
        ({"openapi": "3.1.0"}, "/webhooks", "no webhooks"),
        (with_webhooks({"bad name!": {"post": {}}}), "/webhooks/bad name!", "event type name"),
        (with_webhooks({"a.b": {"get": {}}}), "/webhooks/a.b", "post (or put) operation"),
        (
            with_webhooks({"a.b": {"post": {"requestBody": {"content": {"text/plain": {}}}}}}),
            "/webhooks/a.b/post/requestBody/content",
            "no JSON media type",
        ),
        (
            with_webhooks({"a.b": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Nope"}}}}),
            "/webhooks/a.b/post/requestBody",
            "does not resolve",
        ),
        (
            with_webhooks({"a.b": {"$ref": "other.yaml#/x"}}),
            "/webhooks/a.b",
            "only local $refs",
        ),
        (
            with_webhooks(
                {"a.b": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "objekt"}}}}}}}
            ),
            "/webhooks/a.b/post/requestBody/content/application~1json/schema/type",
            "is not valid",
        ),
        (
            with_webhooks(
                {"a.b": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "x.json"}}}}}}}
            ),
            "/webhooks/a.b/post/requestBody/content/application~1json/schema",
            "only local $refs",
        ),
    ],
)
def test_import_errors_name_the_place(document: Any, where: str, reason: str) -> None:
    with pytest.raises(OpenApiError) as err:
        parse_openapi_webhooks(document)
    assert err.value.pointer == where
    assert reason in err.value.reason


def test_put_operation_and_json_suffix_media_type() -> None:
    document = with_webhooks(
        {
            "order.created": {
                "put": {"requestBody": {"content": {"application/vnd.acme+json": BODY["content"]["application/json"]}}}
            }
        }
    )
    (event,) = parse_openapi_webhooks(document)
    assert event.schemas == {"1": {"type": "object"}}
