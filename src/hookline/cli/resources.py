"""``hookline app`` and ``event-type``: the things messages go through (``endpoint``: endpoints.py)."""

from typing import Any

import click

from hookline.cli.endpoints import ENDPOINT_COLUMNS, endpoint_row, one_of
from hookline.cli.options import (
    Session,
    api_command,
    confirm_deletion,
    limit_option,
    metadata_option,
    parse_metadata,
    read_text,
)
from hookline.cli.output import show
from hookline.client import Application, EventType

APP_COLUMNS = ("id", "uid", "name", "created")
EVENT_TYPE_COLUMNS = ("name", "description", "archived", "created")


def app_row(a: Application) -> tuple[Any, ...]:
    return (a.id, a.uid, a.name, a.created_at)


def event_type_row(t: EventType) -> tuple[Any, ...]:
    return (t.name, t.description, t.archived, t.created_at)


# -- applications ------------------------------------------------------------
@click.group("app")
def app() -> None:
    """List, create, change and delete applications (the tenants messages belong to)."""


@app.command("list")
@limit_option()
@api_command
def app_list(session: Session, limit: int) -> None:
    """List applications, oldest first."""
    apps = session.take(session.client.applications.list, limit)
    show(session.as_json, [a.raw for a in apps], APP_COLUMNS, map(app_row, apps))


@app.command("create")
@click.argument("name")
@click.option("--uid", help="Your own id for it, usable wherever the app id is")
@click.option("--get-if-exists", is_flag=True, help="Return the application with this --uid if there is one")
@api_command
def app_create(session: Session, name: str, uid: str | None, get_if_exists: bool) -> None:
    """Create an application called NAME."""
    if get_if_exists and not uid:
        raise click.UsageError("--get-if-exists needs --uid")
    created = session.client.applications.create(name, uid=uid, get_if_exists=get_if_exists or None)
    show(session.as_json, created.raw, APP_COLUMNS, [app_row(created)])


@app.command("update")
@click.argument("app_id", metavar="APP")
@click.option("--name", help="The new name")
@click.option("--uid", help="The new uid (admin tokens only)")
@click.option("--no-uid", is_flag=True, help="Remove the uid (admin tokens only)")
@metadata_option
@click.option("--no-metadata", is_flag=True, help="Remove all metadata")
@click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second, across its endpoints")
@click.option("--no-throttle-rate", is_flag=True, help="Remove the throttle rate")
@api_command
def app_update(
    session: Session,
    app_id: str,
    name: str | None,
    uid: str | None,
    no_uid: bool,
    metadata: tuple[str, ...],
    no_metadata: bool,
    throttle_rate: int | None,
    no_throttle_rate: bool,
) -> None:
    """Change APP: only the options given. The --no-... options remove its uid, metadata or
    throttle rate."""
    changes: dict[str, Any] = {} if name is None else {"name": name}
    # None: the client sends what clears the field (null, or no metadata).
    if one_of(uid is not None, no_uid, "--uid or --no-uid"):
        changes["uid"] = uid
    if one_of(bool(metadata), no_metadata, "--metadata or --no-metadata"):
        changes["metadata"] = parse_metadata(metadata)
    if one_of(throttle_rate is not None, no_throttle_rate, "--throttle-rate or --no-throttle-rate"):
        changes["throttle_rate"] = throttle_rate
    if not changes:
        raise click.UsageError(
            "nothing to change: pass at least one of --name, --uid, --no-uid, --metadata, --no-metadata, "
            "--throttle-rate, --no-throttle-rate"
        )
    updated = session.client.applications.patch(app_id, **changes)
    show(session.as_json, updated.raw, APP_COLUMNS, [app_row(updated)])


@app.command("delete")
@click.argument("app_id", metavar="APP")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@api_command
def app_delete(session: Session, app_id: str, yes: bool) -> None:
    """Delete APP with its endpoints, messages and attempts."""
    confirm_deletion(f"application {app_id} with its endpoints, messages and attempts", yes)
    session.client.applications.delete(app_id)
    show(session.as_json, {"deleted": True, "id": app_id}, ("app", "deleted"), [(app_id, True)])


def _set_all_endpoints(session: Session, app_id: str, disabled: bool) -> None:
    # The API has no switch for a whole application: its endpoints are switched one by one.
    client = session.client
    changed = [
        client.endpoints.patch(app_id, e.id, disabled=disabled)
        for e in list(client.iterate(client.endpoints.list, app_id, limit=250))
        if e.disabled != disabled
    ]
    show(session.as_json, [e.raw for e in changed], ENDPOINT_COLUMNS, map(endpoint_row, changed))


@app.command("disable")
@click.argument("app_id", metavar="APP")
@api_command
def app_disable(session: Session, app_id: str) -> None:
    """Disable every endpoint of APP: messages are still accepted, nothing is sent.

    Prints the endpoints it disabled. Deliveries waiting for a retry fail when it falls due (as in
    Svix). After `app enable`, for each endpoint: `recover --since` resends what failed and
    `replay --since` sends the messages published meanwhile."""
    _set_all_endpoints(session, app_id, disabled=True)


@app.command("enable")
@click.argument("app_id", metavar="APP")
@api_command
def app_enable(session: Session, app_id: str) -> None:
    """Enable every disabled endpoint of APP, and print them."""
    _set_all_endpoints(session, app_id, disabled=False)


# -- event types -------------------------------------------------------------
@click.group("event-type")
def event_type() -> None:
    """List and create event types."""


@event_type.command("list")
@click.option("--include-archived", is_flag=True, help="Show archived event types too")
@limit_option()
@api_command
def event_type_list(session: Session, include_archived: bool, limit: int) -> None:
    """List event types by name."""
    types = session.take(session.client.event_types.list, limit, include_archived=include_archived)
    show(session.as_json, [t.raw for t in types], EVENT_TYPE_COLUMNS, map(event_type_row, types))


@event_type.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the event means")
@api_command
def event_type_create(session: Session, name: str, description: str) -> None:
    """Create the event type NAME (for example invoice.paid)."""
    created = session.client.event_types.create(name, description)
    show(session.as_json, created.raw, EVENT_TYPE_COLUMNS, [event_type_row(created)])


@event_type.command("import")
@click.argument("source", metavar="FILE", type=click.File("r"))
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing")
@click.option("--replace-all", is_flag=True, help="Archive the event types the document does not name")
@api_command
def event_type_import(session: Session, source: Any, dry_run: bool, replace_all: bool) -> None:
    """Create or update event types, with their payload schemas as version 1, from the
    webhooks section of an OpenAPI 3.1 document FILE (JSON or YAML; - for stdin)."""
    try:
        spec = read_text(source)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE") from None
    modified = session.client.event_types.import_openapi(spec, dry_run=dry_run, replace_all=replace_all)
    data = {"modified": list(modified), "dryRun": dry_run}
    show(session.as_json, data, ("event type", "would change" if dry_run else "changed"), [(m, True) for m in modified])
