"""``/api/v1/inspect/{bin_id}/listen``: the WebSocket a ``hookline listen`` connects to."""

import asyncio
import base64
import collections
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from hookline.api.auth import authenticate_connection
from hookline.api.errors import ApiError, error_response
from hookline.domain.captured import headers_from_json, headers_to_json
from hookline.domain.inspect import Captured, Reply
from hookline.domain.model import answerable_header
from hookline.errors import HooklineError, NotFound
from hookline.services import inspect
from hookline.services.context import Context
from hookline.services.inspect import LiveHub

router = APIRouter(prefix="/api/v1/inspect", tags=["Inspect"])
# What may pass back to a sender from a listener's answer: well-formed header lines only.
_ANSWERED_KEPT = 1000
_POLL_SECONDS = 1.0  # also look at the database this often (requests captured by other processes)


def _request_message(row: Captured) -> dict[str, Any]:
    r = row.request
    return {
        "type": "request",
        "id": row.id,
        "method": r.method,
        "path": r.path,
        "query": r.query,
        "headers": headers_to_json(r.headers),
        "body": base64.b64encode(r.body).decode(),
        "receivedAt": r.received_at,
    }


def _reply(message: dict[str, Any]) -> Reply | None:
    """A listener's answer: the local target's response, or None when there was none."""
    status = message.get("status")
    if not isinstance(status, int) or not 200 <= status <= 599:
        return None
    try:
        body = base64.b64decode(message.get("body") or "", validate=True)
        pairs = headers_from_json(message.get("headers") or [])
    except (ValueError, TypeError):
        return None
    headers = tuple((name, value) for name, value in pairs if answerable_header(name, value))
    return Reply(status, headers, body)


async def _refuse(ws: WebSocket, exc: HooklineError) -> None:
    if isinstance(exc, ApiError):
        response = error_response(exc.status, exc.code, exc.detail, exc.headers)
    else:
        response = error_response(404 if isinstance(exc, NotFound) else 403, "not_found", str(exc))
    await ws.send_denial_response(response)


@router.websocket("/{bin_id}/listen")
async def listen(
    ws: WebSocket,
    bin_id: str,
    backlog: Annotated[bool, Query()] = True,
    after: Annotated[str | None, Query(max_length=64, pattern=r"^[a-zA-Z0-9_\-]+$")] = None,
) -> None:
    """A ``hookline listen`` session. The server sends ``request`` messages (each captured request
    not yet had by a listener, oldest first; with ``backlog=false`` only those captured from now
    on); the listener answers each with a ``reply`` (the local target's status, headers and body,
    or none), which records it as forwarded and reaches a sender still waiting for it. ``after``:
    only requests after that id (what a ``--no-backlog`` listener passes when it reconnects)."""
    state = ws.app.state
    ctx = Context(db=state.db, settings=state.settings, engine=state.engine)
    try:
        # Listening changes state (requests become forwarded): a write, refused to read-only tokens.
        who = await authenticate_connection(ws, "POST", "/api/v1/inspect/{bin_id}/listen")
        row = await inspect.get(ctx, who.app_id, bin_id)
    except HooklineError as exc:
        await _refuse(ws, exc)
        return
    await ws.accept()
    hub: LiveHub = ws.app.state.inspect_hub
    in_flight: set[str] = set()
    # Answered lately: a poll that read before an answer's acknowledgement committed still sees
    # the request as pending, and must not send it to the listener a second time.
    answered: collections.OrderedDict[str, None] = collections.OrderedDict()
    # Only requests after ``after`` (a reconnecting ``--no-backlog`` listener), else all not yet had.
    cursor = after or (None if backlog else await inspect.newest_request_id(ctx, row.id))
    with hub.listening(row.id) as me, hub.watch(row.id) as wake:
        await ws.send_json({"type": "ready", "bin": {"id": row.id, "url": inspect.bin_url(ctx, row)}, "cursor": cursor})

        async def pump() -> None:
            while not me.replaced.is_set():
                wake.clear()
                items = await inspect.requests_after(ctx, row.id, cursor, pending_only=True)
                fresh = [item for item in items if item.id not in in_flight and item.id not in answered]
                for item in fresh:
                    in_flight.add(item.id)
                    await ws.send_text(json.dumps(_request_message(item)))
                if not fresh:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), _POLL_SECONDS)
            await ws.close(code=4409, reason="another listener took this bin")

        async def answers() -> None:
            while True:
                frame = await ws.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                # Anything but JSON text ends the session with a close code that says why,
                # rather than a traceback and an abrupt 1006.
                if frame.get("text") is None:
                    await ws.close(code=1003, reason="send text frames holding JSON")
                    return
                try:
                    message = json.loads(frame["text"])
                except (ValueError, RecursionError):
                    await ws.close(code=1007, reason="a frame was not JSON")
                    return
                if not isinstance(message, dict):
                    continue
                request_id = message.get("id")
                if message.get("type") == "reply" and isinstance(request_id, str) and request_id in in_flight:
                    await inspect.acknowledge(ctx, hub, request_id, _reply(message))
                    in_flight.discard(request_id)
                    answered[request_id] = None
                    if len(answered) > _ANSWERED_KEPT:
                        answered.popitem(last=False)

        tasks = [asyncio.create_task(pump()), asyncio.create_task(answers())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, ValueError):
                    await task
