"""The delivery record as listings show it: attempts, a message's destinations, an
endpoint's messages."""

from collections.abc import Sequence

from hookline.domain.model import (
    Attempt,
    AttemptFilter,
    DeliveryStatus,
    EndpointDelivery,
    Message,
    MessageDelivery,
    MessageFilter,
)
from hookline.errors import NotFound
from hookline.services import applications
from hookline.services.context import Context
from hookline.store import attempts, deliveries, endpoints, messages
from hookline.store.pagination import MAX_LIMIT, Page

__all__ = [
    "MAX_LIMIT",
    "Page",
    "attempt",
    "attempts_of_app",
    "attempts_of_endpoint",
    "attempts_of_message",
    "destinations",
    "expunge_attempt",
    "messages_of",
    "messages_of_endpoint",
]


async def attempts_of_app(
    ctx: Context,
    app_key: str,
    f: AttemptFilter,
    *,
    endpoint_key: str | None,
    tenant: str | None,
    limit: int,
    iterator: str | None,
) -> Page[Attempt]:
    """The application's attempts to any of its endpoints (or to one), newest first."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        endpoint_id = (await endpoints.get(conn, app.id, endpoint_key)).id if endpoint_key else None
        return await attempts.page(conn, app.id, f, endpoint_id=endpoint_id, limit=limit, iterator=iterator)


async def attempts_of_endpoint(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    f: AttemptFilter,
    *,
    tenant: str | None,
    limit: int,
    iterator: str | None,
) -> Page[Attempt]:
    return await attempts_of_app(
        ctx, app_key, f, endpoint_key=endpoint_key, tenant=tenant, limit=limit, iterator=iterator
    )


async def attempts_of_message(
    ctx: Context,
    app_key: str,
    msg_key: str,
    f: AttemptFilter,
    *,
    endpoint_key: str | None,
    tenant: str | None,
    limit: int,
    iterator: str | None,
) -> Page[Attempt]:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        message = await messages.get(conn, app.id, msg_key)
        endpoint_id = (await endpoints.get(conn, app.id, endpoint_key)).id if endpoint_key else None
        return await attempts.page(
            conn, app.id, f, msg_id=message.id, endpoint_id=endpoint_id, limit=limit, iterator=iterator
        )


async def messages_of(ctx: Context, app_key: str, rows: Sequence[Attempt], *, tenant: str | None) -> dict[str, Message]:
    """The messages of ``rows`` (attempts), by id: a listing's ``with_msg``."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await messages.by_ids(conn, app.id, sorted({r.msg_id for r in rows}))


async def attempt(ctx: Context, app_key: str, msg_key: str, attempt_id: str, *, tenant: str | None) -> Attempt:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        message = await messages.get(conn, app.id, msg_key)
        found = await attempts.find(conn, app.id, message.id, attempt_id)
    if found is None:
        raise NotFound("message attempt")
    return found


async def expunge_attempt(ctx: Context, app_key: str, msg_key: str, attempt_id: str, *, tenant: str | None) -> None:
    """Delete the response body an attempt recorded."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        message = await messages.get(conn, app.id, msg_key)
        if not await attempts.expunge_response(conn, app.id, message.id, attempt_id):
            raise NotFound("message attempt")


async def destinations(
    ctx: Context, app_key: str, msg_key: str, *, tenant: str | None, limit: int, iterator: str | None
) -> Page[EndpointDelivery]:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        message = await messages.get(conn, app.id, msg_key)
        return await deliveries.destinations(conn, app.id, message.id, limit=limit, iterator=iterator)


async def messages_of_endpoint(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    f: MessageFilter,
    *,
    status: DeliveryStatus | None,
    tenant: str | None,
    limit: int,
    iterator: str | None,
) -> Page[MessageDelivery]:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        endpoint = await endpoints.get(conn, app.id, endpoint_key)
        return await deliveries.messages_to(conn, app.id, endpoint.id, f, status=status, limit=limit, iterator=iterator)
