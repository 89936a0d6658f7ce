"""/api/v1/app/{app}/msg: publishing and reading messages."""

import functools
import re
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError

from hookline.api.auth import authenticate, bearer_credentials
from hookline.api.deps import (
    ID_PATTERN,
    AppId,
    Auth,
    ChannelQuery,
    CsvList,
    Ctx,
    EndpointId,
    IdempotencyKey,
    Iterator,
    Limit,
    MsgId,
    When,
    context,
    split_csv,
    to_ms,
)
from hookline.api.middleware import IDEMPOTENCY_KEY
from hookline.api.query import publish_with_content
from hookline.api.routes.background_tasks import TaskOut, task_out
from hookline.api.schemas import Channel, ListResponse, MessageIn, MessageOut, Model, Name, ms_to_datetime
from hookline.domain.model import Message, MessageFilter
from hookline.services import messages, publishing

_ID = re.compile(ID_PATTERN)
router = APIRouter(prefix="/api/v1/app/{app_id}/msg", tags=["Message"])
# Publishing, as the hot path matches it (api/fastpath.py), and where the idempotency
# middleware leaves the key to the route.
PUBLISH_PATH = r"/api/v1/app/(?P<app_id>[^/]+)/msg"
WithContent = Annotated[bool, Query(description="Include message payloads")]


def message_fields(message: Message, with_content: bool = True) -> dict[str, Any]:
    return {
        "id": message.id,
        "eventType": message.event_type,
        "eventId": message.event_id,
        "payload": messages.payload_object(message) if with_content else {},
        "channels": message.channels,
        "timestamp": ms_to_datetime(message.created_at),
        "tags": message.tags,
        "deliverAt": None if message.deliver_at is None else ms_to_datetime(message.deliver_at),
        "schemaVersion": message.schema_version,
        "schemaWarning": message.schema_warning,
        "orderingKey": message.ordering_key,
    }


def message_out(message: Message, with_content: bool = True) -> MessageOut:
    return MessageOut(**message_fields(message, with_content))


TagQuery = Annotated[
    str | None,
    Query(description="Only messages with this tag", pattern=r"^[a-zA-Z0-9\-_./#]+$", min_length=1, max_length=128),
]


def message_filter(
    channel: str | None,
    before: datetime | None,
    after: datetime | None,
    event_types: list[str] | None,
    tag: str | None = None,
) -> MessageFilter:
    """The message filter of a listing's query parameters."""
    types = split_csv(event_types)
    return MessageFilter(
        event_types=tuple(types) if types else None,
        channel=channel,
        before_ms=to_ms(before),
        after_ms=to_ms(after),
        tag=tag,
    )


def _publish_doc() -> dict[str, Any]:
    """OpenAPI for the publish route, which reads its own request (see below)."""
    return {
        "parameters": [
            {
                "name": "app_id",
                "in": "path",
                "required": True,
                "description": "The application's id or uid",
                "schema": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": ID_PATTERN},
            },
            {
                "name": "with_content",
                "in": "query",
                "required": False,
                "description": "Include the payload",
                "schema": {"type": "boolean", "default": True},
            },
            {
                "name": "idempotency-key",
                "in": "header",
                "required": False,
                "description": "Repeat a POST safely for 12 hours",
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}}},
        },
    }


def _path_app_id(request: Request) -> str:
    app_id = str(request.path_params["app_id"])
    if not _ID.fullmatch(app_id) or len(app_id) > 256:
        raise RequestValidationError(
            [
                {
                    "loc": ("path", "app_id"),
                    "msg": f"must match {ID_PATTERN} (at most 256 characters)",
                    "type": "value_error",
                }
            ]
        )
    return app_id


def _parse_body(raw: bytes) -> MessageIn:
    try:
        return MessageIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


@router.post(
    "",
    status_code=202,
    response_model=MessageOut,
    operation_id="v1.message.create",
    openapi_extra=_publish_doc(),
)
async def create_message(request: Request) -> Response:
    """Publish a message: it is stored with one delivery per matching endpoint before the 202.

    The hot path of hookline: it reads its own request instead of going through
    FastAPI's dependency and body machinery, which cost more than the work itself.
    """
    app_id = _path_app_id(request)
    who = await authenticate(request, bearer_credentials(request))
    body = _parse_body(await request.body())
    with_content = publish_with_content(request)
    new = publishing.Publish(
        event_type=body.event_type,
        payload=body.payload,
        event_id=body.event_id,
        channels=body.channels,
        retention_days=body.payload_retention_period,
        application=None if body.application is None else body.application.model_dump(),
        retention_hours=body.payload_retention_hours,
        tags=body.tags,
        deliver_at_ms=to_ms(body.deliver_at),
        schema_version=body.schema_version,
        ordering_key=body.ordering_key,
    )
    ctx = await context(request)
    key_hash = request.scope.get(IDEMPOTENCY_KEY)
    if key_hash is None:
        message = await publishing.publish(ctx, app_id, new, tenant=who.app_id)
        answer = _published(message, with_content=with_content)
    else:
        # Reserved, and this answer stored for replay, in the write that stores the message.
        keyed = publishing.Keyed(key_hash, 202, functools.partial(_published, with_content=with_content))
        answer = await publishing.publish_keyed(ctx, app_id, new, tenant=who.app_id, keyed=keyed)
    return Response(answer, status_code=202, media_type="application/json")


def _published(message: Message, *, with_content: bool) -> bytes:
    """The body of a publish's 202."""
    out = message_fields(message, with_content=False)
    out["timestamp"] = out["timestamp"].isoformat().replace("+00:00", "Z")
    if out["deliverAt"] is not None:
        out["deliverAt"] = out["deliverAt"].isoformat().replace("+00:00", "Z")
    if with_content and message.payload is not None:
        # The stored bytes, as they are: no second serialization on the hot path.
        out["payload"] = orjson.Fragment(message.payload)
    return orjson.dumps(out)


@router.get("", response_model=ListResponse[MessageOut], operation_id="v1.message.list")
async def list_messages(
    app_id: AppId,
    who: Auth,
    ctx: Ctx,
    limit: Limit = 50,
    iterator: Iterator = None,
    channel: ChannelQuery = None,
    before: When = None,
    after: When = None,
    with_content: WithContent = True,
    event_types: CsvList = None,
    tag: TagQuery = None,
) -> ListResponse[MessageOut]:
    f = message_filter(channel, before, after, event_types, tag)
    page = await messages.page(ctx, app_id, f, tenant=who.app_id, limit=limit, iterator=iterator)
    return ListResponse(
        data=[message_out(r, with_content) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


class MessagePrecheckIn(Model):
    event_type: Name
    channels: Annotated[list[Channel], Field(min_length=1, max_length=5)] | None = None


class MessagePrecheckOut(Model):
    active: bool = Field(description="Whether a message like this would reach an enabled endpoint now")


class BulkExpungeIn(Model):
    ids: Annotated[list[Name], Field(min_length=1, max_length=1000)] = Field(
        description="Message ids or event ids of the application"
    )


class BulkExpungeOut(Model):
    results: dict[str, Literal["expunged", "not-found"]]


@router.post(
    "/precheck/active",
    response_model=MessagePrecheckOut,
    operation_id="v1.message.precheck",
)
async def precheck_message(
    app_id: AppId, body: MessagePrecheckIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> MessagePrecheckOut:
    """Whether publishing this event type (and channels) now would reach an enabled endpoint."""
    active = await messages.precheck(ctx, app_id, body.event_type, body.channels, tenant=who.app_id)
    return MessagePrecheckOut(active=active)


@router.post("/bulk-expunge", response_model=BulkExpungeOut, operation_id="v1.message.bulk-expunge-content")
async def bulk_expunge_content(
    app_id: AppId, body: BulkExpungeIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> BulkExpungeOut:
    """Delete the payloads of these messages; each id says whether it was found."""
    found = await messages.expunge_many(ctx, app_id, body.ids, tenant=who.app_id)
    return BulkExpungeOut(results={k: "expunged" if ok else "not-found" for k, ok in found.items()})


@router.post(
    "/expunge-all-contents",
    status_code=202,
    response_model=TaskOut,
    operation_id="v1.message.expunge-all-contents",
)
async def expunge_all_contents(app_id: AppId, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None) -> TaskOut:
    """Delete every message payload of the application. Done in the request: the task comes
    back ``finished``, with ``messagesPurged`` in its data."""
    return task_out(await messages.expunge_all(ctx, app_id, tenant=who.app_id))


@router.get("/{msg_id}", response_model=MessageOut, operation_id="v1.message.get")
async def get_message(
    app_id: AppId, msg_id: MsgId, who: Auth, ctx: Ctx, with_content: WithContent = True
) -> MessageOut:
    return message_out(await messages.get(ctx, app_id, msg_id, tenant=who.app_id), with_content)


@router.delete("/{msg_id}/content", status_code=204, response_class=Response, operation_id="v1.message.expunge-content")
async def expunge_message_content(app_id: AppId, msg_id: MsgId, who: Auth, ctx: Ctx) -> None:
    await messages.expunge(ctx, app_id, msg_id, tenant=who.app_id)


@router.post(
    "/{msg_id}/endpoint/{endpoint_id}/resend",
    status_code=202,
    response_model=dict[str, str],
    operation_id="v1.message-attempt.resend",
)
async def resend_message(
    app_id: AppId,
    msg_id: MsgId,
    endpoint_id: EndpointId,
    who: Auth,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    """Queue a manual attempt now; it is recorded with trigger type 1 (manual)."""
    await publishing.resend(ctx, app_id, msg_id, endpoint_id, tenant=who.app_id)
    return {}
