"""/api/v1/app/{app}/msg: publishing and reading messages."""

import json
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Text, cast, select

from hookline import metrics
from hookline.api.auth import authenticate, bearer_credentials
from hookline.api.deps import (
    ID_PATTERN,
    AppId,
    Auth,
    ChannelQuery,
    CsvList,
    Db,
    EndpointId,
    Engine,
    IdempotencyKey,
    Iterator,
    Limit,
    MsgId,
    When,
    load_app,
    split_csv,
    to_ms,
)
from hookline.api.errors import ApiError, JSONResponse
from hookline.api.schemas import STATUS_TEXT, ListResponse, MessageIn, MessageOut, ms_to_datetime
from hookline.domain.ids import id_floor
from hookline.store import applications, endpoints, messages, queue, tables
from hookline.store.database import now_ms
from hookline.store.errors import NotFoundError
from hookline.store.pagination import paginate
from hookline.store.tables import Row

_ID = re.compile(ID_PATTERN)
router = APIRouter(prefix="/api/v1/app/{app_id}/msg", tags=["Message"])
WithContent = Annotated[bool, Query(description="Include message payloads")]


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact JSON bytes; integers beyond 64 bits (valid JSON) take the slow path."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def payload_of(row: Row) -> dict[str, Any]:
    raw = row["payload"]
    if raw is None:
        return {}
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else {}


def message_fields(row: Row, with_content: bool = True) -> dict[str, Any]:
    return {
        "id": row["id"],
        "eventType": row["event_type"],
        "eventId": row["event_id"],
        "payload": payload_of(row) if with_content else {},
        "channels": row["channels"],
        "timestamp": ms_to_datetime(row["created_at"]),
    }


def message_out(row: Row, with_content: bool = True) -> MessageOut:
    return MessageOut(**message_fields(row, with_content))


def channel_filter(column: Any, channel: str) -> Any:
    # Channels are [a-zA-Z0-9-_.]: only "_" needs escaping for LIKE.
    return cast(column, Text).like('%"' + channel.replace("_", "\\_") + '"%', escape="\\")


def time_window(column: Any, prefix: str, before: int | None, after: int | None) -> list[Any]:
    conditions = []
    if before is not None:
        conditions.append(column < id_floor(prefix, before))
    if after is not None:
        conditions.append(column >= id_floor(prefix, after + 1))
    return conditions


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
    state = request.app.state
    app_id = _path_app_id(request)
    who = await authenticate(request, bearer_credentials(request))
    body = _parse_body(await request.body())
    with_content = request.query_params.get("with_content", "true").lower() not in ("false", "0")
    settings = state.settings
    payload = encode_payload(body.payload)
    if len(payload) > settings.max_payload_bytes:
        raise ApiError(
            413, "payload_too_large", f"payload is {len(payload)} bytes; the limit is {settings.max_payload_bytes}"
        )
    async with state.db.write() as conn:
        app = await applications.find(conn, app_id)
        if app is not None and who.app_id is not None and app["id"] != who.app_id:
            app = None
        if app is None:
            if body.application is None or not who.is_admin:
                raise NotFoundError("application")
            fields = body.application.model_dump()
            fields["uid"] = fields.get("uid") or app_id
            app = await applications.create(conn, fields)
        new = messages.NewMessage(
            app_id=app["id"],
            event_type=body.event_type,
            payload=payload,
            event_id=body.event_id,
            channels=body.channels,
            retention_days=body.payload_retention_period,
        )
        row, queued = await messages.create(conn, new)
    metrics.message_accepted()
    if queued and state.engine:
        state.engine.wake()
    out = message_fields(row, with_content=False)
    out["timestamp"] = out["timestamp"].isoformat().replace("+00:00", "Z")
    if with_content:
        # The stored bytes, as they are: no second serialization on the hot path.
        out["payload"] = orjson.Fragment(payload)
    return JSONResponse(out, status_code=202)


@router.get("", response_model=ListResponse[MessageOut], operation_id="v1.message.list")
async def list_messages(
    app_id: AppId,
    who: Auth,
    db: Db,
    limit: Limit = 50,
    iterator: Iterator = None,
    channel: ChannelQuery = None,
    before: When = None,
    after: When = None,
    with_content: WithContent = True,
    event_types: CsvList = None,
) -> ListResponse[MessageOut]:
    app = await load_app(db, who, app_id)
    m = tables.message
    query = select(m).where(m.c.app_id == app["id"], *time_window(m.c.id, "msg", to_ms(before), to_ms(after)))
    if channel:
        query = query.where(channel_filter(m.c.channels, channel))
    types = split_csv(event_types)
    if types:
        query = query.where(m.c.event_type.in_(types))
    async with db.read() as conn:
        page = await paginate(conn, query, m.c.id, limit=limit, iterator=iterator, descending=True)
    return ListResponse(
        data=[message_out(r, with_content) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.get("/{msg_id}", response_model=MessageOut, operation_id="v1.message.get")
async def get_message(app_id: AppId, msg_id: MsgId, who: Auth, db: Db, with_content: WithContent = True) -> MessageOut:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        return message_out(await messages.get(conn, app["id"], msg_id), with_content)


@router.delete("/{msg_id}/content", status_code=204, response_class=Response, operation_id="v1.message.expunge-content")
async def expunge_message_content(app_id: AppId, msg_id: MsgId, who: Auth, db: Db) -> None:
    app = await load_app(db, who, app_id)
    async with db.write() as conn:
        row = await messages.get(conn, app["id"], msg_id)
        await messages.expunge(conn, row["id"])


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
    db: Db,
    engine: Engine,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    """Queue a manual attempt now; it is recorded with trigger type 1 (manual)."""
    app = await load_app(db, who, app_id)
    async with db.write() as conn:
        msg = await messages.get(conn, app["id"], msg_id)
        ep = await endpoints.get(conn, app["id"], endpoint_id)
        await queue.enqueue_manual(conn, msg["id"], ep["id"], app["id"], now_ms())
    if engine:
        engine.wake()
    return {}


__all__ = ["STATUS_TEXT", "channel_filter", "message_fields", "message_out", "router", "time_window"]
