"""Environment export and import: every event type, application and endpoint in one document.

The document carries endpoint secrets in the clear, so that it can move to a server with
another (or no) ``HOOKLINE_MAIN_SECRET``; each server seals them with its own at rest.
Import adds and updates, keeping ids, and deletes nothing, as Svix's does; it is one
transaction, so a refused document leaves nothing half-imported.
"""

from dataclasses import dataclass, replace
from typing import Any

from hookline.domain.model import Application, Endpoint, EventType
from hookline.errors import Invalid
from hookline.services import event_types, payload_filters, transformations
from hookline.store import environment
from hookline.store.database import Database
from hookline.store.secrets import SecretBox


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


def check(document: Imported) -> None:
    """The rules an endpoint or event type must keep, imported or not: filters follow their
    grammar, transformation code fits its limit, schemas are JSON Schemas (Invalid names it)."""
    for values in document.endpoints:
        where = ["body", "applications", values["app_id"], "endpoints", values["id"]]
        payload_filters.check(values.get("filter"), [*where, "filter"])
        if values.get("transformation_code") is not None:
            transformations.check_code(values["transformation_code"], [*where, "transformation", "code"])
    for values in document.event_types:
        try:
            event_types.check_fields(values)
        except Invalid as exc:
            raise Invalid(["body", "eventTypes", values["name"], *exc.field[1:]], str(exc)) from None


async def import_(db: Database, box: SecretBox, document: Imported) -> None:
    check(document)
    async with db.write() as conn:
        for event_type in document.event_types:
            await environment.put_event_type(conn, event_type)
        for app in document.applications:
            await environment.put_application(conn, app)
        for endpoint in document.endpoints:
            await environment.put_endpoint(conn, _seal_endpoint(box, endpoint))
