"""Reading messages, and expunging their content."""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Found:
    """Messages whose payload holds the text, newest first, and whether the scan reached the end."""

    rows: list[Message]
    complete: bool


async def search(
    ctx: Context, app_key: str, f: MessageFilter, text: str, *, tenant: str | None, limit: int, scan: int
) -> Found:
    """Messages matching ``f`` whose payload contains ``text`` (case-insensitive), looking at no
    more than the ``scan`` newest matching messages: a bounded scan, not an index."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    wanted = text.casefold()
    rows: list[Message] = []
    seen = 0
    iterator: str | None = None
    async with ctx.db.read() as conn:
        while seen < scan and len(rows) < limit:
            found = await messages.page(conn, app.id, f, limit=min(250, scan - seen), iterator=iterator)
            seen += len(found.rows)
            rows.extend(
                m
                for m in found.rows
                if m.payload is not None and wanted in m.payload.decode("utf-8", "replace").casefold()
            )
            if found.done or not found.rows:
                return Found(rows[:limit], complete=True)
            iterator = found.iterator
    return Found(rows[:limit], complete=False)
