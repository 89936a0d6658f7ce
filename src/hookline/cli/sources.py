"""``hookline source``: the inbound gateway's sources (ingest URLs), what they received, replays."""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import click

from hookline.cli.options import (
    Session,
    api_command,
    json_document,
    limit_option,
    metadata_option,
    parse_metadata,
    when,
)
from hookline.cli.output import cell, show
from hookline.client import HooklineError, IngestRequest, IngestSource
from hookline.client import _ingest as ingest
from hookline.client._calls import body
from hookline.client._ingest_models import IngestStatus, SourceResponse

SOURCE_COLUMNS = ("id", "uid", "name", "type", "ingest url")
REQUEST_COLUMNS = ("id", "received", "status", "method", "size", "cause")


def _source_row(s: IngestSource) -> tuple[Any, ...]:
    return (s.id, s.uid, s.name, s.type, s.ingest_url)


def _request_row(r: IngestRequest) -> tuple[Any, ...]:
    return (r.id, r.received_at, r.status, r.method, r.size, r.cause or "")


def _waiting(source_id: str) -> str:
    """What to do for a source made without its signing secret (it keeps requests, forwards none)."""
    return (
        "waiting for its signing secret: requests are kept and answered 401, not forwarded. Paste the "
        f"ingest URL into the provider, then 'hookline source update {source_id} --secret ...' and "
        f"'hookline source replay {source_id} --since 1d' for what arrived meanwhile"
    )


def names_source(func: Callable[..., None]) -> Callable[..., None]:
    """A source that is not found by a SOURCE that is no id: say it is not the name people try."""

    @functools.wraps(func)
    def command(session: Session, *args: Any, source_id: str, **kwargs: Any) -> None:
        try:
            func(session, *args, source_id=source_id, **kwargs)
        except HooklineError as exc:
            if exc.status != 404 or exc.detail != "source not found" or source_id.startswith("src_"):
                raise
            raise click.ClickException(
                f"{exc.message}: SOURCE is the source's id (src_...) or its uid, not its name "
                "('hookline source list' shows both)"
            ) from None

    return command


@click.group("source")
def source() -> None:
    """Ingest URLs that providers (GitHub, Stripe, Slack...) post to, verified and forwarded."""


GENERIC = "generic-webhook"
PROVIDER_KEY_HELP = "The provider's signing secret (config.secret); not for generic-webhook, which takes --config"
CONFIG_HELP = "The whole config as JSON (generic-webhook: hmac, basicAuth or apiKey)"


def _config(source_type: str | None, secret: str | None, config_json: str | None) -> dict[str, Any] | None:
    """The config ``--secret`` or ``--config`` give (None: neither), for a source of ``source_type``."""
    if secret is not None and config_json is not None:
        raise click.UsageError("pass --secret or --config, not both")
    if config_json is not None:
        try:
            config = json_document(config_json)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--config'") from None
        if not isinstance(config, dict):
            raise click.BadParameter("is not a JSON object", param_hint="'--config'")
        return config
    if secret is None:
        return None
    if source_type == GENERIC:
        raise click.UsageError(
            "--secret is for provider types (github, stripe...): a generic-webhook source takes "
            """--config '{"hmac": {"secret": ..., "header": ...}}' (or basicAuth, apiKey)"""
        )
    return {"secret": secret}


def _response(status: int | None, content_type: str | None, text: str | None) -> SourceResponse:
    """The answer options given (none: empty)."""
    return cast(SourceResponse, body(status_code=status, content_type=content_type, body=text))


def response_options(func: Any) -> Any:
    options = [
        click.option("--response-status", type=click.IntRange(200, 299), help="The status accepted requests get [200]"),
        click.option("--response-content-type", metavar="TYPE", help="...with this Content-Type [text/plain]"),
        click.option("--response-body", metavar="TEXT", help="...and this body (1000 characters at most) [empty]"),
        metadata_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@source.command("create")
@click.argument("name")
@click.option("--type", "source_type", default=GENERIC, show_default=True, help="The provider")
@click.option("--secret", help=PROVIDER_KEY_HELP)
@click.option("--config", "config_json", help=CONFIG_HELP)
@click.option("--uid", help="Your own id for it")
@click.option("--destination", "destinations", multiple=True, metavar="URL", help="Forward to this URL (repeat)")
@click.option(
    "--no-path-forwarding",
    is_flag=True,
    help="Send to each --destination URL as it is, without the path below the ingest URL and the query",
)
@click.option(
    "--allowed-ips", "allowed_ips", multiple=True, metavar="CIDR", help="Accept requests only from here (repeat)"
)
@click.option("--rate-limit", type=click.IntRange(min=1), help="At most this many requests per second (429 past it)")
@response_options
@api_command
def source_create(
    session: Session,
    name: str,
    source_type: str,
    secret: str | None,
    config_json: str | None,
    uid: str | None,
    destinations: tuple[str, ...],
    no_path_forwarding: bool,
    allowed_ips: tuple[str, ...],
    rate_limit: int | None,
    response_status: int | None,
    response_content_type: str | None,
    response_body: str | None,
    metadata: tuple[str, ...],
) -> None:
    """Create a source and print its ingest URL (the URL to paste into the provider). A request
    to the ingest URL with a path below it and a query goes to each destination with that path
    after its URL's path and that query after its query, unless --no-path-forwarding."""
    if no_path_forwarding and not destinations:
        raise click.UsageError("--no-path-forwarding is about the --destination URLs: pass at least one")
    config = _config(source_type, secret, config_json)
    response = _response(response_status, response_content_type, response_body)
    labels = parse_metadata(metadata)
    # Made with the source in one request: a refused destination leaves nothing behind.
    made: list[ingest.NewDestination] = [
        {"url": url, "path_forwarding_disabled": True} if no_path_forwarding else {"url": url} for url in destinations
    ]
    created = session.client.ingest.sources.create(
        name,
        source_type,
        config=config or {},
        uid=uid,
        metadata=labels,
        response=response or None,
        allowed_ips=list(allowed_ips) or None,
        rate_limit=rate_limit,
        destinations=made or None,
    )
    show(session.as_json, created.raw, SOURCE_COLUMNS, [_source_row(created)])
    if created.awaiting_secret and not session.as_json:
        click.echo(_waiting(created.id))


@source.command("list")
@limit_option()
@api_command
def source_list(session: Session, limit: int) -> None:
    """List sources, oldest first."""
    sources = session.take(session.client.ingest.sources.list, limit)
    show(session.as_json, [s.raw for s in sources], SOURCE_COLUMNS, map(_source_row, sources))


@source.command("show")
@click.argument("source_id", metavar="SOURCE")
@api_command
@names_source
def source_show(session: Session, source_id: str) -> None:
    """Show a source and its destinations."""
    found = session.client.ingest.sources.get(source_id)
    dests = session.client.ingest.destinations.list(source_id, limit=250).data
    if session.as_json:
        show(True, {**found.raw, "destinations": [d.raw for d in dests]}, (), [])
        return
    show(False, found.raw, SOURCE_COLUMNS, [_source_row(found)])
    if found.awaiting_secret:
        click.echo(_waiting(found.id))
    allowed, rate, answer = found.allowed_ips, found.rate_limit, found.response
    click.echo(f"allowed ips: {', '.join(allowed) if allowed else 'any'}")
    click.echo(f"rate limit: {f'{rate} requests/s' if rate else 'none'}")
    said = f"{answer['status_code']} {answer['content_type']} {cell(answer['body'] or '-')}" if answer else "default"
    click.echo(f"response: {said}")
    click.echo("destinations:")
    rows = [(d.id, d.url, d.disabled, not d.path_forwarding_disabled) for d in dests]
    show(False, [d.raw for d in dests], ("id", "url", "disabled", "path forwarding"), rows)


@source.command("update")
@click.argument("source_id", metavar="SOURCE")
@click.option("--name", help="The new name")
@click.option("--uid", help="The new uid")
@click.option("--type", "source_type", help="The new provider (with --secret or --config unless the config fits)")
@click.option("--secret", help=PROVIDER_KEY_HELP)
@click.option("--config", "config_json", help=CONFIG_HELP + "; replaces the config")
@click.option(
    "--allowed-ips", "allowed_ips", multiple=True, metavar="CIDR", help="Accept requests only from here (repeat)"
)
@click.option("--any-ip", is_flag=True, help="Remove the allow-list: accept requests from anywhere")
@click.option("--rate-limit", type=click.IntRange(min=1), help="At most this many requests per second (429 past it)")
@click.option("--no-rate-limit", is_flag=True, help="Remove the rate limit")
@response_options
@click.option("--default-response", is_flag=True, help="Answer accepted requests 200 with no body again")
@api_command
@names_source
def source_update(
    session: Session,
    source_id: str,
    name: str | None,
    uid: str | None,
    source_type: str | None,
    secret: str | None,
    config_json: str | None,
    allowed_ips: tuple[str, ...],
    any_ip: bool,
    rate_limit: int | None,
    no_rate_limit: bool,
    response_status: int | None,
    response_content_type: str | None,
    response_body: str | None,
    metadata: tuple[str, ...],
    default_response: bool,
) -> None:
    """Change SOURCE: only the options given; what is not given stays as it is."""
    if allowed_ips and any_ip:
        raise click.UsageError("pass --allowed-ips or --any-ip, not both")
    if rate_limit is not None and no_rate_limit:
        raise click.UsageError("pass --rate-limit or --no-rate-limit, not both")
    response = _response(response_status, response_content_type, response_body)
    if response and default_response:
        raise click.UsageError("pass --response-... or --default-response, not both")
    read = ingest.get_source(source_id)  # an empty SOURCE fails here, before --metadata and --config are read
    current = None
    if response or (secret is not None and source_type is None):
        current = session.client.request(read)  # to keep the rest of the answer, to know the type
    changes = body(name=name, uid=uid, type=source_type, metadata=parse_metadata(metadata))
    changes.update(body(config=_config(source_type or (current.type if current else None), secret, config_json)))
    if response or default_response:
        kept = current.response if current else None
        changes["response"] = {**(kept or {}), **response} if response else None
    if allowed_ips or any_ip:
        changes["allowed_ips"] = list(allowed_ips) or None
    if rate_limit is not None or no_rate_limit:
        changes["rate_limit"] = rate_limit
    if not changes:
        raise click.UsageError(
            "nothing to change: pass at least one of --name, --uid, --type, --secret, --config, --metadata, "
            "--response-status, --response-content-type, --response-body, --default-response, --allowed-ips, "
            "--any-ip, --rate-limit, --no-rate-limit"
        )
    updated = session.client.request(ingest.patch_source(source_id, **changes))
    show(session.as_json, updated.raw, SOURCE_COLUMNS, [_source_row(updated)])


@source.command("rotate-token")
@click.argument("source_id", metavar="SOURCE")
@api_command
@names_source
def source_rotate_token(session: Session, source_id: str) -> None:
    """Give the source a new ingest URL; the old one keeps working for 24 hours."""
    url = session.client.ingest.sources.rotate_token(source_id)
    show(session.as_json, {"ingestUrl": url}, ("ingest url",), [(url,)])


@source.command("requests")
@click.argument("source_id", metavar="SOURCE")
@click.option("--status", type=click.Choice(["accepted", "rejected", "duplicate"]))
@click.option("--since", callback=when, help="ISO 8601 time or a duration ago (2h)")
@click.option("--until", callback=when, help="ISO 8601 time or a duration ago")
@limit_option()
@api_command
@names_source
def source_requests(
    session: Session,
    source_id: str,
    status: IngestStatus | None,  # the --status choices
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> None:
    """List the requests the source received, newest first."""
    found = session.take(session.client.ingest.requests.list, limit, source_id, status=status, since=since, until=until)
    show(session.as_json, [r.raw for r in found], REQUEST_COLUMNS, map(_request_row, found))


@source.command("replay")
@click.argument("source_id", metavar="SOURCE")
@click.argument("request_id", required=False)
@click.option("--since", callback=when, help="Replay every request received since (ISO 8601 or 2h)")
@click.option("--until", callback=when, help="... and before this (default: now)")
@api_command
@names_source
def source_replay(
    session: Session, source_id: str, request_id: str | None, since: datetime | None, until: datetime | None
) -> None:
    """Forward one request again (REQUEST_ID), or every request of a time range (--since).
    A rejected request is verified again with the source's current secret first."""
    if request_id is not None and since is None:
        again = ingest.replay_ingest_request(source_id, request_id)
        session.client.request(again)
        show(session.as_json, {"replayed": request_id}, ("replayed",), [(request_id,)])
    elif since is not None and request_id is None:
        replay = ingest.replay_ingest_range(source_id, since, until or datetime.now().astimezone())
        done = session.client.request(replay)
        row = (done.forwarded, done.unrouted, done.rejected)
        show(session.as_json, done.raw, ("forwarded", "unrouted", "rejected"), [row])
    else:
        raise click.UsageError("pass a REQUEST_ID or --since, not both")
