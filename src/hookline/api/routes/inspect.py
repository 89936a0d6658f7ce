"""/api/v1/inspect: capture URLs ("bins"), what they captured, a live stream of it (Server-Sent
Events) and replays. The WebSocket a ``hookline listen`` connects to: ``listen.py``."""

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from hookline.api.deps import Auth, Ctx, IdempotencyKey, Iterator, Limit, Order
from hookline.api.errors import ApiError
from hookline.api.schemas import AnswerContentType, ListResponse, Model, Url, bodyless, ms_to_datetime
from hookline.domain.captured import headers_from_json, headers_to_json
from hookline.domain.inspect import (
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TTL_SECONDS,
    MAX_DELAY_SECONDS,
    MAX_MAX_REQUESTS,
    MAX_TTL_SECONDS,
    Bin,
    BinResponse,
    Captured,
)
from hookline.domain.model import ANSWER_HEADER_CHARS, origin_header_refused
from hookline.services import inspect
from hookline.services.context import Context
from hookline.services.inspect import LiveHub

router = APIRouter(prefix="/api/v1/inspect", tags=["Inspect"])
BinId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]
_HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
_HeaderValue = Annotated[str, StringConstraints(max_length=8192, pattern=f"^{ANSWER_HEADER_CHARS}*$")]
HeaderPair = tuple[_HeaderName, _HeaderValue]
# Set by the server itself (or by ``contentType``): a bin may not set them.
_RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date", "server"}
)
_POLL_SECONDS = 1.0  # streams also look at the database this often (requests captured by other processes)
_KEEPALIVE_SECONDS = 15.0
_SSE = "text/event-stream"


class BinResponseIn(Model):
    model_config = ConfigDict(extra="forbid")
    status: int = Field(default=200, ge=200, le=599)
    content_type: AnswerContentType = "text/plain"
    body: Annotated[str, StringConstraints(max_length=1024 * 1024)] = "OK"
    headers: list[HeaderPair] = Field(default_factory=list, max_length=100, description="`[name, value]` pairs")
    delay: float = Field(default=0.0, ge=0.0, le=MAX_DELAY_SECONDS, description="Seconds before answering")

    _bodyless = bodyless("status")

    @field_validator("headers")
    @classmethod
    def _not_reserved(cls, value: list[HeaderPair]) -> list[HeaderPair]:
        for name, _ in value:
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"{name} is set by the server (content type: use contentType)")
            refused = origin_header_refused(name)
            if refused:
                raise ValueError(refused)
        return value

    def record(self) -> BinResponse:
        return BinResponse(self.status, self.content_type, self.body, headers_from_json(self.headers), self.delay)


_Name = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]
_Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^[^\x00]+$")]
_Provider = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(inspect.PROVIDER_NAMES)})]


class VerifyIn(Model):
    model_config = ConfigDict(extra="forbid")
    provider: _Provider = Field(
        default="standard-webhooks", description="How the signatures are made: a receiver library provider"
    )
    secret: _Secret = Field(description="The secret they are made with")


class BinIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: _Name | None = None
    response: BinResponseIn | None = None
    max_requests: int = Field(default=DEFAULT_MAX_REQUESTS, ge=1, le=MAX_MAX_REQUESTS)
    ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, ge=1, le=MAX_TTL_SECONDS, description="The bin expires then")
    verify: VerifyIn | None = Field(default=None, description="Check each captured request's signature")
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=inspect.MAX_RATE_LIMIT,
        description="Requests per second, with a burst of the same size; past it 429 and nothing is captured",
    )


class BinPatch(Model):
    """What is given changes; `null` leaves `response`, `maxRequests` and `ttlSeconds` as they are and
    clears `name`, `verify` and `rateLimit`."""

    model_config = ConfigDict(extra="forbid")
    name: _Name | None = None
    response: BinResponseIn | None = None
    max_requests: int | None = Field(default=None, ge=1, le=MAX_MAX_REQUESTS)
    ttl_seconds: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS, description="From now")
    verify: VerifyIn | None = None
    rate_limit: int | None = Field(
        default=None, ge=1, le=inspect.MAX_RATE_LIMIT, description="Requests per second; `null` removes the limit"
    )


class BinResponseOut(Model):
    status: int
    content_type: str
    body: str
    headers: list[list[str]]
    delay: float


class BinOut(Model):
    id: str
    url: str
    name: str | None
    app_id: str | None = Field(description="The owning application; null: the admin's")
    response: BinResponseOut
    max_requests: int
    expires_at: datetime
    verify_provider: str | None
    rate_limit: int | None = Field(default=None, description="Requests per second (burst the same); null: none")
    created_at: datetime
    updated_at: datetime


class SignatureOut(Model):
    provider: str
    valid: bool
    reason: str | None


class CapturedOut(Model):
    id: str
    method: str
    path: str = Field(description="The URL path below the bin's URL")
    query: str
    headers: list[list[str]] = Field(description="`[name, value]` pairs in the order received")
    size: int
    client: str | None
    received_at: datetime
    signature: SignatureOut | None
    response_status: int | None = Field(description="What the sender got")
    forwarded_at: datetime | None = Field(description="When a `hookline listen` had it")


class CapturedFullOut(CapturedOut):
    body: str | None = Field(description="The body as UTF-8 text; null when it is not valid UTF-8")
    body_base64: str


class ReplayIn(Model):
    model_config = ConfigDict(extra="forbid")
    url: Url


class ReplayOut(Model):
    status_code: int = Field(description="0: no response (see error)")
    headers: list[list[str]]
    body: str | None
    body_base64: str
    duration_ms: int
    error: str | None


def bin_out(ctx: Context, row: Bin) -> BinOut:
    r = row.response
    return BinOut(
        id=row.id,
        url=inspect.bin_url(ctx, row),
        name=row.name,
        app_id=row.app_id,
        response=BinResponseOut(
            status=r.status, content_type=r.content_type, body=r.body, headers=headers_to_json(r.headers), delay=r.delay
        ),
        max_requests=row.max_requests,
        expires_at=ms_to_datetime(row.expires_at),
        verify_provider=row.verify_provider,
        rate_limit=row.rate_limit,
        created_at=ms_to_datetime(row.created_at),
        updated_at=ms_to_datetime(row.updated_at),
    )


def _text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def captured_out(row: Captured) -> CapturedOut:
    r = row.request
    sig = row.signature
    return CapturedOut(
        id=row.id,
        method=r.method,
        path=r.path,
        query=r.query,
        headers=headers_to_json(r.headers),
        size=row.size,
        client=r.client,
        received_at=ms_to_datetime(r.received_at),
        signature=None if sig is None else SignatureOut(provider=sig.provider, valid=sig.valid, reason=sig.reason),
        response_status=row.response_status,
        forwarded_at=None if row.forwarded_at is None else ms_to_datetime(row.forwarded_at),
    )


def captured_full_out(row: Captured) -> CapturedFullOut:
    body = row.request.body
    return CapturedFullOut(
        **captured_out(row).model_dump(), body=_text(body), body_base64=base64.b64encode(body).decode()
    )


def _hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.inspect_hub
    return hub


@router.post("", status_code=201, response_model=BinOut, operation_id="hookline.inspect.create")
async def create_bin(body: BinIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None) -> BinOut:
    """A new capture URL, owned by the caller (an application token's bins are its application's)."""
    row = await inspect.create(
        ctx,
        who.app_id,
        name=body.name,
        response=body.response.record() if body.response else None,
        max_requests=body.max_requests,
        ttl_seconds=body.ttl_seconds,
        verify_provider=body.verify.provider if body.verify else None,
        verify_secret=body.verify.secret if body.verify else None,
        rate_limit=body.rate_limit,
    )
    return bin_out(ctx, row)


@router.get("", response_model=ListResponse[BinOut], operation_id="hookline.inspect.list")
async def list_bins(
    who: Auth, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "descending"
) -> ListResponse[BinOut]:
    page = await inspect.page(ctx, who.app_id, limit=limit, iterator=iterator, descending=order == "descending")
    return ListResponse(
        data=[bin_out(ctx, r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.get("/{bin_id}", response_model=BinOut, operation_id="hookline.inspect.get")
async def get_bin(bin_id: BinId, who: Auth, ctx: Ctx) -> BinOut:
    return bin_out(ctx, await inspect.get(ctx, who.app_id, bin_id))


@router.patch("/{bin_id}", response_model=BinOut, operation_id="hookline.inspect.update")
async def update_bin(bin_id: BinId, body: BinPatch, who: Auth, ctx: Ctx) -> BinOut:
    """Change what is given: `null` clears `name` or `verify`, and leaves the others as they are."""
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = body.name
    if "verify" in given:
        changes["verify_provider"] = body.verify.provider if body.verify else None
        changes["verify_secret"] = body.verify.secret if body.verify else None
    if "rate_limit" in given:
        changes["rate_limit"] = body.rate_limit
    row = await inspect.update(
        ctx,
        who.app_id,
        bin_id,
        response=body.response.record() if body.response else None,
        max_requests=body.max_requests,
        ttl_seconds=body.ttl_seconds,
        **changes,
    )
    return bin_out(ctx, row)


@router.delete("/{bin_id}", status_code=204, response_class=Response, operation_id="hookline.inspect.delete")
async def delete_bin(bin_id: BinId, who: Auth, ctx: Ctx) -> None:
    """Delete the bin and everything it captured; its URL answers 404 from now on."""
    await inspect.remove(ctx, who.app_id, bin_id)


@router.get(
    "/{bin_id}/request", response_model=ListResponse[CapturedOut], operation_id="hookline.inspect.list-requests"
)
async def list_requests(
    bin_id: BinId, who: Auth, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None, order: Order = "descending"
) -> ListResponse[CapturedOut]:
    """What the bin captured, newest first by default (bodies: get one request)."""
    page = await inspect.requests_page(
        ctx, who.app_id, bin_id, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return ListResponse(
        data=[captured_out(r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.delete(
    "/{bin_id}/request", status_code=204, response_class=Response, operation_id="hookline.inspect.delete-requests"
)
async def delete_requests(bin_id: BinId, who: Auth, ctx: Ctx) -> None:
    """Delete everything the bin captured."""
    await inspect.delete_requests(ctx, who.app_id, bin_id)


@router.get(
    "/{bin_id}/request/{request_id}", response_model=CapturedFullOut, operation_id="hookline.inspect.get-request"
)
async def get_request(bin_id: BinId, request_id: RequestId, who: Auth, ctx: Ctx) -> CapturedFullOut:
    return captured_full_out(await inspect.get_request(ctx, who.app_id, bin_id, request_id))


@router.delete(
    "/{bin_id}/request/{request_id}",
    status_code=204,
    response_class=Response,
    operation_id="hookline.inspect.delete-request",
)
async def delete_request(bin_id: BinId, request_id: RequestId, who: Auth, ctx: Ctx) -> None:
    await inspect.delete_requests(ctx, who.app_id, bin_id, request_id)


@router.post("/{bin_id}/request/{request_id}/replay", response_model=ReplayOut, operation_id="hookline.inspect.replay")
async def replay_request(
    bin_id: BinId, request_id: RequestId, body: ReplayIn, request: Request, who: Auth, ctx: Ctx
) -> ReplayOut:
    """Send the captured request again (same method, headers and body) to `url`. The SSRF
    rules apply: an address HOOKLINE_ALLOWED_CIDRS does not allow is refused (422)."""
    outbound = request.app.state.outbound
    if outbound is None:
        raise ApiError(503, "unavailable", "this process is not ready to send requests")
    result = await inspect.replay(ctx, who.app_id, bin_id, request_id, body.url, outbound)
    if result.blocked:
        raise ApiError(422, "validation", [{"loc": ["body", "url"], "msg": result.error, "type": "value_error"}])
    return ReplayOut(
        status_code=result.status,
        headers=headers_to_json(result.headers),
        body=_text(result.body),
        body_base64=base64.b64encode(result.body).decode(),
        duration_ms=result.duration_ms,
        error=result.error,
    )


def _event(row: Captured) -> str:
    data = captured_out(row).model_dump_json(by_alias=True)
    return f"id: {row.id}\nevent: request\ndata: {data}\n\n"


@router.get(
    "/{bin_id}/stream",
    response_class=StreamingResponse,
    operation_id="hookline.inspect.stream",
    responses={
        200: {"description": "`request` events, one per captured request", "content": {"text/event-stream": {}}}
    },
)
async def stream(
    bin_id: BinId,
    request: Request,
    who: Auth,
    ctx: Ctx,
    last_event_id: Annotated[str | None, Header(alias="last-event-id", max_length=64)] = None,
) -> StreamingResponse:
    """Server-Sent Events: each request the bin captures from now on (after `Last-Event-ID` if given)."""
    row = await inspect.get(ctx, who.app_id, bin_id)
    cursor = last_event_id or await inspect.newest_request_id(ctx, row.id)
    hub = _hub(request)

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        yield ": connected\n\n"
        idle = 0.0
        with hub.watch(row.id) as wake:
            while not await request.is_disconnected():
                wake.clear()
                items = await inspect.requests_after(ctx, row.id, cursor, pending_only=False)
                for item in items:
                    cursor = item.id
                    yield _event(item)
                if items:
                    idle = 0.0
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), _POLL_SECONDS)
                idle += _POLL_SECONDS
                if idle >= _KEEPALIVE_SECONDS:
                    idle = 0.0
                    yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
