"""Finding what to send again: failed deliveries (recover), and messages an endpoint
never got (replay-missing)."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, insert, select, update

from hookline.domain.ids import id_floor
from hookline.store import tables as t
from hookline.store.database import Conn, notify_work
from hookline.store.messages import matching_endpoints_for, new_delivery
from hookline.store.tables import Row

d, m = t.delivery, t.message
SUCCESS, PENDING, FAIL, SENDING = 0, 1, 2, 3


def _window(since_ms: int, until_ms: int | None) -> list[ColumnElement[bool]]:
    window = [m.c.id >= id_floor("msg", since_ms)]
    if until_ms is not None:
        window.append(m.c.id < id_floor("msg", until_ms + 1))
    return window


async def failed_messages(conn: Conn, endpoint: Row, since_ms: int, until_ms: int | None) -> list[str]:
    query = (
        select(d.c.msg_id)
        .select_from(d.join(m, m.c.id == d.c.msg_id))
        .where(d.c.endpoint_id == endpoint["id"], d.c.status == FAIL, *_window(since_ms, until_ms))
        .order_by(d.c.msg_id)
    )
    return list((await conn.execute(query)).scalars())


async def missing_messages(conn: Conn, endpoint: Row, since_ms: int, until_ms: int | None) -> list[str]:
    """Messages of the endpoint's application in the window that match its filters
    now, and that it has no delivery for."""
    delivered = select(d.c.id).where(and_(d.c.msg_id == m.c.id, d.c.endpoint_id == endpoint["id"])).exists()
    query = (
        select(m.c.id, m.c.event_type, m.c.channels)
        .where(m.c.app_id == endpoint["app_id"], ~delivered, *_window(since_ms, until_ms))
        .order_by(m.c.id)
    )
    rows = (await conn.execute(query)).mappings()
    return [row["id"] for row in rows if matching_endpoints_for(endpoint, row["event_type"], row["channels"])]


async def resend(conn: Conn, endpoint: Row, msg_ids: Sequence[str], now: int) -> None:
    """Make failed deliveries due again now, as manual attempts."""
    await conn.execute(
        update(d)
        .where(d.c.endpoint_id == endpoint["id"], d.c.msg_id.in_(list(msg_ids)), d.c.status == FAIL)
        .values(status=PENDING, next_attempt_at=now, locked_until=None, trigger=1, updated_at=now)
    )
    await notify_work(conn)


async def send_missing(conn: Conn, endpoint: Row, msg_ids: Sequence[str], now: int) -> None:
    rows = [new_delivery(msg_id, endpoint["id"], endpoint["app_id"], now, trigger=1) for msg_id in msg_ids]
    if rows:
        await conn.execute(insert(d), rows)
        await notify_work(conn)


@dataclass(frozen=True)
class ReplayFilter:
    since_ms: int
    until_ms: int | None = None
    event_types: Sequence[str] | None = None
    channel: str | None = None
    status: int | None = None


async def matching_deliveries(conn: Conn, endpoint_ids: Sequence[str], f: ReplayFilter) -> list[tuple[str, str]]:
    """(endpoint id, message id) of the deliveries a bulk replay covers."""
    query = (
        select(d.c.endpoint_id, d.c.msg_id)
        .select_from(d.join(m, m.c.id == d.c.msg_id))
        .where(d.c.endpoint_id.in_(list(endpoint_ids)), d.c.status != SENDING, *_window(f.since_ms, f.until_ms))
        .order_by(d.c.msg_id)
    )
    if f.event_types:
        query = query.where(m.c.event_type.in_(list(f.event_types)))
    if f.status is not None:
        query = query.where(d.c.status == f.status)
    rows = [(row[0], row[1]) for row in (await conn.execute(query)).all()]
    if f.channel:
        channels = await _channels(conn, [msg for _, msg in rows])
        rows = [(ep, msg) for ep, msg in rows if f.channel in (channels.get(msg) or ())]
    return rows


async def _channels(conn: Conn, msg_ids: list[str]) -> dict[str, list[str]]:
    result = await conn.execute(select(m.c.id, m.c.channels).where(m.c.id.in_(msg_ids)))
    return {row[0]: row[1] or [] for row in result.all()}


async def replay_pairs(conn: Conn, pairs: Sequence[tuple[str, str]], now: int) -> None:
    """Send each (endpoint, message) delivery again now, as a manual attempt."""
    for endpoint_id, msg_id in pairs:
        await conn.execute(
            update(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.msg_id == msg_id, d.c.status != SENDING)
            .values(status=PENDING, next_attempt_at=now, locked_until=None, trigger=1, updated_at=now)
        )
    await notify_work(conn)
