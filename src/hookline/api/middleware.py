"""ASGI middleware: request size limits, JSON-only bodies and idempotent POSTs."""

import asyncio
import hashlib
import re
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api import strict_json
from hookline.api.errors import earlier_answer
from hookline.services import idempotency
from hookline.store.database import Database, DatabaseUnavailableError, is_disconnect

log = structlog.get_logger("hookline.api")
# Set in the scope when BodyLimitMiddleware answered for the app (413, 408).
_REFUSED = "hookline.body_refused"
# Set in the scope by IdempotencyMiddleware for a route that keeps its key itself: the key's
# digest, which the route reserves, and under which it stores its answer, in its own write.
IDEMPOTENCY_KEY = "hookline.idempotency_key"


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodyLimitMiddleware:
    """Refuse request bodies above ``max_bytes`` with 413, before reading them whole.

    Paths under a prefix of ``raw_prefixes`` (the ingest and capture URLs, which take
    whatever a sender posts) are held to ``raw_max_bytes`` instead."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout: float = 30.0,
        raw_prefixes: tuple[str, ...] = (),
        raw_max_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.raw_prefixes = raw_prefixes
        self.raw_max_bytes = raw_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.raw_max_bytes if scope["path"].startswith(self.raw_prefixes) else self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await send_json(
                    send, 413, {"code": "payload_too_large", "detail": f"request body over {max_bytes} bytes"}
                )
                return
        seen = 0
        started = False
        refused = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def refuse(status: int, code: str, detail: str) -> Message:
            # Answer ourselves, then tell the app the client went away: frameworks
            # turn exceptions raised from receive() into their own 400s.
            nonlocal refused
            if not started and not refused:
                refused = True
                scope[_REFUSED] = True
                await send_json(send, status, {"code": code, "detail": detail})
            return {"type": "http.disconnect"}

        async def limited_receive() -> Message:
            nonlocal seen
            if refused:
                return {"type": "http.disconnect"}
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                return await refuse(408, "request_timeout", f"request body not received within {self.timeout:g} s")
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    return await refuse(413, "payload_too_large", f"request body over {max_bytes} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


class JsonBodyMiddleware:
    """Refuse API request bodies not declared ``application/json`` with 415, as Svix
    does, on every route alike; FastAPI would fail them as a wrong-shaped object, and
    the publish route, which reads its own body, would accept them.

    JSON bodies are read here whole (their size and time are already bounded) and
    held to ``strict_json``: NaN, infinities and repeated keys get a 422 naming their
    path, on every route, before any route parses them its own way. A client that
    goes away mid-body is logged as such, and no route runs for it.
    """

    def __init__(self, app: ASGIApp, path_prefixes: tuple[str, ...] = ("/api/",)) -> None:
        self.app = app
        self.path_prefixes = path_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] in ("POST", "PUT", "PATCH")
            and scope["path"].startswith(self.path_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type")
        length = headers.get(b"content-length")
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if not has_body:
            await self.app(scope, receive, send)
            return
        if content_type is None or not _is_json(content_type):
            given = "none" if content_type is None else repr(content_type.decode("latin-1"))
            detail = f"content-type must be application/json (got {given})"
            await send_json(send, 415, {"code": "unsupported_media_type", "detail": detail})
            return
        encoding = headers.get(b"content-encoding")
        if encoding is not None and encoding.strip().lower() not in (b"", b"identity"):
            # A compressed body read as JSON failed as "not UTF-8 text (byte 1)": say what is wrong.
            given = encoding.decode("latin-1")
            detail = f"content-encoding {given!r} is not supported: send the JSON body uncompressed"
            await send_json(send, 415, {"code": "unsupported_media_type", "detail": detail})
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not scope.get(_REFUSED):
                    log.info("client disconnected before sending the whole request body", path=scope["path"])
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            strict_json.check(body)
        except strict_json.JsonProblem as problem:
            await send_json(send, 422, {"code": "validation", "detail": [problem.item()]})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only a disconnect can come now
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


# Responses that carry a credential (a new token, a rotated secret or key) are never stored
# for replay: the idempotency table would hold them in clear for hours. The svix SDKs send an
# idempotency-key on every POST, so these routes simply run again.
_CREDENTIAL_PATHS = re.compile(r"^/api/v1/auth/|/secret/rotate$|/key/rotate$")


class IdempotencyMiddleware:
    """Replay the first 2xx response to a POST whose ``idempotency-key`` repeats.

    The key is scoped to the caller's credentials and the path, so one client's
    key never returns another client's response. Paths that match ``inline`` (publishing)
    keep their key themselves: this leaves its digest in the scope (``IDEMPOTENCY_KEY``), and
    the route reserves it and stores its answer in the write that does its work.
    """

    def __init__(
        self,
        app: ASGIApp,
        db_getter: Any,
        prefixes: tuple[str, ...] = ("/api/",),
        inline: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.db_getter = db_getter
        # The management APIs only: at ingest and capture URLs a sender's own Idempotency-Key
        # header is its business, not ours.
        self.prefixes = prefixes
        self.inline = inline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(self.prefixes)
            or _CREDENTIAL_PATHS.search(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        if not key:
            await self.app(scope, receive, send)
            return
        digest = hashlib.sha256(
            b"\n".join([headers.get(b"authorization", b""), scope["path"].encode(), key])
        ).hexdigest()
        if self.inline is not None and self.inline.fullmatch(scope["path"]):
            scope[IDEMPOTENCY_KEY] = digest
            await self.app(scope, receive, send)
            return
        db: Database = self.db_getter()
        try:
            earlier = await idempotency.reserve(db, digest)
        except Exception as exc:
            if not is_disconnect(exc):
                raise
            why = exc if isinstance(exc, DatabaseUnavailableError) else DatabaseUnavailableError()
            retry_after = str(why.retry_after).encode()
            await send_json(send, 503, {"code": why.code, "detail": why.detail}, [(b"retry-after", retry_after)])
            return
        if earlier is not None:
            await earlier_answer(earlier)(scope, receive, send)
            return
        await self._run_and_store(scope, receive, send, db, digest)

    async def _settle(self, db: Database, digest: str, status: int, messages: list[Message]) -> None:
        """Store a 2xx for replay, or free the key; a key left pending by a database
        outage is taken over after a minute (store/idempotency.py)."""
        response = None
        if 200 <= status < 300:
            response = (status, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"))
        try:
            await idempotency.settle(db, digest, response)
        except Exception as exc:
            if not is_disconnect(exc):
                raise

    async def _run_and_store(self, scope: Scope, receive: Receive, send: Send, db: Database, digest: str) -> None:
        # Buffer the (small, JSON) response so it is stored before the client sees
        # it: a retry that arrives right after the answer then finds it replayable.
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        status = 0
        try:
            await self.app(scope, receive, capture)
            start = next((m for m in messages if m["type"] == "http.response.start"), None)
            status = start["status"] if start else 0
        finally:
            await self._settle(db, digest, status, messages)
        for message in messages:
            await send(message)
