"""Deliveries as listings see them: a message's destinations, an endpoint's messages."""

from sqlalchemy import select

from hookline.domain.model import DeliveryStatus, EndpointDelivery, MessageDelivery, MessageFilter
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn
from hookline.store.filters import message_conditions
from hookline.store.pagination import Page, paginate
from hookline.store.tables import Row

d, m, ep = t.delivery, t.message, t.endpoint


def _endpoint_delivery(row: Row) -> EndpointDelivery:
    return EndpointDelivery(endpoint=records.endpoint(row), state=records.delivery_state(row))


def _message_delivery(row: Row) -> MessageDelivery:
    return MessageDelivery(message=records.message(row), state=records.delivery_state(row))


async def destinations(
    conn: Conn, app_id: str, msg_id: str, *, limit: int, iterator: str | None
) -> Page[EndpointDelivery]:
    """The endpoints a message was (or is being) delivered to, in endpoint order."""
    query = (
        select(ep, d.c.status, d.c.next_attempt_at)
        .select_from(d.join(ep, ep.c.id == d.c.endpoint_id))
        .where(d.c.msg_id == msg_id, d.c.app_id == app_id)
    )
    return await paginate(
        conn, query, ep.c.id, limit=limit, iterator=iterator, descending=False, record=_endpoint_delivery
    )


async def messages_to(
    conn: Conn,
    app_id: str,
    endpoint_id: str,
    f: MessageFilter,
    *,
    status: DeliveryStatus | None,
    limit: int,
    iterator: str | None,
) -> Page[MessageDelivery]:
    """The messages delivered (or to be delivered) to an endpoint, newest first."""
    query = (
        select(m, d.c.status, d.c.next_attempt_at)
        .select_from(d.join(m, m.c.id == d.c.msg_id))
        .where(d.c.endpoint_id == endpoint_id, d.c.app_id == app_id, *message_conditions(f, ids=m.c.id, prefix="msg"))
    )
    if status is not None:
        query = query.where(d.c.status == int(status))
    return await paginate(
        conn, query, m.c.id, limit=limit, iterator=iterator, descending=True, record=_message_delivery
    )
