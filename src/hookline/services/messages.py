"""Reading messages, and expunging their content."""

from hookline.domain.model import Message, MessageFilter
from hookline.services import applications
from hookline.services.context import Context
from hookline.store import messages
from hookline.store.pagination import Page


async def page(
    ctx: Context, app_key: str, f: MessageFilter, *, tenant: str | None, limit: int, iterator: str | None
) -> Page[Message]:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await messages.page(conn, app.id, f, limit=limit, iterator=iterator)


async def get(ctx: Context, app_key: str, msg_key: str, *, tenant: str | None) -> Message:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await messages.get(conn, app.id, msg_key)


async def expunge(ctx: Context, app_key: str, msg_key: str, *, tenant: str | None) -> None:
    """Delete the message's payload; its metadata and attempts stay."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        message = await messages.get(conn, app.id, msg_key)
        await messages.expunge(conn, message.id)
