"""``hookline source``: the inbound gateway's sources (ingest URLs), what they received, replays."""

from datetime import datetime
from typing import Any

import click

from hookline.cli.options import Session, api_command, json_document, limit_option, when
from hookline.cli.output import show
from hookline.client import Call, Page
from hookline.client._calls import body, creating, query, segment
from hookline.client._models import fields, page_of

SOURCE_COLUMNS = ("id", "uid", "name", "type", "ingest url")
REQUEST_COLUMNS = ("id", "received", "status", "method", "size", "cause")
_ROOT = "/ingest/api/v1/source"
# What each answer must carry to be read (anything else is not hookline: one line, exit 1).
_raw = fields()
_source = fields("id", "name", "type", "ingestUrl")
_request = fields("id", "receivedAt", "status", "method", "size")
_destination = fields("id", "url", "disabled")


def _source_row(s: dict[str, Any]) -> tuple[Any, ...]:
    return (s["id"], s.get("uid"), s["name"], s["type"], s["ingestUrl"])


def _request_row(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["id"], r["receivedAt"], r["status"], r["method"], r["size"], r.get("cause") or "")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@click.group("source")
def source() -> None:
    """Ingest URLs that providers (GitHub, Stripe, Slack...) post to, verified and forwarded."""


@source.command("create")
@click.argument("name")
@click.option("--type", "source_type", default="generic-webhook", show_default=True, help="The provider")
@click.option("--secret", help="The provider's signing secret (config.secret)")
@click.option("--config", "config_json", help="The whole config as JSON (generic-webhook: hmac, basicAuth, apiKey)")
@click.option("--uid", help="Your own id for it")
@click.option("--destination", "destinations", multiple=True, metavar="URL", help="Forward to this URL (repeat)")
@click.option(
    "--allowed-ips", "allowed_ips", multiple=True, metavar="CIDR", help="Accept requests only from here (repeat)"
)
@click.option("--rate-limit", type=click.IntRange(min=1), help="At most this many requests per second (429 past it)")
@api_command
def source_create(
    session: Session,
    name: str,
    source_type: str,
    secret: str | None,
    config_json: str | None,
    uid: str | None,
    destinations: tuple[str, ...],
    allowed_ips: tuple[str, ...],
    rate_limit: int | None,
) -> None:
    """Create a source and print its ingest URL (the URL to paste into the provider)."""
    if secret and config_json:
        raise click.UsageError("pass --secret or --config, not both")
    try:
        config = json_document(config_json) if config_json else ({"secret": secret} if secret else {})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--config'") from None
    data = body(name=name, type=source_type, config=config, uid=uid, rateLimit=rate_limit)
    if allowed_ips:
        data["allowedIps"] = list(allowed_ips)
    if destinations:
        # Made with the source in one request: a refused destination leaves nothing behind.
        data["destinations"] = [{"url": url} for url in destinations]
    created = session.client.request(Call("POST", _ROOT, _source, {}, data, creating(None)))
    show(session.as_json, created, SOURCE_COLUMNS, [_source_row(created)])


@source.command("list")
@limit_option()
@api_command
def source_list(session: Session, limit: int) -> None:
    """List sources, oldest first."""

    def page(**options: Any) -> Page[dict[str, Any]]:
        return session.client.request(Call("GET", _ROOT, page_of(_source), query(**options)))

    sources = session.take(page, limit)
    show(session.as_json, sources, SOURCE_COLUMNS, map(_source_row, sources))


@source.command("show")
@click.argument("source_id")
@api_command
def source_show(session: Session, source_id: str) -> None:
    """Show a source and its destinations."""
    found = session.client.request(Call("GET", f"{_ROOT}/{segment(source_id)}", _source))
    dests = session.client.request(
        Call("GET", f"{_ROOT}/{segment(source_id)}/endpoint", page_of(_destination), {"limit": "250"})
    )
    if session.as_json:
        show(True, {**found, "destinations": dests.data}, (), [])
        return
    show(False, found, SOURCE_COLUMNS, [_source_row(found)])
    allowed = found.get("allowedIps")
    click.echo(f"allowed ips: {', '.join(allowed) if allowed else 'any'}")
    rate = found.get("rateLimit")
    click.echo(f"rate limit: {f'{rate} requests/s' if rate else 'none'}")
    click.echo("destinations:")
    show(False, dests.data, ("id", "url", "disabled"), [(d["id"], d["url"], d["disabled"]) for d in dests.data])


@source.command("update")
@click.argument("source_id")
@click.option(
    "--allowed-ips", "allowed_ips", multiple=True, metavar="CIDR", help="Accept requests only from here (repeat)"
)
@click.option("--any-ip", is_flag=True, help="Remove the allow-list: accept requests from anywhere")
@click.option("--rate-limit", type=click.IntRange(min=1), help="At most this many requests per second (429 past it)")
@click.option("--no-rate-limit", is_flag=True, help="Remove the rate limit")
@api_command
def source_update(
    session: Session,
    source_id: str,
    allowed_ips: tuple[str, ...],
    any_ip: bool,
    rate_limit: int | None,
    no_rate_limit: bool,
) -> None:
    """Change a source's allow-list or rate limit; what is not given stays as it is."""
    if allowed_ips and any_ip:
        raise click.UsageError("pass --allowed-ips or --any-ip, not both")
    if rate_limit is not None and no_rate_limit:
        raise click.UsageError("pass --rate-limit or --no-rate-limit, not both")
    data: dict[str, Any] = {}
    if allowed_ips or any_ip:
        data["allowedIps"] = list(allowed_ips) or None
    if rate_limit is not None or no_rate_limit:
        data["rateLimit"] = rate_limit
    if not data:
        raise click.UsageError("nothing to change: pass --allowed-ips, --any-ip, --rate-limit or --no-rate-limit")
    updated = session.client.request(Call("PATCH", f"{_ROOT}/{segment(source_id)}", _source, {}, data))
    show(session.as_json, updated, SOURCE_COLUMNS, [_source_row(updated)])


@source.command("rotate-token")
@click.argument("source_id")
@api_command
def source_rotate_token(session: Session, source_id: str) -> None:
    """Give the source a new ingest URL; the old one keeps working for 24 hours."""
    rotated = session.client.request(
        Call("POST", f"{_ROOT}/{segment(source_id)}/token/rotate", fields("ingestUrl"), {}, None, creating(None))
    )
    show(session.as_json, rotated, ("ingest url",), [(rotated["ingestUrl"],)])


@source.command("requests")
@click.argument("source_id")
@click.option("--status", type=click.Choice(["accepted", "rejected", "duplicate"]))
@click.option("--since", callback=when, help="ISO 8601 time or a duration ago (2h)")
@click.option("--until", callback=when, help="ISO 8601 time or a duration ago")
@limit_option()
@api_command
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
        path = f"{_ROOT}/{segment(source_id)}/request"
        return session.client.request(Call("GET", path, page_of(_request), params))

    found = session.take(page, limit)
    show(session.as_json, found, REQUEST_COLUMNS, map(_request_row, found))


@source.command("replay")
@click.argument("source_id")
@click.argument("request_id", required=False)
@click.option("--since", callback=when, help="Replay every request received since (ISO 8601 or 2h)")
@click.option("--until", callback=when, help="... and before this (default: now)")
@api_command
def source_replay(
    session: Session, source_id: str, request_id: str | None, since: datetime | None, until: datetime | None
) -> None:
    """Forward one request again (REQUEST_ID), or every request of a time range (--since).
    A rejected request is verified again with the source's current secret first."""
    if (request_id is None) == (since is None):
        raise click.UsageError("pass a REQUEST_ID or --since, not both")
    if request_id is not None:
        path = f"{_ROOT}/{segment(source_id)}/request/{segment(request_id)}/replay"
        session.client.request(Call("POST", path, _raw, {}, None, creating(None)))
        show(session.as_json, {"replayed": request_id}, ("replayed",), [(request_id,)])
        return
    end = until or datetime.now().astimezone()
    data = {"since": _iso(since), "until": _iso(end)}
    path = f"{_ROOT}/{segment(source_id)}/replay"
    done = session.client.request(Call("POST", path, fields("forwarded", "rejected"), {}, data, creating(None)))
    show(session.as_json, done, ("forwarded", "rejected"), [(done["forwarded"], done["rejected"])])
