"""``hookline endpoint``: where an application's messages are delivered, and how."""

from typing import Any

import click

from hookline.cli.options import (
    Session,
    api_command,
    changes_or_refuse,
    confirm_deletion,
    limit_option,
    metadata_option,
    parse_metadata,
)
from hookline.cli.output import show
from hookline.client import Endpoint

ENDPOINT_COLUMNS = ("id", "uid", "url", "event types", "channels", "disabled", "created")


def endpoint_row(e: Endpoint) -> tuple[Any, ...]:
    # "all" in both cells: every message; "any" in one: that one does not narrow what the other does.
    unrestricted = "any" if e.event_types or e.channels else "all"
    return (e.id, e.uid, e.url, e.event_types or unrestricted, e.channels or unrestricted, e.disabled, e.created_at)


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
