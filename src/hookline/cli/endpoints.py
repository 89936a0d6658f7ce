"""``hookline endpoint``: where an application's messages are delivered, and how."""

from typing import Any

import click

from hookline.cli.options import (
    ENDPOINT_CHANGES,
    Session,
    api_command,
    confirm_deletion,
    endpoint_changes,
    endpoint_settings,
    limit_option,
    secret_rotation_options,
)
from hookline.cli.options import one_of as one_of  # resources.py's too
from hookline.cli.output import show
from hookline.client import Endpoint
from hookline.client._operations import EndpointChanges, EndpointOptions, KeyType

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
@endpoint_settings
@click.option("--disabled", is_flag=True, help="Create it disabled: nothing is sent until `endpoint enable`")
@api_command
def endpoint_create(session: Session, app_id: str, url: str, settings: EndpointOptions, disabled: bool) -> None:
    """Add an endpoint to APP that receives webhooks at URL."""
    if disabled:
        settings["disabled"] = True
    created = session.client.endpoints.create(app_id, url, **settings)
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
@secret_rotation_options
@api_command
def endpoint_rotate_secret(
    session: Session,
    app_id: str,
    endpoint_id: str,
    key: str | None,
    key_type: KeyType | None,  # KEY_TYPE's choices
    grace_period: int | None,
) -> None:
    """Give ENDPOINT a new signing secret and print it: --key, or one generated of --key-type
    (hmac: a whsec_ secret, v1 signatures; ed25519: a whsk_ signing key, v1a signatures)."""
    one_of(key is not None, key_type is not None, "--key or --key-type")
    secret = session.client.endpoints.rotate_secret(
        app_id, endpoint_id, key=key, key_type=key_type, grace_period_seconds=grace_period
    )
    show(session.as_json, {"key": secret.key}, ("key",), [(secret.key,)])


@endpoint.command("update")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="ENDPOINT")
@click.option("--endpoint-url", "url", help="Where to deliver (--url is the server's)")
@endpoint_changes
@api_command
def endpoint_update(session: Session, app_id: str, endpoint_id: str, url: str | None, changes: EndpointChanges) -> None:
    """Change ENDPOINT of APP: only the options given. The --any-... and --no-... options
    remove a restriction."""
    if url is not None:
        changes["url"] = url
    if not changes:
        raise click.UsageError(f"nothing to change: pass at least one of --endpoint-url, {ENDPOINT_CHANGES}")
    updated = session.client.endpoints.patch(app_id, endpoint_id, **changes)
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
