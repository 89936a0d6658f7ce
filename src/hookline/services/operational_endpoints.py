"""Operational webhook endpoints: where hookline sends its own events (``endpoint.disabled``,
``message.attempt.exhausted``...), managed by API (Svix's ``operational_webhook.endpoint.*``).

They are endpoints of hookline's internal operational application (``store.operational``),
so they share the queue, signing and retries of every other endpoint. The application is
created with the first endpoint. ``HOOKLINE_OPERATIONAL_WEBHOOK_URL`` still configures the
endpoint of uid ``env`` at every start. Admin tokens only (the routes check).
"""

from collections.abc import Mapping
from typing import Any

from hookline.domain.model import Endpoint
from hookline.errors import Conflict, NotFound
from hookline.services.context import Context
from hookline.services.endpoints import DEFAULT_GRACE_SECONDS, check_url, is_endpoint_id, merge_headers, new_key
from hookline.store import endpoints, operational
from hookline.store.errors import NotFoundError
from hookline.store.pagination import Page
from hookline.store.secrets import SecretBox


async def _app_id(ctx: Context) -> str | None:
    async with ctx.db.read() as conn:
        return await operational.operational_app_id(conn)


async def get(ctx: Context, endpoint_key: str) -> Endpoint:
    app_id = await _app_id(ctx)
    if app_id is None:
        raise NotFound("endpoint")
    async with ctx.db.read() as conn:
        return await endpoints.get(conn, app_id, endpoint_key)


async def page(ctx: Context, *, limit: int, iterator: str | None, descending: bool) -> Page[Endpoint]:
    app_id = await _app_id(ctx)
    if app_id is None:
        return Page(rows=[], iterator=None, prev_iterator=None, done=True)
    async with ctx.db.read() as conn:
        return await endpoints.page(conn, app_id, limit=limit, iterator=iterator, descending=descending)


async def create(
    ctx: Context, fields: dict[str, Any], *, secret: str | None, headers: Mapping[str, str] | None
) -> Endpoint:
    check_url(ctx, fields.get("url"))
    box = SecretBox.from_settings(ctx.settings)
    values = {
        "channels": None,
        **fields,
        "secret": box.seal(secret or new_key("hmac")),
        "headers": merge_headers({}, headers or {}),
    }
    async with ctx.db.write() as conn:
        app_id = await operational.ensure_app(conn)
        return await endpoints.create(conn, app_id, values)


async def upsert(ctx: Context, endpoint_key: str, fields: dict[str, Any]) -> tuple[Endpoint, bool]:
    """Change the endpoint ``endpoint_key`` (id or uid), or create it with that uid."""
    check_url(ctx, fields.get("url"))
    try:
        current = await get(ctx, endpoint_key)
    except (NotFound, NotFoundError):
        current = None
    if current is not None:
        async with ctx.db.write() as conn:
            return await endpoints.update_fields(conn, current, fields), False
    if is_endpoint_id(endpoint_key):
        raise NotFound("endpoint")  # an id names an endpoint that exists; it never becomes a uid
    if fields.get("uid") not in (None, endpoint_key):
        raise Conflict("uid: creating by PUT, the body's uid must be the one in the path (or left out)")
    return await create(ctx, {**fields, "uid": endpoint_key}, secret=None, headers=None), True


async def delete(ctx: Context, endpoint_key: str) -> None:
    endpoint = await get(ctx, endpoint_key)
    async with ctx.db.write() as conn:
        await endpoints.remove(conn, endpoint)


async def secret(ctx: Context, endpoint_key: str) -> str:
    return SecretBox.from_settings(ctx.settings).open((await get(ctx, endpoint_key)).secret)


async def rotate_secret(ctx: Context, endpoint_key: str, *, key: str | None, grace_seconds: int | None) -> str:
    endpoint = await get(ctx, endpoint_key)
    grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
    new_secret = key or new_key("hmac")
    async with ctx.db.write() as conn:
        sealed = SecretBox.from_settings(ctx.settings).seal(new_secret)
        await endpoints.rotate_secret(conn, endpoint, sealed, grace * 1000)
    return new_secret


async def replace_headers(ctx: Context, endpoint_key: str, headers: Mapping[str, str]) -> None:
    endpoint = await get(ctx, endpoint_key)
    async with ctx.db.write() as conn:
        await endpoints.update_fields(conn, endpoint, {"headers": merge_headers({}, headers)})
