"""``hookline app``, ``endpoint`` and ``event-type``: the things messages go through."""

from typing import Any

import click

from hookline.cli.options import Session, api_command, limit_option
from hookline.cli.output import show
from hookline.client import Application, Endpoint, EventType

APP_COLUMNS = ("id", "uid", "name", "created")
ENDPOINT_COLUMNS = ("id", "uid", "url", "event types", "disabled", "created")
EVENT_TYPE_COLUMNS = ("name", "description", "archived", "created")


def app_row(a: Application) -> tuple[Any, ...]:
    return (a.id, a.uid, a.name, a.created_at)


def endpoint_row(e: Endpoint) -> tuple[Any, ...]:
    return (e.id, e.uid, e.url, e.event_types or "all", e.disabled, e.created_at)


def event_type_row(t: EventType) -> tuple[Any, ...]:
    return (t.name, t.description, t.archived, t.created_at)


# -- applications ------------------------------------------------------------
@click.group("app")
def app() -> None:
    """List and create applications (the tenants messages belong to)."""


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


# -- endpoints ---------------------------------------------------------------
@click.group("endpoint")
def endpoint() -> None:
    """List and create an application's endpoints, and rotate their secrets."""


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
