"""Usage across applications: message destinations in a window, and event-type subscriptions."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from hookline.store import tables as t
from hookline.store.database import Conn

app, d, ep = t.application, t.delivery, t.endpoint


@dataclass(frozen=True, slots=True)
class AppRef:
    """An application as usage statistics name it."""

    id: str
    uid: str | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """One endpoint's event-type filter (None: every type)."""

    app_id: str
    event_types: list[str] | None


async def tenant_apps(conn: Conn, ids_or_uids: Sequence[str] | None) -> list[AppRef]:
    """Tenants' applications (never hookline's internal ones): all, or those named by id or uid."""
    query = select(app.c.id, app.c.uid).where(app.c.internal.is_(False)).order_by(app.c.id)
    if ids_or_uids is not None:
        query = query.where(or_(app.c.id.in_(ids_or_uids), app.c.uid.in_(ids_or_uids)))
    return [AppRef(row.id, row.uid) for row in await conn.execute(query)]


async def destinations(conn: Conn, app_ids: Sequence[str], since: int, until: int) -> dict[str, int]:
    """Deliveries (message x endpoint) created in ``[since, until)``, per application."""
    query = (
        select(d.c.app_id, func.count())
        .where(d.c.app_id.in_(app_ids), d.c.created_at >= since, d.c.created_at < until)
        .group_by(d.c.app_id)
    )
    return {str(app_id): int(count) for app_id, count in (await conn.execute(query)).all()}


async def subscriptions(conn: Conn, app_ids: Sequence[str]) -> list[Subscription]:
    """Every endpoint's event-type filter, for the given applications."""
    query = select(ep.c.app_id, ep.c.event_types).where(ep.c.app_id.in_(app_ids)).order_by(ep.c.app_id)
    return [Subscription(row.app_id, row.event_types) for row in await conn.execute(query)]
