"""``hookline source``: the inbound gateway's sources (ingest URLs), what they received, replays."""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

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
from hookline.cli.output import cell, moment, show
from hookline.client import Call, HooklineError, Page
from hookline.client._calls import body, creating, query, segment
from hookline.client._models import fields, page_of

SOURCE_COLUMNS = ("id", "uid", "name", "type", "ingest url")
REQUEST_COLUMNS = ("id", "received", "status", "method", "size", "cause")
ROOT = "/ingest/api/v1/source"
# What each answer must carry to be read (anything else is not hookline: one line, exit 1).
_raw = fields()
_source = fields("id", "name", "type", "ingestUrl")
_request = fields("id", "receivedAt", "status", "method", "size")
_destination = fields("id", "url", "disabled")


def _source_row(s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["id"], s.get("uid"), s["name"], s["type"], s["ingestUrl"])


def _request_row(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["id"], moment(r["receivedAt"]), r["status"], r["method"], r["size"], r.get("cause") or "")


def _waiting(source_id: str) -> str:
    """What to do for a source made without its signing secret (it keeps requests, forwards none)."""
    return (
        "waiting for its signing secret: requests are kept and answered 401, not forwarded. Paste the "
        f"ingest URL into the provider, then 'hookline source update {source_id} --secret ...' and "
        f"'hookline source replay {source_id} --since 1d' for what arrived meanwhile"
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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


def _response(status: int | None, content_type: str | None, text: str | None) -> dict[str, Any]:
    return body(statusCode=status, contentType=content_type, body=text)


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
    data = body(name=name, type=source_type, config=config or {}, uid=uid, rateLimit=rate_limit)
    data.update(body(response=_response(response_status, response_content_type, response_body) or None))
    data.update(body(metadata=parse_metadata(metadata)))
    if allowed_ips:
        data["allowedIps"] = list(allowed_ips)
    if destinations:
        # Made with the source in one request: a refused destination leaves nothing behind.
        extra = {"pathForwardingDisabled": True} if no_path_forwarding else {}
        data["destinations"] = [{"url": url, **extra} for url in destinations]
    created = session.client.request(Call("POST", ROOT, _source, {}, data, creating(None)))
    show(session.as_json, created, SOURCE_COLUMNS, [_source_row(created)])
    if created.get("awaitingSecret") and not session.as_json:
        click.echo(_waiting(created["id"]))


@source.command("list")
@limit_option()
@api_command
def source_list(session: Session, limit: int) -> None:
    """List sources, oldest first."""

    def page(**options: Any) -> Page[dict[str, Any]]:
        return session.client.request(Call("GET", ROOT, page_of(_source), query(**options)))

    sources = session.take(page, limit)
    show(session.as_json, sources, SOURCE_COLUMNS, map(_source_row, sources))


@source.command("show")
@click.argument("source_id", metavar="SOURCE")
@api_command
@names_source
def source_show(session: Session, source_id: str) -> None:
    """Show a source and its destinations."""
    found = session.client.request(Call("GET", f"{ROOT}/{segment(source_id)}", _source))
    dests = session.client.request(
        Call("GET", f"{ROOT}/{segment(source_id)}/endpoint", page_of(_destination), {"limit": "250"})
    )
    if session.as_json:
        show(True, {**found, "destinations": dests.data}, (), [])
        return
    show(False, found, SOURCE_COLUMNS, [_source_row(found)])
    if found.get("awaitingSecret"):
        click.echo(_waiting(found["id"]))
    allowed = found.get("allowedIps")
    click.echo(f"allowed ips: {', '.join(allowed) if allowed else 'any'}")
    rate = found.get("rateLimit")
    click.echo(f"rate limit: {f'{rate} requests/s' if rate else 'none'}")
    answer = found.get("response")
    said = f"{answer['statusCode']} {answer['contentType']} {cell(answer['body'] or '-')}" if answer else "default"
    click.echo(f"response: {said}")
    click.echo("destinations:")
    rows = [(d["id"], d["url"], d["disabled"], not d.get("pathForwardingDisabled")) for d in dests.data]
    show(False, dests.data, ("id", "url", "disabled", "path forwarding"), rows)


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
    path = f"{ROOT}/{segment(source_id)}"
    current: dict[str, Any] = {}
    if response or (secret is not None and source_type is None):
        current = session.client.request(Call("GET", path, _source))  # to keep the rest of the answer, to know the type
    data = body(name=name, uid=uid, type=source_type, metadata=parse_metadata(metadata))
    data.update(body(config=_config(source_type or current.get("type"), secret, config_json)))
    if response or default_response:
        data["response"] = {**(current.get("response") or {}), **response} if response else None
    if allowed_ips or any_ip:
        data["allowedIps"] = list(allowed_ips) or None
    if rate_limit is not None or no_rate_limit:
        data["rateLimit"] = rate_limit
    if not data:
        raise click.UsageError(
            "nothing to change: pass at least one of --name, --uid, --type, --secret, --config, --metadata, "
            "--response-status, --response-content-type, --response-body, --default-response, --allowed-ips, "
            "--any-ip, --rate-limit, --no-rate-limit"
        )
    updated = session.client.request(Call("PATCH", path, _source, {}, data))
    show(session.as_json, updated, SOURCE_COLUMNS, [_source_row(updated)])


@source.command("rotate-token")
@click.argument("source_id", metavar="SOURCE")
@api_command
@names_source
def source_rotate_token(session: Session, source_id: str) -> None:
    """Give the source a new ingest URL; the old one keeps working for 24 hours."""
    rotated = session.client.request(
        Call("POST", f"{ROOT}/{segment(source_id)}/token/rotate", fields("ingestUrl"), {}, None, creating(None))
    )
    show(session.as_json, rotated, ("ingest url",), [(rotated["ingestUrl"],)])


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
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> None:
    """List the requests the source received, newest first."""

    def page(**options: Any) -> Page[dict[str, Any]]:
        params = query(status=status, since=_iso(since), until=_iso(until), **options)
        path = f"{ROOT}/{segment(source_id)}/request"
        return session.client.request(Call("GET", path, page_of(_request), params))

    found = session.take(page, limit)
    show(session.as_json, found, REQUEST_COLUMNS, map(_request_row, found))


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
    if (request_id is None) == (since is None):
        raise click.UsageError("pass a REQUEST_ID or --since, not both")
    if request_id is not None:
        path = f"{ROOT}/{segment(source_id)}/request/{segment(request_id)}/replay"
        session.client.request(Call("POST", path, _raw, {}, None, creating(None)))
        show(session.as_json, {"replayed": request_id}, ("replayed",), [(request_id,)])
        return
    end = until or datetime.now().astimezone()
    data = {"since": _iso(since), "until": _iso(end)}
    path = f"{ROOT}/{segment(source_id)}/replay"
    parse = fields("forwarded", "unrouted", "rejected")
    done = session.client.request(Call("POST", path, parse, {}, data, creating(None)))
    row = (done["forwarded"], done["unrouted"], done["rejected"])
    show(session.as_json, done, ("forwarded", "unrouted", "rejected"), [row])
