"""``hookline endpoint``: where an application's messages are delivered, and how."""

from typing import Any

import click

from hookline.cli.options import (
    Session,
    api_command,
    confirm_deletion,
    json_document,
    limit_option,
    metadata_option,
    parse_metadata,
)
from hookline.cli.output import show
from hookline.client import Call, Endpoint
from hookline.client._calls import body, creating, segment
from hookline.client._operations import KeyType

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


def _path(app_id: str, endpoint_id: str | None = None) -> str:
    path = f"/api/v1/app/{segment(app_id)}/endpoint"
    return path if endpoint_id is None else f"{path}/{segment(endpoint_id)}"


def parse_filter(text: str) -> dict[str, Any]:
    """``--filter`` as the JSON object the API takes; the server checks the operators."""
    try:
        value = json_document(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--filter'") from None
    if not isinstance(value, dict):
        raise click.BadParameter(
            'is not a JSON object, e.g. \'{"payload": {"amount": {"$gte": 100}}}\'', param_hint="'--filter'"
        )
    return value


def parse_headers(items: tuple[str, ...]) -> dict[str, str] | None:
    """``--header 'X-Team: billing'`` (repeat) as a dict; None when not given."""
    if not items:
        return None
    headers = {}
    for item in items:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME: VALUE", param_hint="'--header'")
        headers[name.strip()] = value.strip()
    return headers


def one_of(given: bool, clear: bool, options: str) -> bool:
    """Whether an option or its clearing twin was passed; both at once is a usage error."""
    if given and clear:
        raise click.UsageError(f"pass {options}, not both")
    return given or clear


FIFO_EXHAUSTED = click.Choice(["skip", "block"])
KEY_TYPE = click.Choice(["hmac", "ed25519"])
FILTER_HELP = "Only messages matching this JSON payload filter (docs/policies.md)"
FIFO_EXHAUSTED_HELP = "With --fifo: after a message exhausts its retries, skip it or block the order [skip]"


@endpoint.command("create")
@click.argument("app_id", metavar="APP")
@click.argument("url")
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat; default: all)")
@click.option("--channel", "channels", multiple=True, help="Only messages on these channels (repeat; default: all)")
@click.option("--filter", "filter_json", metavar="JSON", help=FILTER_HELP)
@click.option("--description", default="", help="A note for people")
@click.option("--uid", help="Your own id for it")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Its metadata (repeat)")
@click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second at most")
@click.option("--fifo", is_flag=True, help="Deliver in publish order, one at a time")
@click.option("--fifo-on-exhausted", type=FIFO_EXHAUSTED, help=FIFO_EXHAUSTED_HELP)
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="Send this header too (repeat)")
@click.option("--secret", help="A whsec_ signing secret (default: generated)")
@click.option("--key-type", type=KEY_TYPE, help="The kind of secret to generate [hmac]")
@click.option("--disabled", is_flag=True, help="Create it disabled: nothing is sent until `endpoint enable`")
@api_command
def endpoint_create(
    session: Session,
    app_id: str,
    url: str,
    event_types: tuple[str, ...],
    channels: tuple[str, ...],
    filter_json: str | None,
    description: str,
    uid: str | None,
    metadata: tuple[str, ...],
    throttle_rate: int | None,
    fifo: bool,
    fifo_on_exhausted: str | None,
    headers: tuple[str, ...],
    secret: str | None,
    key_type: str | None,
    disabled: bool,
) -> None:
    """Add an endpoint to APP that receives webhooks at URL."""
    one_of(secret is not None, key_type is not None, "--secret or --key-type")
    data = body(
        url=url,
        description=description,
        uid=uid,
        eventTypes=list(event_types) or None,
        channels=list(channels) or None,
        filter=None if filter_json is None else parse_filter(filter_json),
        metadata=parse_metadata(metadata),
        throttleRate=throttle_rate,
        fifo=fifo or None,
        fifoOnExhausted=fifo_on_exhausted,
        headers=parse_headers(headers),
        secret=secret,
        keyType=key_type,
        disabled=disabled or None,
    )
    created = session.client.request(Call("POST", _path(app_id), Endpoint.from_json, {}, data, creating(None)))
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
@click.option("--key", help="The new whsec_ secret or whsk_ signing key (default: generated)")
@click.option("--key-type", type=KEY_TYPE, help="The kind of secret to generate [hmac]")
@click.option(
    "--grace-period",
    type=click.IntRange(0, 604800),
    help="Seconds the old secret keeps signing too [86400]",
)
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
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat; replaces the list)")
@click.option("--any-event-type", is_flag=True, help="Remove the event-type list: take every event type")
@click.option("--channel", "channels", multiple=True, help="Only these channels (repeat; replaces the list)")
@click.option("--any-channel", is_flag=True, help="Remove the channel list: take messages on any channel or none")
@click.option("--filter", "filter_json", metavar="JSON", help=FILTER_HELP + " (replaces it)")
@click.option("--no-filter", is_flag=True, help="Remove the payload filter")
@click.option("--description", help="A note for people")
@click.option("--uid", help="Your own id for it")
@click.option("--no-uid", is_flag=True, help="Remove its uid")
@metadata_option
@click.option("--no-metadata", is_flag=True, help="Remove all metadata")
@click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second at most")
@click.option("--no-throttle-rate", is_flag=True, help="Remove the throttle rate")
@click.option("--fifo/--no-fifo", default=None, help="Deliver in publish order, one at a time, or not")
@click.option("--fifo-on-exhausted", type=FIFO_EXHAUSTED, help=FIFO_EXHAUSTED_HELP)
@api_command
def endpoint_update(
    session: Session,
    app_id: str,
    endpoint_id: str,
    url: str | None,
    event_types: tuple[str, ...],
    any_event_type: bool,
    channels: tuple[str, ...],
    any_channel: bool,
    filter_json: str | None,
    no_filter: bool,
    description: str | None,
    uid: str | None,
    no_uid: bool,
    metadata: tuple[str, ...],
    no_metadata: bool,
    throttle_rate: int | None,
    no_throttle_rate: bool,
    fifo: bool | None,
    fifo_on_exhausted: str | None,
) -> None:
    """Change ENDPOINT of APP: only the options given. The --any-... and --no-... options
    remove a restriction."""
    data = body(url=url, description=description, fifo=fifo, fifoOnExhausted=fifo_on_exhausted)
    # A null in a PATCH removes the field's restriction; body() would drop it, so these are set here.
    if one_of(uid is not None, no_uid, "--uid or --no-uid"):
        data["uid"] = uid
    if one_of(bool(metadata), no_metadata, "--metadata or --no-metadata"):
        data["metadata"] = parse_metadata(metadata) or {}
    if one_of(bool(event_types), any_event_type, "--event-type or --any-event-type"):
        data["eventTypes"] = list(event_types) or None
    if one_of(bool(channels), any_channel, "--channel or --any-channel"):
        data["channels"] = list(channels) or None
    if one_of(filter_json is not None, no_filter, "--filter or --no-filter"):
        data["filter"] = None if filter_json is None else parse_filter(filter_json)
    if one_of(throttle_rate is not None, no_throttle_rate, "--throttle-rate or --no-throttle-rate"):
        data["throttleRate"] = throttle_rate
    if not data:
        raise click.UsageError(
            "nothing to change: pass at least one of --endpoint-url, --event-type, --any-event-type, --channel, "
            "--any-channel, --filter, --no-filter, --description, --uid, --no-uid, --metadata, --no-metadata, "
            "--throttle-rate, "
            "--no-throttle-rate, --fifo, --no-fifo, --fifo-on-exhausted"
        )
    updated = session.client.request(Call("PATCH", _path(app_id, endpoint_id), Endpoint.from_json, {}, data))
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
