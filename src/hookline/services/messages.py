"""Reading messages, and expunging their content."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hookline.domain import json_text
from hookline.domain.model import BackgroundTask, DeliveryStatus, Message, MessageFilter
from hookline.services import applications
from hookline.services.context import Context
from hookline.store import messages, task_results, tasks
from hookline.store.pagination import Page


async def page(
    ctx: Context,
    app_key: str,
    f: MessageFilter,
    *,
    tenant: str | None,
    limit: int,
    iterator: str | None,
    status: DeliveryStatus | None = None,
) -> Page[Message]:
    """The application's messages matching ``f``, newest first; with ``status``, those with a
    delivery in that status."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await messages.page(conn, app.id, f, limit=limit, iterator=iterator, status=status)


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
    ctx: Context,
    app_key: str,
    f: MessageFilter,
    text: str,
    *,
    tenant: str | None,
    limit: int,
    scan: int,
    status: DeliveryStatus | None = None,
) -> Found:
    """Messages matching ``f`` (and ``status``, as ``page``) whose payload contains ``text``
    (case-insensitive), looking at no more than the ``scan`` newest matching messages: a bounded
    scan, not an index."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    wanted = text.casefold()
    rows: list[Message] = []
    seen = 0
    iterator: str | None = None
    async with ctx.db.read() as conn:
        while seen < scan and len(rows) < limit:
            found = await messages.page(conn, app.id, f, limit=min(250, scan - seen), iterator=iterator, status=status)
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


async def expunge_many(ctx: Context, app_key: str, keys: Sequence[str], *, tenant: str | None) -> dict[str, bool]:
    """Delete the payloads of the messages ``keys`` (ids or event ids), in one transaction;
    for each key, whether it named a message of the application."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        return await messages.expunge_many(conn, app.id, keys)


async def precheck(
    ctx: Context, app_key: str, event_type: str, channels: Sequence[str] | None, *, tenant: str | None
) -> bool:
    """Whether publishing a message of this type and channels now would reach an enabled endpoint."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await messages.has_active_target(conn, app.id, event_type, channels)


PURGE_CONTENT = "application.purge_content"


async def expunge_all(ctx: Context, app_key: str, *, tenant: str | None) -> BackgroundTask:
    """Delete every payload of the application, in the request; the record is a finished
    ``application.purge_content`` task whose data is ``messagesPurged`` (Svix's shape)."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        purged = await messages.expunge_all(conn, app.id)
        task = await tasks.create(conn, app.id, PURGE_CONTENT, purged, {}, finished=True)
        data = {"messagesPurged": purged}
        await task_results.save(conn, task.id, data)
    return replace(task, data=data)


def payload_object(message: Message) -> dict[str, Any]:
    """A message's stored payload as an object: ``{}`` once retention expunged it, and for a
    received request forwarded as it came (inbound gateway), which need not be a JSON object;
    its bytes are shown by the ingest API's request listing."""
    if message.payload is None:
        return {}
    try:
        value = json_text.loads(message.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
