"""``hookline listen``: relay what reaches a capture URL to a local server, over a WebSocket the
command opens to hookline (so it works from behind NAT).

Each request is forwarded with its raw bytes and headers; the local answer goes back to the
server (and to the sender, when it is still waiting). What arrived while no listener was
connected is forwarded on connect. A request is forwarded once per session even if the
server sends it again after a restart: the answer given is remembered and repeated.
"""

import asyncio
import base64
import contextlib
import ipaddress
import json
import signal
import sys
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import click

from hookline.cli.inspect import BIN_FIELDS, call, server_url
from hookline.cli.options import Session, api_command
from hookline.client._calls import segment
from hookline.client._models import fields
from hookline.domain.urls import path_below

_HOP_BY_HOP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade"}
)
_MAX_BACKOFF = 10.0
_REPLACED = 4409  # the server's close code when a newer listener took the bin
# What the server takes back over the WebSocket (base64 grows it by a third; uvicorn's limit is 16 MiB).
_MAX_REPLY_BYTES = 8 * 1024 * 1024
_REMEMBERED = 1_000  # replies kept to repeat, at most, and their base64 bodies' bytes
_REMEMBERED_BYTES = 64 * 1024 * 1024


class Fatal(Exception):
    """The server refused this listener for good (token, bin): reconnecting cannot help."""


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Listener:
    def __init__(self, session: Session, bin_id: str, target: str, *, backlog: bool, as_json: bool) -> None:
        self.session = session
        self.bin_id = bin_id
        self.target = target.rstrip("/")
        self.backlog = backlog
        self.as_json = as_json
        self.after: str | None = None  # with --no-backlog: only what came after this
        # This session's latest replies, by request id: the server re-sends a request whose reply it
        # had not stored when the connection dropped, so only recent ones can come again. Bounded,
        # or a day of large answers grew the process without end.
        self.answered: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._answered_bytes = 0
        self.stop = asyncio.Event()

    def _ws_url(self) -> str:
        base = server_url(self.session).replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        url = f"{base}/api/v1/inspect/{self.bin_id}/listen"
        if self.after:
            return f"{url}?backlog=true&after={self.after}"
        return f"{url}?backlog={'true' if self.backlog else 'false'}"

    async def run(self) -> None:
        import aiohttp

        delay = 0.5
        timeout = aiohttp.ClientTimeout(total=None)
        # The relay sends what was captured, no more: no cookie the local app set comes back.
        async with aiohttp.ClientSession(
            auto_decompress=False, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as http:
            while not self.stop.is_set():
                try:
                    await self._session(http)
                    delay = 0.5
                except Fatal:
                    raise
                except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
                    click.echo(f"hookline listen: {_why(exc)}; reconnecting in {delay:g} s", err=True)
                if self.stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                delay = min(delay * 2, _MAX_BACKOFF)

    async def _session(self, http: Any) -> None:
        import aiohttp

        headers = {"Authorization": f"Bearer {self.session.token}"}
        try:
            ws = await http.ws_connect(self._ws_url(), headers=headers, heartbeat=20, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403, 404):
                raise Fatal(f"the server refused to listen on bin {self.bin_id} ({exc.status})") from None
            raise
        tasks: set[asyncio.Task[None]] = set()
        async with ws:
            stopper = asyncio.create_task(self.stop.wait())
            try:
                while True:
                    receive = asyncio.create_task(ws.receive())
                    done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    if stopper in done:
                        receive.cancel()
                        return
                    msg = receive.result()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        if ws.close_code == _REPLACED:
                            raise Fatal(f"another hookline listen took bin {self.bin_id}")
                        raise aiohttp.ClientConnectionError(f"connection closed ({ws.close_code})")
                    message = json.loads(msg.data)
                    if message.get("type") == "ready" and not self.backlog and self.after is None:
                        self.after = message.get("cursor") or ""
                    elif message.get("type") == "request":
                        task = asyncio.create_task(self._forward(http, ws, message))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            finally:
                stopper.cancel()
                for task in tasks:
                    task.cancel()

    async def _forward(self, http: Any, ws: Any, message: dict[str, Any]) -> None:
        request_id = message["id"]
        reply = self.answered.get(request_id)
        if reply is None:
            reply = await self._deliver(http, message)
            self._remember(request_id, reply)
        with contextlib.suppress(Exception):
            await ws.send_str(json.dumps(reply))

    def _remember(self, request_id: str, reply: dict[str, Any]) -> None:
        self.answered[request_id] = reply
        self._answered_bytes += len(reply.get("body", ""))
        while len(self.answered) > _REMEMBERED or (self._answered_bytes > _REMEMBERED_BYTES and len(self.answered) > 1):
            _, dropped = self.answered.popitem(last=False)
            self._answered_bytes -= len(dropped.get("body", ""))

    async def _deliver(self, http: Any, message: dict[str, Any]) -> dict[str, Any]:
        import aiohttp
        from multidict import CIMultiDict

        # The sender chose the path: it stays below the target's own (``/../admin`` or ``/%2e%2e/admin``
        # must not reach the rest of the developer's server), as ingest forwards stay below a
        # destination's. Decoded and encoded again byte for byte (Latin-1).
        below = path_below(unquote(message["path"], encoding="latin-1"), encoding="latin-1")
        url = self.target + below + (f"?{message['query']}" if message["query"] else "")
        headers = CIMultiDict((k, v) for k, v in message["headers"] if k.lower() not in _HOP_BY_HOP)
        body = base64.b64decode(message["body"])
        started = time.monotonic()
        reply: dict[str, Any] = {"type": "reply", "id": message["id"], "status": 0}
        try:
            async with http.request(
                message["method"],
                url,
                data=body,
                headers=headers,
                skip_auto_headers={"User-Agent", "Accept", "Accept-Encoding", "Content-Type"},
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.session.timeout),
            ) as resp:
                content = await _read_capped(resp.content)
                reply["status"] = resp.status
                reply["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in resp.raw_headers]
                reply["body"] = base64.b64encode(content).decode()
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            reply = {"type": "reply", "id": message["id"], "status": 0, "error": _why(exc)}
        ms = int((time.monotonic() - started) * 1000)
        self._line(message, reply, ms)
        return reply

    def _line(self, message: dict[str, Any], reply: dict[str, Any], ms: int) -> None:
        path = (message["path"] or "/") + (f"?{message['query']}" if message["query"] else "")
        now = datetime.now().astimezone()
        if self.as_json:
            line = {
                "time": now.isoformat(timespec="milliseconds"),
                "id": message["id"],
                "method": message["method"],
                "path": path,
                "status": reply["status"] or None,
                "ms": ms,
                "error": reply.get("error"),
            }
            click.echo(json.dumps(line))
        else:
            status = str(reply["status"]) if reply["status"] else f"ERR {reply.get('error')}"
            click.echo(f"{now:%H:%M:%S}  {message['method']:<7} {path}  {status}  {ms} ms")
        sys.stdout.flush()


async def _read_capped(stream: Any) -> bytes:
    """The whole local answer, up to the cap (``read(n)`` alone stops at what is buffered, which cut
    answers of a few hundred kilobytes short)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_any():
        size += len(chunk)
        if size > _MAX_REPLY_BYTES:
            raise ValueError(f"the local answer is over {_MAX_REPLY_BYTES} bytes: not passed back")
        chunks.append(chunk)
    return b"".join(chunks)


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _temporary_endpoint(session: Session, app_id: str, url: str, event_types: list[str]) -> tuple[str, str]:
    body: dict[str, Any] = {"url": url, "description": "hookline listen (temporary)"}
    if event_types:
        body["eventTypes"] = event_types
    endpoint = call(session, "POST", f"/api/v1/app/{segment(app_id)}/endpoint", body, parse=fields("id"))
    path = f"/api/v1/app/{segment(app_id)}/endpoint/{segment(endpoint['id'])}/secret"
    secret = call(session, "GET", path, parse=fields("key"))
    return endpoint["id"], secret["key"]


async def _main(listener: Listener) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, listener.stop.set)
    await listener.run()


@click.command("listen")
@click.argument("target")
@click.option("--bin", "bin_id", metavar="ID", help="Use this capture URL (default: a new one)")
@click.option("--no-backlog", is_flag=True, help="Skip what arrived while no listener was connected")
@click.option("--allow-external", is_flag=True, help="Allow a TARGET that is not on this machine")
@click.option("--app", "app_id", metavar="APP", help="Relay APP's webhooks: a temporary endpoint, removed on exit")
@click.option("--event-types", help="With --app: only these event types (comma-separated)")
@api_command
def listen(
    session: Session,
    target: str,
    bin_id: str | None,
    no_backlog: bool,
    allow_external: bool,
    app_id: str | None,
    event_types: str | None,
) -> None:
    """Forward every request that reaches a capture URL to TARGET (http://localhost:3000/webhooks).

    The sender gets TARGET's answer when it comes in time, else the capture URL's own. Ctrl-C stops.
    """
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise click.ClickException("hookline listen needs aiohttp: pip install 'hookline[server]'") from None
    if not target.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="TARGET")
    try:
        parts = urlsplit(target)
        if not parts.hostname:
            raise ValueError("it names no host")
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise click.BadParameter(f"is not a URL: {exc}", param_hint="TARGET") from None
    if not allow_external and not is_local(target):
        raise click.BadParameter(
            f"{target} is not on this machine (pass --allow-external to forward there)", param_hint="TARGET"
        )
    if event_types and not app_id:
        raise click.BadParameter("needs --app", param_hint="--event-types")
    if bin_id:
        bin_ = call(session, "GET", f"/api/v1/inspect/{segment(bin_id)}", parse=fields(*BIN_FIELDS))
    else:
        bin_ = call(session, "POST", "/api/v1/inspect", {"name": f"listen {target}"[:256]}, parse=fields(*BIN_FIELDS))
    endpoint_id: str | None = None
    ready: dict[str, Any] = {"event": "ready", "bin": bin_["id"], "url": bin_["url"], "target": target}
    try:
        if app_id:
            types = [t for t in (event_types or "").split(",") if t]
            try:
                endpoint_id, secret = _temporary_endpoint(session, app_id, bin_["url"], types)
            except BaseException:
                if not bin_id:  # made for this session, which never began: nobody has its URL
                    call(session, "DELETE", f"/api/v1/inspect/{segment(bin_['id'])}")
                raise
            ready.update(app=app_id, endpoint=endpoint_id, secret=secret)
        if session.as_json:
            click.echo(json.dumps(ready))
        else:
            click.echo(f"Forwarding {bin_['url']} -> {target}")
            if endpoint_id:
                click.echo(f"Application {app_id}: temporary endpoint {endpoint_id}, signing secret {ready['secret']}")
            elif not bin_id:
                click.echo(f"To keep this URL next time: hookline listen {target} --bin {bin_['id']}")
            click.echo("Ctrl-C to stop.")
        sys.stdout.flush()
        listener = Listener(session, bin_["id"], target, backlog=not no_backlog, as_json=session.as_json)
        try:
            asyncio.run(_main(listener))
        except Fatal as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        if endpoint_id and app_id:
            call(session, "DELETE", f"/api/v1/app/{segment(app_id)}/endpoint/{segment(endpoint_id)}")
            if not session.as_json:
                click.echo(f"removed endpoint {endpoint_id}")
