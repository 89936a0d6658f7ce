"""``hookline verify``: check a saved webhook request against a secret.

A saved request is either JSON::

    {"method": "POST", "url": "https://example.com/hook",
     "headers": {"webhook-id": "...", "webhook-timestamp": "...", "webhook-signature": "..."},
     "body": "the raw body, exactly as received"}

(``bodyBase64`` instead of ``body`` for bodies that are not UTF-8; ``headers``
may also be a list of ``[name, value]`` pairs), or the raw HTTP request as
captured (``nc -l``, a proxy's dump): request line, headers, blank line, body.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import IO, Any

import click

from hookline.cli.options import Seconds
from hookline.cli.output import table, to_json


@dataclass(frozen=True)
class SavedRequest:
    method: str
    url: str | None
    headers: list[tuple[str, str]]
    body: bytes


def load_request(raw: bytes) -> SavedRequest:
    """Read a saved request in either format; ValueError says what is wrong with it."""
    if raw.lstrip().startswith(b"{"):
        return _from_json(raw)
    return _from_http(raw)


def _from_json(raw: bytes) -> SavedRequest:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "headers" not in data:
        raise ValueError('expected a JSON object with "headers" and "body"')
    headers = data["headers"]
    pairs = headers.items() if isinstance(headers, dict) else headers
    try:
        header_list = [(str(name), str(value)) for name, value in pairs]
    except (TypeError, ValueError):
        raise ValueError('"headers" must be an object or a list of [name, value] pairs') from None
    if "bodyBase64" in data:
        try:
            body = base64.b64decode(str(data["bodyBase64"]), validate=True)
        except binascii.Error:
            raise ValueError('"bodyBase64" is not valid base64') from None
    elif isinstance(data.get("body"), str):
        body = data["body"].encode()
    else:
        raise ValueError('"body" must be the raw body as a string (or use "bodyBase64")')
    url = data.get("url")
    return SavedRequest(str(data.get("method", "POST")).upper(), str(url) if url else None, header_list, body)


def _from_http(raw: bytes) -> SavedRequest:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            break
    else:
        head, body = raw, b""
    lines = head.decode("latin-1").splitlines()
    request_line = lines[0].split() if lines else []
    if len(request_line) < 2 or not (request_line[0].isalpha() and request_line[0].isupper()):
        raise ValueError(
            "expected a JSON saved request or a raw HTTP request (request line, headers, blank line, body)"
        )
    method, target = request_line[:2]
    headers = []
    for text in lines[1:]:
        name, colon, value = text.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"not a header line: {text[:60]!r}")
        headers.append((name.strip(), value.strip()))
    length = next((v for n, v in headers if n.lower() == "content-length"), None)
    if length is not None and length.isdigit() and len(body) > int(length):
        body = body[: int(length)]  # an editor's trailing newline is not part of the body
    host = next((v for n, v in headers if n.lower() == "host"), None)
    url = target if "://" in target else (f"https://{host}{target}" if host else None)
    return SavedRequest(method.upper(), url, headers, body)


def check(
    saved: SavedRequest,
    *,
    provider: str,
    secret: str,
    url: str | None = None,
    tolerance: float | None = None,
    ignore_time: bool = False,
) -> str | None:
    """Why the request does not verify, or None when it does.

    The signature is checked first with the clock out of the way, so a stale
    saved request is reported as such rather than as a bad signature.
    """
    from hookline.receiver import WebhookVerificationError, verify

    options: dict[str, Any] = {
        "secret": secret,
        "headers": saved.headers,
        "body": saved.body,
        "url": url or saved.url,
        "method": saved.method,
    }
    try:
        verify(provider, tolerance=float("inf"), **options)
    except WebhookVerificationError as exc:
        return str(exc)
    if ignore_time:
        return None
    try:
        verify(provider, tolerance=tolerance, **options)
    except WebhookVerificationError as exc:
        return f"{exc} (the signature itself matches; --ignore-time accepts it)"
    return None


@click.command("verify")
@click.argument("source", metavar="[FILE]", type=click.File("rb"), default="-", required=False)
@click.option("--secret", envvar="HOOKLINE_WEBHOOK_SECRET", required=True, help="The endpoint's signing secret")
@click.option(
    "--provider", default="standard-webhooks", show_default=True, help="Signature scheme: svix, stripe, github..."
)
@click.option("--url", help="The full URL the request was sent to (Twilio, Square and HubSpot sign it)")
@click.option("--tolerance", type=Seconds(0), help="Seconds of clock difference to accept")
@click.option("--ignore-time", is_flag=True, help="Check the signature only, not the timestamp's age")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table")
def verify_command(
    source: IO[bytes],
    secret: str,
    provider: str,
    url: str | None,
    tolerance: float | None,
    ignore_time: bool,
    as_json: bool,
) -> None:
    """Check a saved webhook request (FILE, or standard input) against a signing secret.

    FILE is JSON ({"headers": {...}, "body": "...", "url": ...}) or a raw HTTP
    request. Exits 0 when it verifies and 1 when it does not, saying why.
    """
    from hookline.receiver.verify import resolve

    try:
        resolve(provider)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--provider") from None
    try:
        saved = load_request(source.read())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE") from None
    problem = check(saved, provider=provider, secret=secret, url=url, tolerance=tolerance, ignore_time=ignore_time)
    if as_json:
        click.echo(to_json({"valid": problem is None, "provider": provider, "error": problem}))
        if problem is not None:
            raise click.exceptions.Exit(1)
    elif problem is not None:
        raise click.ClickException(f"invalid: {problem}")
    else:
        click.echo(table(("result", "provider"), [("valid", provider)]))
