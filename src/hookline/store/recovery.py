"""Finding what to send again: failed deliveries (recover), messages an endpoint never
got (replay-missing) and deliveries matching a filter (bulk replay).

Each finder lists everything (for a job's total) or one batch after a cursor, in
message id order, so a job can resume where its last committed batch ended.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, insert, null, or_, select

from hookline.domain.ids import id_floor
from hookline.domain.model import DeliveryStatus, Endpoint, Trigger
from hookline.store import tables as t
from hookline.store.database import Conn, notify_work
from hookline.store.messages import matching_endpoints_for, new_delivery
from hookline.store.queue import reset_as_manual

d, m = t.delivery, t.message


def _window(since_ms: int, until_ms: int | None, msg_id: Any = m.c.id) -> list[ColumnElement[bool]]:
    """Message ids are time-ordered: a time window is an id range (on ``msg_id``, so an index serves it)."""
    window = [msg_id >= id_floor("msg", since_ms)]
    if until_ms is not None:
        window.append(msg_id < id_floor("msg", until_ms + 1))
    return window


async def failed_messages(
    conn: Conn,
    endpoint: Endpoint,
    since_ms: int,
    until_ms: int | None,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[str]:
    query = (
        select(d.c.msg_id)
        .select_from(d.join(m, m.c.id == d.c.msg_id))
        .where(
            d.c.endpoint_id == endpoint.id,
            d.c.status == DeliveryStatus.FAIL,
            *_window(since_ms, until_ms, d.c.msg_id),
        )
        .order_by(d.c.msg_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(d.c.msg_id > after)
    return list((await conn.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class Unsent:
    """A message of the endpoint's application it has no delivery for, whose event type and
    channels it matches now; ``payload`` is read only for an endpoint with a payload filter,
    which the caller applies (services/recovery.py)."""

    id: str
    event_type: str
    channels: list[str] | None
    payload: bytes | None


async def missing_messages(
    conn: Conn,
    endpoint: Endpoint,
    since_ms: int,
    until_ms: int | None,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[list[Unsent], str | None]:
    """Messages of the endpoint's application in the window that match its event types and
    channels now, and that it has no delivery for; and the last message id looked at."""
    delivered = select(d.c.id).where(and_(d.c.msg_id == m.c.id, d.c.endpoint_id == endpoint.id)).exists()
    payload = m.c.payload if endpoint.filter is not None else null()
    query = (
        select(m.c.id, m.c.event_type, m.c.channels, payload.label("payload"))
        .where(m.c.app_id == endpoint.app_id, ~delivered, *_window(since_ms, until_ms))
        .order_by(m.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(m.c.id > after)
    rows = (await conn.execute(query)).all()
    found = [Unsent(*row) for row in rows if matching_endpoints_for(endpoint, row[1], row[2])]
    return found, rows[-1][0] if rows else None


async def resend(conn: Conn, endpoint: Endpoint, msg_ids: Sequence[str], now: int) -> None:
    """Make failed deliveries due again now, as manual attempts."""
    await reset_as_manual(
        conn, now, d.c.endpoint_id == endpoint.id, d.c.msg_id.in_(list(msg_ids)), d.c.status == DeliveryStatus.FAIL
    )
    await notify_work(conn)


async def send_missing(conn: Conn, endpoint: Endpoint, msg_ids: Sequence[str], now: int) -> None:
    rows = [new_delivery(msg_id, endpoint.id, endpoint.app_id, now, trigger=Trigger.MANUAL) for msg_id in msg_ids]
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
    tag: str | None = None


async def matching_deliveries(
    conn: Conn,
    endpoint_ids: Sequence[str],
    f: ReplayFilter,
    *,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """(endpoint id, message id) of the deliveries a bulk replay covers, and the last
    (message id, endpoint id) looked at: the cursor for the next batch."""
    query = (
        select(d.c.endpoint_id, d.c.msg_id, m.c.channels, m.c.tags)
        .select_from(d.join(m, m.c.id == d.c.msg_id))
        .where(
            d.c.endpoint_id.in_(list(endpoint_ids)),
            d.c.status != DeliveryStatus.SENDING,
            *_window(f.since_ms, f.until_ms, d.c.msg_id),
        )
        .order_by(d.c.msg_id, d.c.endpoint_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(or_(d.c.msg_id > after[0], and_(d.c.msg_id == after[0], d.c.endpoint_id > after[1])))
    if f.event_types:
        query = query.where(m.c.event_type.in_(list(f.event_types)))
    if f.status is not None:
        query = query.where(d.c.status == f.status)
    rows = (await conn.execute(query)).all()
    last = (rows[-1][1], rows[-1][0]) if rows else None
    pairs = [
        (row[0], row[1])
        for row in rows
        if (not f.channel or f.channel in (row[2] or ())) and (not f.tag or f.tag in (row[3] or ()))
    ]
    return pairs, last


async def replay_pairs(conn: Conn, pairs: Sequence[tuple[str, str]], now: int) -> None:
    """Send each (endpoint, message) delivery again now, as a manual attempt."""
    if pairs:
        await reset_as_manual(
            conn,
            now,
            d.c.endpoint_id == bindparam("b_ep"),
            d.c.msg_id == bindparam("b_msg"),
            d.c.status != DeliveryStatus.SENDING,
            params=[{"b_ep": ep, "b_msg": msg} for ep, msg in pairs],
        )
    await notify_work(conn)
