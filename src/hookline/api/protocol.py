"""uvicorn's httptools protocol with limits on connections and request heads.

httptools buffers a header of any size, uvicorn waits for a request head
forever, and a server accepts connections until it runs out of file
descriptors; each lets one client hold unbounded memory or connections. This
protocol caps the bytes of a request head, the time to receive it (counted from
accept, as nginx's ``client_header_timeout`` is: a connection that sends nothing
is closed too), and the connections served at once (beyond the cap, a 503).
"""

import asyncio
import functools
from typing import Any

import httptools
import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from hookline.config import Settings, load_settings

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 30.0
MAX_CONNECTIONS = 1000


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the limit."""


async def _over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    body = orjson.dumps(
        {"code": "server_busy", "detail": "too many connections open at once (HOOKLINE_MAX_CONNECTIONS); retry later"}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT_SECONDS
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # bytes received while in a head (may include what follows it)
        self._head_size = 0  # bytes of the head parsed so far: url and headers
        self._head_too_large = False
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def _start_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_bytes:
            self.send_400_response("Request head not received in time.")
        else:
            self.transport.close()  # sent nothing at all: nothing to answer

    def _refuse_head(self) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.send_400_response("Request head too large.")

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.max_head_bytes:
            self._head_too_large = True
            raise _HeadTooLarge

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._head_too_large:
                self._refuse_head()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # Still in the head after parsing this chunk: httptools holds a partial
        # header line of this size, which the callbacks have not counted yet.
        if self._in_head and self._head_bytes > self.max_head_bytes:
            self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_head_timer()  # the next head has as long as the first had

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if len(self.connections) > self.max_connections:
            app = _over_capacity
        super()._start_asgi_task(cycle, app)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[LimitedHttpToolsProtocol]:
    """The protocol class uvicorn runs, with this server's limits."""
    return type(
        "HooklineHttpProtocol",
        (LimitedHttpToolsProtocol,),
        {"head_timeout": settings.head_timeout, "max_connections": settings.max_connections},
    )


@functools.cache
def _environment_settings() -> Settings:
    return load_settings()


class EnvironmentHttpProtocol(LimitedHttpToolsProtocol):
    """For ``serve --workers N``: each process reads its limits from HOOKLINE_*, as
    ``app_from_env`` reads the rest (a class made by ``protocol_for`` cannot be pickled)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = _environment_settings()
        self.head_timeout = settings.head_timeout
        self.max_connections = settings.max_connections
