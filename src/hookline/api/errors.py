"""Every failure leaves as JSON ``{"code": ..., "detail": ...}``; never a traceback."""

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hookline import metrics
from hookline.errors import Conflict, Forbidden, HooklineError, Invalid, NotFound, TooLarge, Unavailable
from hookline.services.context import DatabaseUnavailableError, is_disconnect
from hookline.services.idempotency import KeyTaken, Stored

log = structlog.get_logger("hookline.api")


class JSONResponse(Response):
    """JSON rendered with orjson (fast, and handles bytes fragments)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(HooklineError):
    """An HTTP answer decided by the API layer itself (authentication, for example)."""

    def __init__(self, status: int, code: str, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def error_response(status: int, code: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status, headers=headers)


def earlier_answer(earlier: Stored) -> Response:
    """What a POST gets whose idempotency-key an earlier request has: that request's answer
    again, marked replayed, or 409 while that request still runs."""
    if earlier.state == "done" and earlier.status_code is not None:
        headers = {"idempotent-replayed": "true"}
        return Response(earlier.body or b"", earlier.status_code, headers, media_type="application/json")
    return error_response(409, "idempotency_conflict", "a request with this idempotency-key is still in progress")


async def _on_key_taken(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, KeyTaken)
    return earlier_answer(exc.earlier)


_STATUS_CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            why = (err.get("ctx") or {}).get("error")
            msg = f"request body is not valid JSON: {why}" if why else "request body is not valid JSON"
        elif err.get("type") == "extra_forbidden":
            # Refused rather than ignored: a caller must not believe a field took effect.
            msg = "unknown field: hookline does not support it (see docs/svix-compatibility.md)"
        items.append({"loc": loc, "msg": msg, "type": str(err.get("type", "value_error"))})
    return items


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation", _validation_items(exc))


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, exc.detail, getattr(exc, "headers", None))


# The one place where a use-case's failure becomes an HTTP status and code.
_HOOKLINE_ERRORS: tuple[tuple[type[HooklineError], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Forbidden, 403, "forbidden"),
    (TooLarge, 413, "payload_too_large"),
    (Unavailable, 503, "unavailable"),
)


async def _on_hookline_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.detail, exc.headers)
    if isinstance(exc, Invalid):
        return error_response(422, "validation", [{"loc": exc.field, "msg": str(exc), "type": "value_error"}])
    for kind, status, code in _HOOKLINE_ERRORS:
        if isinstance(exc, kind):
            headers = {"Retry-After": "1"} if status == 503 else None
            return error_response(status, code, str(exc), headers)
    return await _on_unexpected(request, exc)


def _unstorable_text(exc: Exception) -> bool:
    # PostgreSQL text cannot hold NUL characters; SQLite can. Same input, same answer.
    return "invalid byte sequence" in str(exc) or "CharacterNotInRepertoire" in type(getattr(exc, "orig", exc)).__name__


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if _unstorable_text(exc):
        return error_response(422, "validation", "text fields may not contain NUL (\\u0000) characters")
    if is_disconnect(exc):
        metrics.database_error("api")
        why = exc if isinstance(exc, DatabaseUnavailableError) else DatabaseUnavailableError()
        log.warning("database unavailable", path=request.url.path, error=str(exc), code=why.code)
        return error_response(503, why.code, why.detail, {"Retry-After": str(why.retry_after)})
    log.exception("unhandled error", path=request.url.path)
    return error_response(500, "internal_error", "internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(HooklineError, _on_hookline_error)
    app.add_exception_handler(KeyTaken, _on_key_taken)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    # Database failures get a handler of their own class, not only the catch-all: Starlette
    # answers an ``Exception`` handler's response but then re-raises, and uvicorn closes the
    # keep-alive connection and logs a traceback. Every 503 during a database outage would
    # cost the client its connection (the next request on it is reset).
    for database_failure in (DatabaseUnavailableError, SQLAlchemyError, OSError):
        app.add_exception_handler(database_failure, _on_unexpected)
    app.add_exception_handler(Exception, _on_unexpected)
