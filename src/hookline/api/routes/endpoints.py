"""/api/v1/app/{app}/endpoint: endpoints, their secrets and custom headers."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Response
from sqlalchemy import select

from hookline.api.deps import (
    AppId,
    Auth,
    Conf,
    Db,
    EndpointId,
    Engine,
    IdempotencyKey,
    Iterator,
    Limit,
    Order,
    load_app,
)
from hookline.api.errors import ApiError
from hookline.api.routes.messages import message_out
from hookline.api.schemas import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointPublicKeyOut,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointUpdate,
    EventExampleIn,
    ListResponse,
    MessageOut,
    ms_to_datetime,
)
from hookline.config import Settings
from hookline.domain.signing import generate_secret, generate_signing_key, is_asymmetric, public_key_of
from hookline.store import endpoints, event_types, messages, tables
from hookline.store.database import Database, now_ms
from hookline.store.pagination import paginate
from hookline.store.secrets import SecretBox
from hookline.store.tables import Row

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"])
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def endpoint_out(row: Row) -> EndpointOut:
    return EndpointOut(
        id=row["id"],
        uid=row["uid"],
        url=row["url"],
        description=row["description"],
        eventTypes=row["event_types"],
        channels=row["channels"],
        disabled=row["disabled"],
        metadata=row["metadata"],
        throttle_rate=row["throttle_rate"],
        created_at=ms_to_datetime(row["created_at"]),
        updated_at=ms_to_datetime(row["updated_at"]),
    )


def _check_url(settings: Settings, url: str | None) -> None:
    if url is not None and settings.endpoint_https_only and urlsplit(url).scheme != "https":
        raise ApiError(
            422, "validation", [{"loc": ["body", "url"], "msg": "endpoint URLs must use https", "type": "value_error"}]
        )


async def _load(db: Database, who: Any, app_id: str, endpoint_id: str) -> Row:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        return await endpoints.get(conn, app["id"], endpoint_id)


@router.get("", response_model=ListResponse[EndpointOut], operation_id="v1.endpoint.list")
async def list_endpoints(
    app_id: AppId, who: Auth, db: Db, limit: Limit = 50, iterator: Iterator = None, order: Order = "ascending"
) -> ListResponse[EndpointOut]:
    app = await load_app(db, who, app_id)
    ep = tables.endpoint
    async with db.read() as conn:
        page = await paginate(
            conn,
            select(ep).where(ep.c.app_id == app["id"]),
            ep.c.id,
            limit=limit,
            iterator=iterator,
            descending=order == "descending",
        )
    return ListResponse(
        data=[endpoint_out(r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=EndpointOut, operation_id="v1.endpoint.create")
async def create_endpoint(
    app_id: AppId, body: EndpointIn, who: Auth, db: Db, settings: Conf, idempotency_key: IdempotencyKey = None
) -> EndpointOut:
    _check_url(settings, body.url)
    app = await load_app(db, who, app_id)
    box: SecretBox = SecretBox.from_settings(settings)
    fields = body.model_dump(exclude={"secret", "headers", "key_type"})
    fields["secret"] = box.seal(body.secret or new_key(body.key_type))
    fields["headers"] = merge_headers({}, body.headers or {})
    async with db.write() as conn:
        return endpoint_out(await endpoints.create(conn, app["id"], fields))


@router.get("/{endpoint_id}", response_model=EndpointOut, operation_id="v1.endpoint.get")
async def get_endpoint(app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db) -> EndpointOut:
    return endpoint_out(await _load(db, who, app_id, endpoint_id))


@router.put("/{endpoint_id}", response_model=EndpointOut, operation_id="v1.endpoint.update")
async def update_endpoint(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointUpdate, who: Auth, db: Db, settings: Conf
) -> EndpointOut:
    _check_url(settings, body.url)
    row = await _load(db, who, app_id, endpoint_id)
    fields = body.model_dump()
    if "uid" not in body.model_fields_set:
        fields.pop("uid")  # keep the uid the caller may be addressing it by
    async with db.write() as conn:
        return endpoint_out(await endpoints.update_fields(conn, row, fields))


@router.patch("/{endpoint_id}", response_model=EndpointOut, operation_id="v1.endpoint.patch")
async def patch_endpoint(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointPatch, who: Auth, db: Db, settings: Conf
) -> EndpointOut:
    _check_url(settings, body.url)
    row = await _load(db, who, app_id, endpoint_id)
    fields = body.model_dump(exclude_unset=True)
    for key in ("url", "description", "disabled", "metadata"):
        if key in fields and fields[key] is None:
            fields.pop(key)
    async with db.write() as conn:
        return endpoint_out(await endpoints.update_fields(conn, row, fields))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, operation_id="v1.endpoint.delete")
async def delete_endpoint(app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db) -> None:
    row = await _load(db, who, app_id, endpoint_id)
    async with db.write() as conn:
        await endpoints.remove(conn, row)


@router.get("/{endpoint_id}/secret", response_model=EndpointSecretOut, operation_id="v1.endpoint.get-secret")
async def get_endpoint_secret(
    app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db, settings: Conf
) -> EndpointSecretOut:
    row = await _load(db, who, app_id, endpoint_id)
    return EndpointSecretOut(key=SecretBox.from_settings(settings).open(row["secret"]))


@router.post("/{endpoint_id}/secret/rotate", response_model=EndpointSecretOut, operation_id="v1.endpoint.rotate-secret")
async def rotate_endpoint_secret(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: EndpointSecretRotateIn,
    who: Auth,
    db: Db,
    settings: Conf,
    idempotency_key: IdempotencyKey = None,
) -> EndpointSecretOut:
    """Make a new secret current (returned); the old one keeps signing for the grace period."""
    row = await _load(db, who, app_id, endpoint_id)
    grace = 86400 if body.grace_period_seconds is None else body.grace_period_seconds
    new_secret = body.key or new_key(body.key_type)
    async with db.write() as conn:
        await endpoints.rotate_secret(conn, row, SecretBox.from_settings(settings).seal(new_secret), grace * 1000)
    return EndpointSecretOut(key=new_secret)


def merge_headers(headers: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """Apply ``changes`` (None removes) with names compared case-insensitively, as HTTP
    does: ``x-a`` replaces ``X-A`` rather than sending the header twice."""
    merged = dict(headers)
    for name, value in changes.items():
        for same in [k for k in merged if k.lower() == name.lower()]:
            del merged[same]
        if value is not None:
            merged[name] = value
    return merged


def new_key(key_type: str) -> str:
    return generate_signing_key() if key_type == "ed25519" else generate_secret()


@router.get("/{endpoint_id}/public-key", response_model=EndpointPublicKeyOut, operation_id="v1.endpoint.get-public-key")
async def get_endpoint_public_key(
    app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db, settings: Conf
) -> EndpointPublicKeyOut:
    """The public key of an endpoint that signs with Ed25519 (``v1a``): receivers verify
    with it and never hold the secret. 409 for an endpoint that signs with HMAC."""
    row = await _load(db, who, app_id, endpoint_id)
    secret = SecretBox.from_settings(settings).open(row["secret"])
    if not is_asymmetric(secret):
        raise ApiError(409, "conflict", "this endpoint signs with an HMAC secret (v1); it has no public key")
    return EndpointPublicKeyOut(key=public_key_of(secret))


def _headers_out(headers: dict[str, str]) -> EndpointHeadersOut:
    sensitive = sorted(k for k in headers if k.lower() in SENSITIVE_HEADERS)
    visible = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
    return EndpointHeadersOut(headers=visible, sensitive=sensitive)


@router.get("/{endpoint_id}/headers", response_model=EndpointHeadersOut, operation_id="v1.endpoint.get-headers")
async def get_endpoint_headers(app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db) -> EndpointHeadersOut:
    return _headers_out((await _load(db, who, app_id, endpoint_id))["headers"])


@router.put(
    "/{endpoint_id}/headers", status_code=204, response_class=Response, operation_id="v1.endpoint.update-headers"
)
async def update_endpoint_headers(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointHeadersIn, who: Auth, db: Db
) -> None:
    row = await _load(db, who, app_id, endpoint_id)
    async with db.write() as conn:
        await endpoints.update_fields(conn, row, {"headers": merge_headers({}, body.headers)})


@router.patch(
    "/{endpoint_id}/headers", status_code=204, response_class=Response, operation_id="v1.endpoint.patch-headers"
)
async def patch_endpoint_headers(
    app_id: AppId, endpoint_id: EndpointId, body: EndpointHeadersPatchIn, who: Auth, db: Db
) -> None:
    row = await _load(db, who, app_id, endpoint_id)
    headers = merge_headers(row["headers"], body.headers)
    async with db.write() as conn:
        await endpoints.update_fields(conn, row, {"headers": headers})


def example_payload(event_type: str, schemas: dict[str, Any] | None) -> dict[str, Any]:
    """An example body for ``send-example``: the schema's own example when it has one."""
    for schema in reversed(list((schemas or {}).values())):
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        if examples and isinstance(examples[0], dict):
            return dict(examples[0])
    return {"type": event_type, "timestamp": ms_to_datetime(now_ms()).isoformat(), "data": {"example": True}}


@router.post("/{endpoint_id}/send-example", response_model=MessageOut, operation_id="v1.endpoint.send-example")
async def send_example(
    app_id: AppId,
    endpoint_id: EndpointId,
    body: EventExampleIn,
    who: Auth,
    db: Db,
    engine: Engine,
    idempotency_key: IdempotencyKey = None,
) -> MessageOut:
    row = await _load(db, who, app_id, endpoint_id)
    async with db.write() as conn:
        known = await event_types.find(conn, body.event_type)
        payload = example_payload(body.event_type, known["schemas"] if known else None)
        new = messages.NewMessage(app_id=row["app_id"], event_type=body.event_type, payload=orjson.dumps(payload))
        msg, _ = await messages.create(conn, new, endpoint_ids=[row["id"]])
    if engine:
        engine.wake()
    return message_out(msg)
