"""Publishing: everything that makes deliveries due from a request, and wakes the engine
after the commit (publish, send an example, resend)."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hookline import metrics
from hookline.domain.event_schemas import latest_version, validate_payload
from hookline.domain.model import EventType, Message
from hookline.errors import Invalid, NotFound, TooLarge
from hookline.services import applications, payload_filters
from hookline.services import endpoints as endpoint_service
from hookline.services.context import Context
from hookline.store import applications as app_store
from hookline.store import endpoints as endpoint_store
from hookline.store import event_types, messages, queue
from hookline.store.database import now_ms


@dataclass(frozen=True, slots=True)
class Publish:
    """A message to publish, as the producer sent it."""

    event_type: str
    payload: dict[str, Any]
    event_id: str | None = None
    channels: Sequence[str] | None = None
    retention_days: int = 90
    application: dict[str, Any] | None = None  # create the application with these fields if missing
    schema_version: str | None = None  # the event type's schema version the payload follows
    ordering_key: str | None = None  # its FIFO order on FIFO endpoints (default: its channels)


def check_schema(known: EventType | None, new: Publish) -> tuple[str | None, str | None]:
    """The schema version the message is published under, and (``warn``) why its payload fails
    it (counted once the message is stored). Invalid for a version the event type lacks, or
    (``enforce``) a payload that fails."""
    schemas = known.schemas if known is not None else None
    version = new.schema_version
    if version is not None and (not schemas or version not in schemas):
        have = ", ".join(sorted(schemas or {}, key=int)) or "none"
        raise Invalid(
            ["body", "schemaVersion"], f"event type {new.event_type!r} has no schema version {version}; it has: {have}"
        )
    if not schemas or known is None:
        return version, None
    version = version or latest_version(schemas)
    if known.schema_validation == "off":
        return version, None
    failure = validate_payload(schemas, new.payload, version)
    if failure is None:
        return version, None
    where, reason = failure
    if known.schema_validation == "enforce":
        location = ["body", "payload", *(p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:])]
        raise Invalid(
            location,
            f"the payload does not match schema version {version} of {new.event_type!r} "
            f"at {where or '/'} (JSON pointer): {reason}",
        )
    return version, f"{where or '/'}: {reason}"


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact JSON bytes; integers beyond 64 bits (valid JSON) take the slow path."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def publish(ctx: Context, app_key: str, new: Publish, *, tenant: str | None) -> Message:
    """Store the message with one delivery per matching endpoint, in one transaction.

    An admin (``tenant`` None) that sends ``application`` creates a missing application
    (uid ``app_key`` unless the fields name one). Raises TooLarge over the payload limit.
    """
    payload = encode_payload(new.payload)
    limit = ctx.settings.max_payload_bytes
    if len(payload) > limit:
        raise TooLarge(f"payload is {len(payload)} bytes; the limit is {limit}")
    async with ctx.db.write() as conn:
        app = await app_store.find(conn, app_key)
        if app is not None and tenant is not None and app.id != tenant:
            app = None
        if app is None:
            if new.application is None or tenant is not None:
                raise NotFound("application")
            app = await app_store.create(conn, {**new.application, "uid": new.application.get("uid") or app_key})
        version, warning = check_schema(await event_types.find(conn, new.event_type), new)
        stored = messages.NewMessage(
            app_id=app.id,
            event_type=new.event_type,
            payload=payload,
            event_id=new.event_id,
            channels=new.channels,
            retention_days=new.retention_days,
            schema_version=version,
            schema_warning=warning,
            ordering_key=new.ordering_key,
        )
        doc = payload_filters.document(new.event_type, new.channels, new.payload)
        candidates = await messages.candidates(conn, stored)
        targets = [e["id"] for e in candidates if payload_filters.accepts(e["filter"], doc)]
        fifo = {e["id"] for e in candidates if e["fifo"]}
        message, queued = await messages.create(conn, stored, endpoint_ids=targets, fifo_endpoints=fifo)
    metrics.message_accepted()
    if message.schema_warning is not None:
        metrics.schema_warning(new.event_type)
    if queued:
        ctx.wake()
    return message


def example_payload(event_type: str, schemas: dict[str, Any] | None) -> dict[str, Any]:
    """An example body for ``send-example``: the schema's own example when it has one."""
    for schema in reversed(list((schemas or {}).values())):
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        if examples and isinstance(examples[0], dict):
            return dict(examples[0])
    at = datetime.fromtimestamp(now_ms() / 1000, tz=UTC).isoformat()
    return {"type": event_type, "timestamp": at, "data": {"example": True}}


async def send_example(
    ctx: Context, app_key: str, endpoint_key: str, event_type: str, *, tenant: str | None
) -> Message:
    """Send the endpoint (only it) an example message of ``event_type``."""
    endpoint = await endpoint_service.get(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.write() as conn:
        known = await event_types.find(conn, event_type)
        payload = example_payload(event_type, known.schemas if known else None)
        new = messages.NewMessage(app_id=endpoint.app_id, event_type=event_type, payload=orjson.dumps(payload))
        message, _ = await messages.create(conn, new, endpoint_ids=[endpoint.id])
    ctx.wake()
    return message


async def resend(ctx: Context, app_key: str, msg_key: str, endpoint_key: str, *, tenant: str | None) -> None:
    """Queue a manual attempt of the message to the endpoint, due now."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        message = await messages.get(conn, app.id, msg_key)
        endpoint = await endpoint_store.get(conn, app.id, endpoint_key)
        await queue.enqueue_manual(conn, message.id, endpoint.id, app.id, now_ms())
    ctx.wake()
