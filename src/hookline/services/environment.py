"""Environment export and import: every event type, application and endpoint in one document.

The document carries endpoint secrets in the clear, so that it can move to a server with
another (or no) ``HOOKLINE_MAIN_SECRET``; each server seals them with its own at rest.
Import adds and updates, keeping ids, and deletes nothing, as Svix's does; it is one
transaction, so a refused document leaves nothing half-imported.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hookline.domain.model import Application, Endpoint, EventType
from hookline.errors import Invalid
from hookline.services import endpoints, event_types, payload_filters, transformations
from hookline.services.context import Context
from hookline.store import environment
from hookline.store.database import Database
from hookline.store.secrets import SecretBox

# 9999-12-31T23:59:59.999Z. A later time could be stored, but no answer could say it (a
# datetime's years end at 9999), so every read of the row would fail.
LATEST_MS = 253_402_300_799_999
_STAMPS = {"created_at": "createdAt", "updated_at": "updatedAt"}


@dataclass(frozen=True)
class Snapshot:
    event_types: list[EventType]
    applications: list[Application]
    # Endpoints with ``secret`` and each ``old_secrets`` key opened.
    endpoints: list[Endpoint]


@dataclass(frozen=True)
class Imported:
    event_types: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    # Column values, with ``secret`` and ``old_secrets`` keys in the clear.
    endpoints: list[dict[str, Any]]


def _open_endpoint(box: SecretBox, row: Endpoint) -> Endpoint:
    old = [{**s, "key": box.open(s["key"])} for s in row.old_secrets]
    return replace(row, secret=box.open(row.secret), old_secrets=old)


def _seal_endpoint(box: SecretBox, values: dict[str, Any]) -> dict[str, Any]:
    old = [{**s, "key": box.seal(s["key"])} for s in values["old_secrets"]]
    return {**values, "secret": box.seal(values["secret"]), "old_secrets": old}


async def export(db: Database, box: SecretBox) -> Snapshot:
    async with db.read() as conn:
        types = await environment.event_types(conn)
        apps = await environment.applications(conn)
        eps = await environment.endpoints(conn, [a.id for a in apps])
    return Snapshot(types, apps, [_open_endpoint(box, e) for e in eps])


def _check_time(ms: int, where: Sequence[str]) -> None:
    if ms > LATEST_MS:
        raise Invalid(list(where), "the time is past 9999-12-31T23:59:59.999Z once in UTC")


def _check_stamps(values: dict[str, Any], where: list[str]) -> None:
    for column, name in _STAMPS.items():
        _check_time(values[column], [*where, name])


def _within(where: list[str], exc: Invalid) -> Invalid:
    """``exc``, which names a field of the endpoint or event-type API's body, placed at
    ``where`` in the document instead."""
    return Invalid([*where, *exc.field[1:]], str(exc))


def _checked_endpoint(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """The rules of the endpoint API itself (https-only URLs, custom headers, filters, code),
    and its way of keeping headers: one per name, whatever its case."""
    where = ["body", "applications", values["app_id"], "endpoints", values["id"]]
    _check_stamps(values, where)
    for n, old in enumerate(values["old_secrets"]):
        _check_time(old["expires_at"], [*where, "oldSecrets", str(n), "expiresAt"])
    try:
        endpoints.check_url(ctx, values["url"])
        headers = endpoints.merge_headers({}, values["headers"])
    except Invalid as exc:
        raise _within(where, exc) from None
    payload_filters.check(values.get("filter"), [*where, "filter"])
    if values.get("transformation_code") is not None:
        transformations.check_code(values["transformation_code"], [*where, "transformation", "code"])
    return {**values, "headers": headers}


def check(ctx: Context, document: Imported) -> Imported:
    """The document, held to the rules an endpoint, application or event type keeps when it
    is made through the API (Invalid names the field); headers kept as the endpoint API keeps them."""
    for values in document.event_types:
        where = ["body", "eventTypes", values["name"]]
        _check_stamps(values, where)
        try:
            event_types.check_fields(values)
        except Invalid as exc:
            raise _within(where, exc) from None
    for values in document.applications:
        _check_stamps(values, ["body", "applications", values["id"]])
    return replace(document, endpoints=[_checked_endpoint(ctx, values) for values in document.endpoints])


async def import_(ctx: Context, document: Imported) -> None:
    document = check(ctx, document)
    box = SecretBox.from_settings(ctx.settings)
    # In key order, so that two imports writing the same rows take their locks in the same
    # order: on PostgreSQL, documents listing them differently would otherwise deadlock.
    async with ctx.db.write() as conn:
        for event_type in sorted(document.event_types, key=lambda values: str(values["name"])):
            await environment.put_event_type(conn, event_type)
        for app in sorted(document.applications, key=lambda values: str(values["id"])):
            await environment.put_application(conn, app)
        for endpoint in sorted(document.endpoints, key=lambda values: str(values["id"])):
            await environment.put_endpoint(conn, _seal_endpoint(box, endpoint))
