"""The OpenAPI document: valid, complete, with Svix's operationIds; and the docs page."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from openapi_spec_validator import validate

# "METHOD path" -> operationId of every operation in Svix's OpenAPI document.
SVIX_OPERATIONS = Path(__file__).with_name("svix_operations.json")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# Svix's document names these after its Rust handlers (logout: after its Python one); hookline keeps the
# ``v1.<resource>.<verb>`` scheme Svix uses everywhere else (and in its newer documents).
RENAMED = {
    ("patch", "/api/v1/app/{app_id}"): ("patch_application", "v1.application.patch"),
    ("patch", "/api/v1/app/{app_id}/endpoint/{endpoint_id}"): ("patch_endpoint", "v1.endpoint.patch"),
    ("patch", "/api/v1/event-type/{event_type_name}"): ("patch_event_type", "v1.event-type.patch"),
    ("post", "/api/v1/auth/logout"): ("logout_api_v1_auth_logout__post", "v1.authentication.logout"),
}


def _svix_operation_ids() -> dict[tuple[str, str], str | None]:
    operations = json.loads(SVIX_OPERATIONS.read_text())["operations"]
    return {(key.split(" ", 1)[0].lower(), key.split(" ", 1)[1]): op_id for key, op_id in operations.items()}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, looking through included routers (FastAPI may wrap them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_document_is_valid_and_complete(hookline) -> None:
    with hookline.client() as c:
        resp = c.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    document = resp.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    operations = _operations(document)

    routes = [r for r in _api_routes(hookline.app.routes) if r.include_in_schema]
    assert len(routes) >= 30
    served = {(method.lower(), route.path) for route in routes for method in route.methods}
    assert served == set(operations), served ^ set(operations)

    ids = [op.get("operationId") for op in operations.values()]
    assert all(ids) and len(ids) == len(set(ids)), ids
    for (method, path), op in operations.items():
        assert op.get("responses"), (method, path)
        # Every refusal is documented with the one error shape.
        if path.startswith("/api/v1/app"):
            for status in ("401", "404", "422"):
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/HttpErrorOut"}, (method, path, status)


def test_operation_ids_match_svix(hookline) -> None:
    with hookline.client() as c:
        ours = _operations(c.get("/api/v1/openapi.json").json())
    theirs = _svix_operation_ids()
    shared = set(ours) & set(theirs)
    assert len(shared) >= 30, sorted(shared)
    mismatched = {}
    for key in sorted(shared):
        expected = theirs[key]
        if key in RENAMED:
            assert (expected, ours[key]["operationId"]) == RENAMED[key]
        elif expected and ours[key]["operationId"] != expected:
            mismatched[key] = (ours[key]["operationId"], expected)
    assert not mismatched, mismatched
    # The publish route reads its own body; its document must still say what it takes.
    publish = ours[("post", "/api/v1/app/{app_id}/msg")]
    assert publish["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MessageIn"}
    assert "202" in publish["responses"]


def test_docs_page_and_its_assets(hookline) -> None:
    with hookline.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert asset in page.text
            served = c.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 10_000
        assert "/api/v1/openapi.json" in page.text
        assert c.get("/docs/assets/nope.js").status_code == 404
