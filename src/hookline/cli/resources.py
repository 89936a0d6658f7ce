"""``hookline app``, ``endpoint`` and ``event-type``: the things messages go through."""

from collections.abc import Callable
from typing import Any

import click

from hookline.cli.options import Session, api_command, limit_option, read_text
from hookline.cli.output import show
from hookline.client import Application, Endpoint, EventType

APP_COLUMNS = ("id", "uid", "name", "created")
ENDPOINT_COLUMNS = ("id", "uid", "url", "event types", "channels", "disabled", "created")
EVENT_TYPE_COLUMNS = ("name", "description", "archived", "created")


def app_row(a: Application) -> tuple[Any, ...]:
    return (a.id, a.uid, a.name, a.created_at)


def endpoint_row(e: Endpoint) -> tuple[Any, ...]:
    # "all" in both cells: every message; "any" in one: that one does not narrow what the other does.
    unrestricted = "any" if e.event_types or e.channels else "all"
    return (e.id, e.uid, e.url, e.event_types or unrestricted, e.channels or unrestricted, e.disabled, e.created_at)


def event_type_row(t: EventType) -> tuple[Any, ...]:
    return (t.name, t.description, t.archived, t.created_at)


def metadata_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Replace the metadata (repeat)"
    )(func)


def parse_metadata(items: tuple[str, ...]) -> dict[str, str] | None:
    """``--metadata tier=gold --metadata region=eu`` as a dict; None when not given."""
    if not items:
        return None
    pairs = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--metadata'")
        pairs[key] = value
    return pairs


def changes_or_refuse(changes: dict[str, Any], options: str) -> dict[str, Any]:
    """The options given; none at all is a usage error rather than a request that changes nothing."""
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        raise click.UsageError(f"nothing to change: pass at least one of {options}")
    return given


def confirm_deletion(what: str, yes: bool) -> None:
    if not yes:
        click.confirm(f"Delete {what}?", abort=True, err=True)


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
@metadata_option
@click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second, across its endpoints")
@api_command
def app_update(
    session: Session,
    app_id: str,
    name: str | None,
    uid: str | None,
    metadata: tuple[str, ...],
    throttle_rate: int | None,
) -> None:
    """Change APP: only the options given."""
    given = {"name": name, "uid": uid, "metadata": parse_metadata(metadata), "throttle_rate": throttle_rate}
    changes = changes_or_refuse(given, "--name, --uid, --metadata, --throttle-rate")
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


# -- endpoints ---------------------------------------------------------------
def warn_about(endpoint: Endpoint) -> None:
    """The server's warnings about an endpoint that can never work, on stderr (JSON stays clean)."""
    for warning in endpoint.raw.get("warnings") or []:
        click.echo(f"warning: {warning}", err=True)


@click.group("endpoint")
def endpoint() -> None:
    """List, create, change and delete an application's endpoints, and rotate their secrets."""


@endpoint.command("list")
@click.argument("app_id", metavar="APP")
@limit_option()
@api_command
def endpoint_list(session: Session, app_id: str, limit: int) -> None:
    """List APP's endpoints, oldest first."""
    endpoints = session.take(session.client.endpoints.list, limit, app_id)
    show(session.as_json, [e.raw for e in endpoints], ENDPOINT_COLUMNS, map(endpoint_row, endpoints))


@endpoint.command("create")
@click.argument("app_id", metavar="APP")
@click.argument("url")
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat; default: all)")
@click.option("--channel", "channels", multiple=True, help="Only messages on these channels (repeat)")
@click.option("--description", default="", help="A note for people")
@click.option("--uid", help="Your own id for it")
@click.option("--secret", help="A whsec_ signing secret (default: generated)")
@api_command
def endpoint_create(
    session: Session,
    app_id: str,
    url: str,
    event_types: tuple[str, ...],
    channels: tuple[str, ...],
    description: str,
    uid: str | None,
    secret: str | None,
) -> None:
    """Add an endpoint to APP that receives webhooks at URL."""
    created = session.client.endpoints.create(
        app_id,
        url,
        description=description,
        event_types=list(event_types) or None,
        channels=list(channels) or None,
        uid=uid,
        secret=secret,
    )
    show(session.as_json, created.raw, ENDPOINT_COLUMNS, [endpoint_row(created)])
    warn_about(created)


@endpoint.command("secret")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@api_command
def endpoint_secret(session: Session, app_id: str, endpoint_id: str) -> None:
    """Print ENDPOINT's current signing secret."""
    secret = session.client.endpoints.get_secret(app_id, endpoint_id)
    show(session.as_json, {"key": secret.key}, ("key",), [(secret.key,)])


@endpoint.command("rotate-secret")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@click.option("--key", help="The new whsec_ secret (default: generated)")
@click.option(
    "--grace-period",
    type=click.IntRange(0, 604800),
    help="Seconds the old secret keeps signing too [86400]",
)
@api_command
def endpoint_rotate_secret(
    session: Session, app_id: str, endpoint_id: str, key: str | None, grace_period: int | None
) -> None:
    """Give ENDPOINT a new signing secret and print it."""
    secret = session.client.endpoints.rotate_secret(app_id, endpoint_id, key=key, grace_period_seconds=grace_period)
    show(session.as_json, {"key": secret.key}, ("key",), [(secret.key,)])


@endpoint.command("update")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@click.option("--endpoint-url", "url", help="Where to deliver (--url is the server's)")
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat; replaces the list)")
@click.option("--channel", "channels", multiple=True, help="Only these channels (repeat; replaces the list)")
@click.option("--description", help="A note for people")
@click.option("--uid", help="Your own id for it")
@metadata_option
@click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second at most")
@api_command
def endpoint_update(
    session: Session,
    app_id: str,
    endpoint_id: str,
    url: str | None,
    event_types: tuple[str, ...],
    channels: tuple[str, ...],
    description: str | None,
    uid: str | None,
    metadata: tuple[str, ...],
    throttle_rate: int | None,
) -> None:
    """Change ENDPOINT of APP: only the options given."""
    given = {
        "url": url,
        "event_types": list(event_types) or None,
        "channels": list(channels) or None,
        "description": description,
        "uid": uid,
        "metadata": parse_metadata(metadata),
        "throttle_rate": throttle_rate,
    }
    options = "--endpoint-url, --event-type, --channel, --description, --uid, --metadata, --throttle-rate"
    updated = session.client.endpoints.patch(app_id, endpoint_id, **changes_or_refuse(given, options))
    show(session.as_json, updated.raw, ENDPOINT_COLUMNS, [endpoint_row(updated)])
    warn_about(updated)


@endpoint.command("delete")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@api_command
def endpoint_delete(session: Session, app_id: str, endpoint_id: str, yes: bool) -> None:
    """Delete ENDPOINT of APP; its pending deliveries are dropped."""
    confirm_deletion(f"endpoint {endpoint_id} of {app_id}", yes)
    session.client.endpoints.delete(app_id, endpoint_id)
    data = {"deleted": True, "id": endpoint_id}
    show(session.as_json, data, ("endpoint", "deleted"), [(endpoint_id, True)])


@endpoint.command("disable")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@api_command
def endpoint_disable(session: Session, app_id: str, endpoint_id: str) -> None:
    """Stop delivering to ENDPOINT: new messages skip it; deliveries waiting for a retry fail
    when it falls due (as in Svix). After `endpoint enable`, `recover --since` resends those."""
    changed = session.client.endpoints.patch(app_id, endpoint_id, disabled=True)
    show(session.as_json, changed.raw, ENDPOINT_COLUMNS, [endpoint_row(changed)])
    warn_about(changed)


@endpoint.command("enable")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@api_command
def endpoint_enable(session: Session, app_id: str, endpoint_id: str) -> None:
    """Deliver new messages to ENDPOINT again; nothing failed meanwhile is sent by itself.

    `recover --since WHEN` resends the deliveries that failed while it was disabled, and
    `replay --since WHEN` sends the messages published meanwhile."""
    changed = session.client.endpoints.patch(app_id, endpoint_id, disabled=False)
    show(session.as_json, changed.raw, ENDPOINT_COLUMNS, [endpoint_row(changed)])
    warn_about(changed)


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
