"""Make the OpenAPI document say what every route can really answer.

Every route may refuse a request (401, 403, 404, 409, 413, 415, 422, 503...), always
with the same JSON error shape; FastAPI only documents its own 422 shape, which
hookline does not use.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from hookline.api.schemas import Model

ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    403: "The token may not do this",
    404: "Not found",
    408: "The request body arrived too slowly",
    409: "Conflict",
    413: "Request body too large",
    415: "The request body is not JSON",
    422: "Validation error: `detail` lists each field and its problem",
    503: "The database is unavailable; retry later",
}


class HttpErrorOut(Model):
    code: str
    detail: Any


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": HttpErrorOut, "description": description} for status, description in ERROR_STATUSES.items()
}


def include_models(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add request models that routes read themselves (no FastAPI body parameter)
    to the document's components, so ``$ref``s to them resolve."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas.setdefault(model.__name__, schema)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
