"""``hookline inspect``: capture URLs ("bins") and what they captured."""

import json
from collections.abc import Callable
from typing import Any

import click

from hookline.cli.options import Seconds, Session, api_command, confirm_deletion
from hookline.cli.output import moment, printable, table
from hookline.client._calls import Call, query, segment
from hookline.client._models import fields, page_of

DEFAULT_URL = "http://127.0.0.1:8071"


def server_url(session: Session) -> str:
    return (session.url or DEFAULT_URL).rstrip("/")


BIN_FIELDS = ("id", "name", "url", "expiresAt")
CAPTURED_FIELDS = ("id", "receivedAt", "method", "path", "query", "size")


def _as_is(data: Any) -> Any:
    return data


def call(
    session: Session,
    method: str,
    path: str,
    body: Any = None,
    params: dict[str, Any] | None = None,
    parse: Callable[[Any], Any] = _as_is,
) -> Any:
    """One API call through the session's client: its URL and token checks, its retries, and a
    refusal that ends the command with one line naming the server's reason. ``parse`` reads the
    answer (``fields(...)``, ``page_of(...)``): an answer it cannot read ends the command the same way."""
    return session.client.request(Call(method, path, parse, query(**(params or {})), body))


def _print(session: Session, value: Any, columns: list[str], rows: list[list[Any]]) -> None:
    click.echo(json.dumps(value, indent=None) if session.as_json else table(columns, rows))


@click.group("inspect")
def inspect_group() -> None:
    """Capture URLs: see exactly what a sender sends (see also: hookline listen)."""


@inspect_group.command("new")
@click.option("--name", help="A name to tell it by")
@click.option("--status", type=click.IntRange(200, 599), help="The status it answers with [200]")
@click.option("--delay", type=Seconds(0, 30), help="Seconds before answering [0]")
@click.option("--max-requests", type=click.IntRange(1, 10_000), help="Requests kept, oldest dropped first [500]")
@click.option("--ttl", "ttl_seconds", type=click.IntRange(1), help="Seconds until it expires [7 days]")
@click.option("--secret", help="Check each request's signature with this secret")
@click.option("--provider", help="...made the way this provider signs (stripe, github...) [standard-webhooks]")
@api_command
def inspect_new(
    session: Session,
    name: str | None,
    status: int | None,
    delay: float | None,
    max_requests: int | None,
    ttl_seconds: int | None,
    secret: str | None,
    provider: str | None,
) -> None:
    """Create a capture URL; print its id and URL."""
    body: dict[str, Any] = {}
    if name:
        body["name"] = name
    response = {k: v for k, v in {"status": status, "delay": delay}.items() if v is not None}
    if response:
        body["response"] = response
    for key, value in (("maxRequests", max_requests), ("ttlSeconds", ttl_seconds)):
        if value is not None:
            body[key] = value
    if provider and not secret:
        raise click.BadParameter("needs --secret", param_hint="--provider")
    if secret:
        body["verify"] = {"secret": secret, **({"provider": provider} if provider else {})}
    created = call(session, "POST", "/api/v1/inspect", body, parse=fields(*BIN_FIELDS))
    _print(session, created, ["id", "url", "expires"], [[created["id"], created["url"], moment(created["expiresAt"])]])


@inspect_group.command("list")
@api_command
def inspect_list(session: Session) -> None:
    """Your capture URLs."""
    page = call(session, "GET", "/api/v1/inspect", params={"limit": 250}, parse=page_of(fields(*BIN_FIELDS)))
    rows = [[b["id"], b["name"], b["url"], moment(b["expiresAt"])] for b in page.data]
    _print(session, page.data, ["id", "name", "url", "expires"], rows)


@inspect_group.command("requests")
@click.argument("bin_id", metavar="BIN")
@click.option("--limit", type=click.IntRange(1, 250), default=50, show_default=True)
@api_command
def inspect_requests(session: Session, bin_id: str, limit: int) -> None:
    """What BIN captured, newest first."""
    path = f"/api/v1/inspect/{segment(bin_id)}/request"
    page = call(session, "GET", path, params={"limit": limit}, parse=page_of(fields(*CAPTURED_FIELDS)))
    rows = [
        [
            r["id"],
            moment(r["receivedAt"]),
            r["method"],
            f"{r['path']}?{r['query']}" if r["query"] else r["path"],
            r["size"],
        ]
        for r in page.data
    ]
    _print(session, page.data, ["id", "time", "method", "path", "bytes"], rows)


@inspect_group.command("show")
@click.argument("bin_id", metavar="BIN")
@click.argument("request_id", metavar="REQUEST")
@api_command
def inspect_show(session: Session, bin_id: str, request_id: str) -> None:
    """One captured request in full: request line, headers, body."""
    path = f"/api/v1/inspect/{segment(bin_id)}/request/{segment(request_id)}"
    r = call(session, "GET", path, parse=fields(*CAPTURED_FIELDS, "headers", "body", "bodyBase64", "signature"))
    if session.as_json:
        click.echo(json.dumps(r))
        return
    # Whoever has the capture URL chose all of this: escape sequences in it are shown, not obeyed.
    click.echo(printable(f"{r['method']} {r['path'] or '/'}{'?' + r['query'] if r['query'] else ''}"))
    for name, value in r["headers"]:
        click.echo(printable(f"{name}: {value}"))
    click.echo()
    body = printable(r["body"], lines=True) if r["body"] is not None else f"(binary, base64) {r['bodyBase64']}"
    click.echo(body)
    if r["signature"]:
        sig = r["signature"]
        verdict = "valid" if sig["valid"] else "INVALID: " + printable(sig["reason"])
        click.echo(f"\nsignature ({sig['provider']}): {verdict}")


@inspect_group.command("replay")
@click.argument("bin_id", metavar="BIN")
@click.argument("request_id", metavar="REQUEST")
@click.argument("target")
@api_command
def inspect_replay(session: Session, bin_id: str, request_id: str, target: str) -> None:
    """Send a captured request again, from the server, to TARGET (SSRF rules apply)."""
    path = f"/api/v1/inspect/{segment(bin_id)}/request/{segment(request_id)}/replay"
    r = call(session, "POST", path, {"url": target}, parse=fields("statusCode", "durationMs", "error"))
    _print(session, r, ["status", "ms", "error"], [[r["statusCode"], r["durationMs"], r["error"]]])


@inspect_group.command("delete")
@click.argument("bin_id", metavar="BIN")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@api_command
def inspect_delete(session: Session, bin_id: str, yes: bool) -> None:
    """Delete BIN and everything it captured."""
    confirm_deletion(f"capture URL {bin_id} and everything it captured", yes)
    call(session, "DELETE", f"/api/v1/inspect/{segment(bin_id)}")
    click.echo(json.dumps({"deleted": bin_id}) if session.as_json else f"deleted {bin_id}")
