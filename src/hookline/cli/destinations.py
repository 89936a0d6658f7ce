"""``hookline source destination``: a source's destinations (its endpoints: the URLs its
requests go to), changed in place, and their signing secrets."""

from typing import Any

import click

from hookline.cli.endpoints import ENDPOINT_COLUMNS, endpoint_row
from hookline.cli.options import (
    ENDPOINT_CHANGES,
    Session,
    api_command,
    confirm_deletion,
    endpoint_changes,
    endpoint_settings,
    limit_option,
    one_of,
    secret_rotation_options,
)
from hookline.cli.output import show
from hookline.cli.sources import names_source
from hookline.client import IngestDestination
from hookline.client import _ingest as ingest
from hookline.client._ingest import DestinationChanges, DestinationOptions
from hookline.client._operations import KeyType

DESTINATION_COLUMNS = (*ENDPOINT_COLUMNS, "path forwarding")


def _destination_row(d: IngestDestination) -> tuple[Any, ...]:
    return (*endpoint_row(d), not d.path_forwarding_disabled)


def _show_destination(session: Session, destination: IngestDestination) -> None:
    show(session.as_json, destination.raw, DESTINATION_COLUMNS, [_destination_row(destination)])


@click.group("destination")
def destination() -> None:
    """List, add, change and remove a source's destinations (the URLs its requests go to), and
    read or rotate their signing secrets. DESTINATION is the destination's id or uid."""


@destination.command("list")
@click.argument("source_id", metavar="SOURCE")
@limit_option()
@api_command
@names_source
def destination_list(session: Session, source_id: str, limit: int) -> None:
    """List SOURCE's destinations, oldest first."""
    found = session.take(session.client.ingest.destinations.list, limit, source_id)
    show(session.as_json, [d.raw for d in found], DESTINATION_COLUMNS, map(_destination_row, found))


@destination.command("add")
@click.argument("source_id", metavar="SOURCE")
@click.argument("url")
@endpoint_settings
@click.option("--disabled", is_flag=True, help="Add it disabled: nothing is sent until `update --enabled`")
@click.option(
    "--no-path-forwarding",
    is_flag=True,
    help="Send to URL as it is, without the path below the ingest URL and the query",
)
@api_command
@names_source
def destination_add(
    session: Session,
    source_id: str,
    url: str,
    settings: DestinationOptions,  # endpoint_settings' EndpointOptions, and path_forwarding_disabled
    disabled: bool,
    no_path_forwarding: bool,
) -> None:
    """Forward SOURCE's requests to URL too (signed with the destination's own secret), with the
    path below the ingest URL and the query after URL's, unless --no-path-forwarding."""
    if disabled:
        settings["disabled"] = True
    if no_path_forwarding:
        settings["path_forwarding_disabled"] = True
    _show_destination(session, session.client.ingest.destinations.create(source_id, url, **settings))


@destination.command("update")
@click.argument("source_id", metavar="SOURCE")
@click.argument("destination_id", metavar="DESTINATION")
@click.option("--destination-url", "url", help="Where to forward (--url is the server's)")
@endpoint_changes
@click.option("--disabled/--enabled", default=None, help="Stop forwarding to it, or forward again")
@click.option(
    "--path-forwarding/--no-path-forwarding",
    default=None,
    help="Send the path below the ingest URL and the query after its URL's, or send to its URL as it is",
)
@api_command
@names_source
def destination_update(
    session: Session,
    source_id: str,
    destination_id: str,
    url: str | None,
    changes: DestinationChanges,  # endpoint_changes' EndpointChanges, and path_forwarding_disabled
    disabled: bool | None,
    path_forwarding: bool | None,
) -> None:
    """Change DESTINATION of SOURCE: only the options given; it keeps its id, secret, headers
    and attempts. The --any-... and --no-... options remove a restriction."""
    if url is not None:
        changes["url"] = url
    if disabled is not None:
        changes["disabled"] = disabled
    if path_forwarding is not None:
        changes["path_forwarding_disabled"] = not path_forwarding
    if not changes:
        raise click.UsageError(
            f"nothing to change: pass at least one of --destination-url, {ENDPOINT_CHANGES}, --disabled, "
            "--enabled, --path-forwarding, --no-path-forwarding"
        )
    _show_destination(session, session.client.ingest.destinations.patch(source_id, destination_id, **changes))


@destination.command("remove")
@click.argument("source_id", metavar="SOURCE")
@click.argument("destination_id", metavar="DESTINATION")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@api_command
@names_source
def destination_remove(session: Session, source_id: str, destination_id: str, yes: bool) -> None:
    """Remove DESTINATION from SOURCE; its pending deliveries are dropped."""
    confirm_deletion(f"destination {destination_id} of source {source_id}", yes)
    session.client.ingest.destinations.delete(source_id, destination_id)
    data = {"deleted": True, "id": destination_id}
    show(session.as_json, data, ("destination", "deleted"), [(destination_id, True)])


@destination.command("secret")
@click.argument("source_id", metavar="SOURCE")
@click.argument("destination_id", metavar="DESTINATION")
@api_command
@names_source
def destination_secret(session: Session, source_id: str, destination_id: str) -> None:
    """Print DESTINATION's current signing secret, which its receiver verifies requests with."""
    secret = session.client.ingest.destinations.get_secret(source_id, destination_id)
    show(session.as_json, {"key": secret.key}, ("key",), [(secret.key,)])


@destination.command("rotate-secret")
@click.argument("source_id", metavar="SOURCE")
@click.argument("destination_id", metavar="DESTINATION")
@secret_rotation_options
@api_command
@names_source
def destination_rotate_secret(
    session: Session,
    source_id: str,
    destination_id: str,
    key: str | None,
    key_type: KeyType | None,  # KEY_TYPE's choices
    grace_period: int | None,
) -> None:
    """Give DESTINATION a new signing secret and print it, as `endpoint rotate-secret` does."""
    one_of(key is not None, key_type is not None, "--key or --key-type")
    rotation = ingest.rotate_destination_secret(source_id, destination_id, key, grace_period, key_type=key_type)
    session.client.request(rotation)
    # The API answers 204: the new secret is read back.
    secret = session.client.ingest.destinations.get_secret(source_id, destination_id)
    show(session.as_json, {"key": secret.key}, ("key",), [(secret.key,)])
