"""Make the OpenAPI document say what every route can really answer.

Every route may refuse a request (401, 403, 404, 409, 413, 422, 503...), always
with the same JSON error shape; FastAPI only documents its own 422 shape, which
hookline does not use.
"""

from typing import Any

from hookline.api.schemas import Model

ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    403: "The token may not do this",
    404: "Not found",
    408: "The request body arrived too slowly",
    409: "Conflict",
    413: "Request body too large",
    422: "Validation error: `detail` lists each field and its problem",
    503: "The database is unavailable; retry later",
}


class HttpErrorOut(Model):
    code: str
    detail: Any


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": HttpErrorOut, "description": description} for status, description in ERROR_STATUSES.items()
}
