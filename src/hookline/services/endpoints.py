"""Endpoint lifecycle: create, change, delete, secrets and custom headers.

Every change emits its operational event (``endpoint.created`` / ``updated`` /
``deleted``) here, in the transaction that makes the change.
"""

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from hookline.domain.addresses import blocked_reason
from hookline.domain.model import DeliveryStatus, Endpoint, is_credential_header, reserved_header
from hookline.domain.signing import generate_secret, generate_signing_key, is_asymmetric, public_key_of
from hookline.errors import Conflict, Invalid, NotFound
from hookline.services import applications, payload_filters
from hookline.services.context import Context
from hookline.store import attempts, client_certs, endpoints, event_types, operational, queue
from hookline.store.database import Conn, now_ms
from hookline.store.pagination import Page
from hookline.store.secrets import SecretBox

_ENDPOINT_ID = re.compile(r"ep_[0-9A-Za-z]{22}")
DEFAULT_GRACE_SECONDS = 86400


# A PATCH's null leaves these as they are (no endpoint is without them); it clears the others
# (uid, eventTypes, channels, throttleRate, filter).
KEPT_WHEN_NULL = frozenset(
    {"url", "description", "disabled", "metadata", "fifo", "fifo_on_exhausted", "path_forwarding_disabled"}
)


def patch_changes(fields: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body's fields (those given) as ``update`` takes them."""
    return {name: value for name, value in fields.items() if value is not None or name not in KEPT_WHEN_NULL}


def check_url(ctx: Context, url: str | None) -> None:
    if url is not None and ctx.settings.endpoint_https_only and urlsplit(url).scheme != "https":
        raise Invalid(["body", "url"], "endpoint URLs must use https")


def is_endpoint_id(key: str) -> bool:
    """Whether ``key`` has the form of an endpoint id (``ep_`` and 22 base-62 characters)."""
    return _ENDPOINT_ID.fullmatch(key) is not None


def check_filter(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with its ``filter`` checked (Invalid naming the path of a bad one)."""
    if "filter" not in fields:
        return fields
    return {**fields, "filter": payload_filters.check(fields["filter"], ["body", "filter"])}


def new_key(key_type: str) -> str:
    return generate_signing_key() if key_type == "ed25519" else generate_secret()


def merge_headers(headers: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """Apply ``changes`` (None removes) with names compared case-insensitively, as HTTP
    does: ``x-a`` replaces ``X-A`` rather than sending the header twice. A header hookline
    owns is refused (removing one stored before this rule existed is allowed), and so are
    two names in ``changes`` that differ only by case (which one was meant?)."""
    seen: dict[str, str] = {}
    for name in changes:
        first = seen.setdefault(name.lower(), name)
        if first != name:
            raise Invalid(["body", "headers", name], f"{name} and {first} name the same header (names ignore case)")
    merged = dict(headers)
    for name, value in changes.items():
        reason = reserved_header(name) if value is not None else None
        if reason is not None:
            raise Invalid(["body", "headers", name], f"{name} cannot be a custom header: {reason}")
        for same in [k for k in merged if k.lower() == name.lower()]:
            del merged[same]
        if value is not None:
            merged[name] = value
    return merged


def split_sensitive(headers: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers that may be shown, and the names of those that may not (credentials)."""
    sensitive = sorted(k for k in headers if is_credential_header(k))
    visible = {k: v for k, v in headers.items() if not is_credential_header(k)}
    return visible, sensitive


def _address_warning(ctx: Context, url: str) -> str | None:
    """An IP-literal (or localhost) URL the SSRF guard will always refuse. Names that resolve
    to private addresses are caught at send time instead: DNS can change before then."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = blocked_reason(ip, ctx.settings.allowed_cidrs)
    if reason is None:
        return None
    return f"url: {reason}; deliveries to it will be refused unless HOOKLINE_ALLOWED_CIDRS allows it"


async def warnings(ctx: Context, endpoint: Endpoint) -> list[str]:
    """Why an endpoint that was accepted can never receive anything, in words a user can act on."""
    found = [w for w in [_address_warning(ctx, endpoint.url)] if w]
    if endpoint.event_types:
        async with ctx.db.read() as conn:
            missing = [name for name in endpoint.event_types if await event_types.find(conn, name) is None]
        if missing:
            found.append(
                f"eventTypes: {', '.join(missing)} not in the event type catalogue: "
                "check the spelling, or create them with POST /api/v1/event-type"
            )
    return found


async def get(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> Endpoint:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await endpoints.get(conn, app.id, endpoint_key)


async def to_change(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> Endpoint:
    """``get`` for a change to the endpoint, or a message to it: Conflict for one of an application
    hookline keeps for itself, unless its owner asks (``applications.writable``)."""
    app = await applications.writable(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await endpoints.get(conn, app.id, endpoint_key)


def refuse_disabled(endpoint: Endpoint) -> None:
    """Conflict for sending to a disabled endpoint: nothing would be sent, and the message's
    delivery to it would only be marked failed."""
    if endpoint.disabled:
        raise Conflict(f"endpoint {endpoint.uid or endpoint.id} is disabled: enable it first")


async def page(
    ctx: Context, app_key: str, *, tenant: str | None, limit: int, iterator: str | None, descending: bool
) -> Page[Endpoint]:
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await endpoints.page(conn, app.id, limit=limit, iterator=iterator, descending=descending)


async def create(
    ctx: Context,
    app_key: str,
    fields: dict[str, Any],
    *,
    secret: str | None,
    key_type: str,
    headers: Mapping[str, str] | None,
    tenant: str | None,
) -> Endpoint:
    """Create an endpoint; without a ``secret``, one of ``key_type`` is generated."""
    values = new_values(ctx, fields, secret=secret, key_type=key_type, headers=headers)
    app = await applications.writable(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        return await insert(conn, app.id, values)


def new_values(
    ctx: Context, fields: dict[str, Any], *, secret: str | None, key_type: str, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """A new endpoint's row, checked (URL, filter, headers; Invalid names the field), its secret
    sealed: ``secret``, or a new one of ``key_type``."""
    check_url(ctx, fields.get("url"))
    fields = check_filter(fields)
    headers = merge_headers({}, headers or {})
    box = SecretBox.from_settings(ctx.settings)
    return {**fields, "secret": box.seal(secret or new_key(key_type)), "headers": headers}


async def insert(conn: Conn, app_id: str, values: dict[str, Any]) -> Endpoint:
    """Write a new endpoint (``new_values``) and its ``endpoint.created`` event, in ``conn``'s transaction."""
    endpoint = await endpoints.create(conn, app_id, values)
    await operational.endpoint_event(conn, "endpoint.created", endpoint)
    return endpoint


async def _change(ctx: Context, current: Endpoint, fields: dict[str, Any]) -> Endpoint:
    async with ctx.db.write() as conn:
        if current.fifo and fields.get("fifo") is False:
            await queue.release_fifo(conn, current.id, now_ms())  # nothing may wait for a head any more
        endpoint = await endpoints.update_fields(conn, current, fields)
        await operational.endpoint_event(conn, "endpoint.updated", endpoint)
    return endpoint


async def update(
    ctx: Context, app_key: str, endpoint_key: str, fields: dict[str, Any], *, tenant: str | None
) -> Endpoint:
    """Change the fields given (a PUT gives them all, a PATCH those it sets)."""
    check_url(ctx, fields.get("url"))
    fields = check_filter(fields)
    return await _change(ctx, await to_change(ctx, app_key, endpoint_key, tenant=tenant), fields)


async def upsert(
    ctx: Context, app_key: str, endpoint_key: str, fields: dict[str, Any], *, tenant: str | None
) -> tuple[Endpoint, bool]:
    """Svix's PUT: change the endpoint ``endpoint_key`` (id or uid) when it exists, else create
    it with uid ``endpoint_key`` and a new HMAC secret. Returns the endpoint and whether it is new."""
    check_url(ctx, fields.get("url"))
    fields = check_filter(fields)
    app = await applications.writable(ctx, app_key, tenant=tenant)
    async with ctx.db.read() as conn:
        current = await endpoints.find(conn, app.id, endpoint_key)
    if current is not None:
        return await _change(ctx, current, fields), False
    if is_endpoint_id(endpoint_key):
        raise NotFound("endpoint")  # an id names an endpoint that exists; it never becomes a uid
    if fields.get("uid") not in (None, endpoint_key):
        raise Conflict("uid: creating by PUT, the body's uid must be the one in the path (or left out)")
    box = SecretBox.from_settings(ctx.settings)
    values = {**fields, "uid": endpoint_key, "secret": box.seal(new_key("hmac")), "headers": {}}
    async with ctx.db.write() as conn:
        endpoint = await endpoints.create(conn, app.id, values)
        await operational.endpoint_event(conn, "endpoint.created", endpoint)
    return endpoint, True


async def test_filter(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    doc: dict[str, Any],
    *,
    candidate: dict[str, Any] | None,
    tenant: str | None,
) -> tuple[bool, dict[str, Any] | None]:
    """Whether the endpoint's filter (or ``candidate``, tried instead) matches the message
    ``doc`` (``payload_filters.document``). Returns the answer and the filter tried."""
    endpoint = await get(ctx, app_key, endpoint_key, tenant=tenant)
    tried = payload_filters.check(candidate, ["body", "filter"]) if candidate is not None else endpoint.filter
    return payload_filters.accepts(tried, doc), tried


async def skip_fifo_head(
    ctx: Context, app_key: str, endpoint_key: str, msg_id: str | None, *, tenant: str | None
) -> list[str]:
    """Let the FIFO orders blocked by an exhausted message (or only ``msg_id``'s) go on
    without it. Returns the skipped message ids; Conflict when nothing is blocked."""
    endpoint = await get(ctx, app_key, endpoint_key, tenant=tenant)
    if not endpoint.fifo:
        raise Conflict("this endpoint is not FIFO")
    async with ctx.db.write() as conn:
        heads = [h for h in await queue.blocked_heads(conn, endpoint.id) if msg_id is None or h[1] == msg_id]
        if not heads:
            raise Conflict("no FIFO order of this endpoint is blocked" + (f" by {msg_id}" if msg_id else ""))
        now = now_ms()
        return [message for delivery, message, _key in heads if await queue.leave_fifo_queue(conn, delivery, now)]


async def delete(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> None:
    endpoint = await to_change(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.write() as conn:
        await endpoints.remove(conn, endpoint)
        await client_certs.remove(conn, endpoint.id)
        await operational.endpoint_event(conn, "endpoint.deleted", endpoint)


async def secret(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> str:
    endpoint = await get(ctx, app_key, endpoint_key, tenant=tenant)
    return SecretBox.from_settings(ctx.settings).open(endpoint.secret)


async def rotate_secret(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    *,
    key: str | None,
    key_type: str,
    grace_seconds: int | None,
    tenant: str | None,
) -> str:
    """Make a new secret current (returned); the old one keeps signing for the grace period."""
    endpoint = await to_change(ctx, app_key, endpoint_key, tenant=tenant)
    grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
    new_secret = key or new_key(key_type)
    async with ctx.db.write() as conn:
        await endpoints.rotate_secret(
            conn, endpoint, SecretBox.from_settings(ctx.settings).seal(new_secret), grace * 1000
        )
    return new_secret


async def public_key(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> str:
    """The Ed25519 public key receivers verify ``v1a`` signatures with; Conflict for HMAC."""
    key = await secret(ctx, app_key, endpoint_key, tenant=tenant)
    if not is_asymmetric(key):
        raise Conflict("this endpoint signs with an HMAC secret (v1); it has no public key")
    return public_key_of(key)


async def replace_headers(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    headers: Mapping[str, str],
    *,
    tenant: str | None,
    keep_hidden: bool = False,
) -> None:
    """Make ``headers`` the endpoint's custom headers. ``keep_hidden``: the credentials, whose
    values are never shown (the dashboard's form cannot show them), stay unless ``headers``
    names them."""
    endpoint = await to_change(ctx, app_key, endpoint_key, tenant=tenant)
    kept = {k: endpoint.headers[k] for k in split_sensitive(endpoint.headers)[1]} if keep_hidden else {}
    await _change(ctx, endpoint, {"headers": merge_headers(kept, headers)})


def header_changes(headers: Mapping[str, str | None], delete: Sequence[str]) -> dict[str, str | None]:
    """``headers`` (None removes) with the ``delete`` names added as removals. A name both set in
    ``headers`` and listed in ``delete`` (names ignore case) is refused: which was meant?"""
    changes = dict(headers)
    named = {name.lower(): name for name in changes}
    for name in delete:
        same = named.setdefault(name.lower(), name)
        if same in changes and changes[same] is not None:
            problem = f"{name} is also set in headers ({same}): set it or delete it, not both"
            raise Invalid(["body", "deleteHeaders", name], problem)
        changes.setdefault(same, None)
    return changes


async def patch_headers(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    headers: Mapping[str, str | None],
    delete: Sequence[str] = (),
    *,
    tenant: str | None,
) -> None:
    """Set the named ``headers`` (None removes) and remove the ``delete`` ones, keeping the rest."""
    changes = header_changes(headers, delete)
    endpoint = await to_change(ctx, app_key, endpoint_key, tenant=tenant)
    await _change(ctx, endpoint, {"headers": merge_headers(endpoint.headers, changes)})


async def attempt_stats(
    ctx: Context, app_key: str, endpoint_key: str, *, since_ms: int | None, until_ms: int | None, tenant: str | None
) -> dict[DeliveryStatus, int]:
    """The endpoint's attempts in ``[since, until)`` by outcome (Svix's ``attempt-stats``)."""
    endpoint = await get(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.read() as conn:
        counts = await attempts.outcome_counts(conn, endpoint.id, since_ms=since_ms, until_ms=until_ms)
    return {status: counts.get(int(status), 0) for status in DeliveryStatus}
