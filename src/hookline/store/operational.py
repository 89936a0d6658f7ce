"""Operational webhooks: hookline's own events, delivered to the operator.

They live in an application of their own, so they travel through the same
queue, signing and retries as every other message. That application is marked
``internal``, a column no API call can set: it has no uid a tenant could take,
no token can be scoped to it, and it is never listed.
"""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from hookline.domain.model import Endpoint
from hookline.store import applications, endpoints, messages
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms

# Svix's rule: a message is "failing" once its 4th attempt has failed.
FAILING_AFTER = 4


async def operational_app_id(conn: Conn) -> str | None:
    # The inbound gateway's sources have internal applications too: those are not this one.
    app = t.application
    query = (
        select(app.c.id)
        .where(app.c.internal.is_(True), app.c.id.not_in(select(t.ingest_source.c.app_id)))
        .order_by(app.c.id)
        .limit(1)
    )
    return (await conn.execute(query)).scalar_one_or_none()


async def emit(conn: Conn, event_type: str, data: dict[str, Any], *, about_app: str) -> None:
    """Queue an operational event in the caller's transaction (nothing if unconfigured)."""
    op_app = await operational_app_id(conn)
    if op_app is None or about_app == op_app:
        return  # no operator endpoint, or an event about the operational app itself
    body = {"type": event_type, "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "data": data}
    new = messages.NewMessage(app_id=op_app, event_type=event_type, payload=orjson.dumps(body))
    await messages.create(conn, new)


async def endpoint_event(conn: Conn, event_type: str, endpoint: Endpoint) -> None:
    """``endpoint``: a record, or a raw endpoint row (the queue passes one)."""
    app = await applications.find(conn, endpoint.app_id)
    data = {
        "appId": endpoint.app_id,
        "appUid": app.uid if app else None,
        "endpointId": endpoint.id,
        "endpointUid": endpoint.uid,
    }
    if event_type == "endpoint.disabled":
        fail_since = endpoint.failing_since or now_ms()
        data["failSince"] = datetime.fromtimestamp(fail_since / 1000, UTC).isoformat().replace("+00:00", "Z")
    await emit(conn, event_type, data, about_app=endpoint.app_id)


async def attempt_event(
    conn: Conn,
    event_type: str,
    *,
    app_id: str,
    endpoint_id: str,
    msg_id: str,
    attempt_id: str,
    status_code: int,
    at_ms: int,
) -> None:
    app = await applications.find(conn, app_id)
    msg = await messages.find(conn, app_id, msg_id)
    data = {
        "appId": app_id,
        "appUid": app.uid if app else None,
        "endpointId": endpoint_id,
        "msgId": msg_id,
        "msgEventId": msg.event_id if msg else None,
        "lastAttempt": {
            "id": attempt_id,
            "responseStatusCode": status_code,
            "timestamp": datetime.fromtimestamp(at_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
        },
    }
    await emit(conn, event_type, data, about_app=app_id)


async def ensure_app(conn: Conn) -> str:
    """The operational application's id, created if missing."""
    app_id = await operational_app_id(conn)
    if app_id is None:
        app: dict[str, Any] = {"name": "hookline operational webhooks", "uid": None, "metadata": {}, "internal": True}
        app_id = (await applications.create(conn, app)).id
    return app_id


async def configure_from_env(conn: Conn, url: str, secret: str | None, sealed_secret: str) -> None:
    """Make sure the operational app and its env-configured endpoint (uid ``env``) exist."""
    app_id = await ensure_app(conn)
    existing = await endpoints.find(conn, app_id, "env")
    fields: dict[str, Any] = {"url": url, "disabled": False}
    if existing is None:
        await endpoints.create(
            conn,
            app_id,
            {
                **fields,
                "uid": "env",
                "description": "from HOOKLINE_OPERATIONAL_WEBHOOK_URL",
                "event_types": None,
                "channels": None,
                "metadata": {},
                "throttle_rate": None,
                "headers": {},
                "secret": sealed_secret,
            },
        )
    else:
        if secret:
            fields["secret"] = sealed_secret
        await endpoints.update_fields(conn, existing, fields)
