"""Endpoint transformations: the JavaScript an endpoint runs on each request before it is
signed and sent (hookline.transform runs it; the delivery engine applies it)."""

from typing import Any

from hookline.domain.model import Endpoint
from hookline.errors import Invalid, TooLarge, Unavailable
from hookline.services import endpoints
from hookline.services.context import Context
from hookline.store import endpoints as endpoint_store
from hookline.transform import MAX_CODE_BYTES, TransformError, TransformResult


def check_code(code: str, location: list[str]) -> str:
    size = len(code.encode())
    if size > MAX_CODE_BYTES:
        raise TooLarge(f"{'.'.join(location[1:])}: the code is {size} bytes; the limit is {MAX_CODE_BYTES}")
    if "\x00" in code:  # PostgreSQL cannot store it, SQLite would: refused on both alike
        raise Invalid(location, "the code holds a NUL character (\\u0000)")
    return code


async def get(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> Endpoint:
    return await endpoints.get(ctx, app_key, endpoint_key, tenant=tenant)


async def patch(
    ctx: Context, app_key: str, endpoint_key: str, changes: dict[str, Any], *, tenant: str | None
) -> Endpoint:
    """Set (or, with ``code`` None, remove) the code and switch it on or off. Enabling
    needs code. ``variables`` are refused: hookline has none to give the handler."""
    if changes.get("variables"):
        raise Invalid(["body", "variables"], "transformation variables are not supported by hookline")
    current = await endpoints.to_change(ctx, app_key, endpoint_key, tenant=tenant)
    fields: dict[str, Any] = {}
    if "code" in changes:
        code = changes["code"]
        fields["transformation_code"] = None if code is None else check_code(code, ["body", "code"])
        if code is None:
            fields["transformation_enabled"] = False
    if changes.get("enabled") is not None:
        fields["transformation_enabled"] = changes["enabled"]
    code_after = fields.get("transformation_code", current.transformation_code)
    if fields.get("transformation_enabled") and not code_after:
        raise Invalid(["body", "enabled"], "a transformation needs code before it can be enabled")
    if not fields:
        return current
    async with ctx.db.write() as conn:
        return await endpoint_store.update_fields(conn, current, fields)


async def simulate(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    *,
    code: str | None,
    event_type: str,
    payload: dict[str, Any],
    tenant: str | None,
) -> TransformResult | TransformError:
    """Run ``code`` (default: the endpoint's own) on a sample message, as a delivery would
    (``webhook.url`` is the endpoint's URL); nothing is sent."""
    endpoint = await endpoints.get(ctx, app_key, endpoint_key, tenant=tenant)
    source = code if code is not None else endpoint.transformation_code
    if source is None:
        raise Invalid(["body", "code"], "the endpoint has no transformation code; send code to try")
    check_code(source, ["body", "code"])
    if ctx.sandbox is None:
        raise Unavailable("the transformation sandbox is not running in this process")
    webhook = {"method": "POST", "url": endpoint.url, "payload": payload, "eventType": event_type, "headers": {}}
    return await ctx.sandbox.run(
        source, webhook, timeout=ctx.settings.transform_timeout, https_only=ctx.settings.endpoint_https_only
    )
