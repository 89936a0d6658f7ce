"""Endpoints: where an application's messages go, and how they are signed.

Operational events about endpoints are not emitted here: the use-cases that
change an endpoint emit them (``services.endpoints``), in the same transaction.
"""

from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.ids import new_id
from hookline.domain.model import OPEN_STATUSES, Endpoint
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.pagination import Page, paginate

ep = t.endpoint
MAX_OLD_SECRETS = 10


async def find(conn: Conn, app_id: str, id_or_uid: str) -> Endpoint | None:
    query = select(ep).where(ep.c.app_id == app_id, or_(ep.c.id == id_or_uid, ep.c.uid == id_or_uid))
    row = (await conn.execute(query.limit(1))).mappings().first()
    return None if row is None else records.endpoint(row)


async def get(conn: Conn, app_id: str, id_or_uid: str) -> Endpoint:
    found = await find(conn, app_id, id_or_uid)
    if found is None:
        raise NotFoundError("endpoint")
    return found


async def page(conn: Conn, app_id: str, *, limit: int, iterator: str | None, descending: bool) -> Page[Endpoint]:
    query = select(ep).where(ep.c.app_id == app_id)
    return await paginate(
        conn, query, ep.c.id, limit=limit, iterator=iterator, descending=descending, record=records.endpoint
    )


async def create(conn: Conn, app_id: str, fields: dict[str, Any]) -> Endpoint:
    now = now_ms()
    values = {
        "id": new_id("ep"),
        "app_id": app_id,
        "old_secrets": [],
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    try:
        await conn.execute(insert(ep).values(values))
    except IntegrityError as exc:
        raise ConflictError("an endpoint with this uid already exists in this application") from exc
    return await get(conn, app_id, values["id"])


async def update_fields(conn: Conn, current: Endpoint, fields: dict[str, Any]) -> Endpoint:
    if fields.get("disabled") is False and current.disabled:
        # Re-enabling starts a fresh failure window for auto-disable.
        fields = {**fields, "failing_since": None}
    try:
        await conn.execute(update(ep).where(ep.c.id == current.id).values(updated_at=now_ms(), **fields))
    except IntegrityError as exc:
        raise ConflictError("an endpoint with this uid already exists in this application") from exc
    return await get(conn, current.app_id, current.id)


async def remove(conn: Conn, endpoint: Endpoint) -> None:
    """Delete the endpoint and the deliveries still waiting for it (its history stays)."""
    pending = and_(t.delivery.c.endpoint_id == endpoint.id, t.delivery.c.status.in_(OPEN_STATUSES))
    await conn.execute(delete(t.delivery).where(pending))
    await conn.execute(delete(ep).where(ep.c.id == endpoint.id))


def live_old_secrets(endpoint: Endpoint, at_ms: int) -> list[dict[str, Any]]:
    return [s for s in endpoint.old_secrets if s["expires_at"] > at_ms]


async def rotate_secret(conn: Conn, endpoint: Endpoint, new_secret: str, grace_ms: int) -> None:
    """Make ``new_secret`` current; the old one keeps signing for ``grace_ms``."""
    now = now_ms()
    old = live_old_secrets(endpoint, now)
    if grace_ms > 0:
        old.append({"key": endpoint.secret, "expires_at": now + grace_ms})
    old = old[-MAX_OLD_SECRETS:]
    values = {"secret": new_secret, "old_secrets": old, "updated_at": now}
    await conn.execute(update(ep).where(ep.c.id == endpoint.id).values(values))


async def for_app(conn: Conn, app_id: str) -> list[Endpoint]:
    return [records.endpoint(row) for row in (await conn.execute(select(ep).where(ep.c.app_id == app_id))).mappings()]
