"""The event-type catalogue."""

from typing import Any

from hookline.domain.model import EventType
from hookline.services.context import Context
from hookline.store import event_types
from hookline.store.pagination import Page


async def page(
    ctx: Context, *, include_archived: bool, limit: int, iterator: str | None, descending: bool
) -> Page[EventType]:
    async with ctx.db.read() as conn:
        return await event_types.page(
            conn, include_archived=include_archived, limit=limit, iterator=iterator, descending=descending
        )


async def get(ctx: Context, name: str) -> EventType:
    async with ctx.db.read() as conn:
        return await event_types.get(conn, name)


async def create(ctx: Context, fields: dict[str, Any]) -> EventType:
    async with ctx.db.write() as conn:
        return await event_types.create(conn, fields)


async def put(ctx: Context, name: str, fields: dict[str, Any]) -> tuple[EventType, bool]:
    """Replace the event type, or create it. Returns it and whether it was created."""
    async with ctx.db.write() as conn:
        if await event_types.find(conn, name) is None:
            return await event_types.create(conn, {"name": name, **fields}), True
        return await event_types.update_fields(conn, name, fields), False


async def patch(ctx: Context, name: str, fields: dict[str, Any]) -> EventType:
    async with ctx.db.write() as conn:
        await event_types.get(conn, name)
        return await event_types.update_fields(conn, name, fields)


async def delete(ctx: Context, name: str, *, expunge: bool) -> None:
    """Archive the event type; with ``expunge``, delete it for good."""
    async with ctx.db.write() as conn:
        await event_types.get(conn, name)
        if expunge:
            await event_types.remove(conn, name)
        else:
            await event_types.update_fields(conn, name, {"archived": True})
