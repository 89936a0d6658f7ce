"""A small pool of sandbox processes, driven with asyncio so the caller's loop never blocks.

Each run goes to an idle worker (``hookline.transform.worker``). V8 enforces the time and
heap limits; if a worker still does not answer within the limit plus a grace period, or
dies, it is killed and replaced, and only that run fails.
"""

import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from hookline.domain.json_text import LONE_SURROGATE, lone_surrogate
from hookline.domain.model import CONNECTION_HEADERS, reserved_header
from hookline.domain.urls import InvalidUrlError, check_endpoint_url

MAX_CODE_BYTES: Final = 50 * 1024
DEFAULT_TIMEOUT: Final = 0.2
MAX_TIMEOUT: Final = 30.0
DEFAULT_MEMORY_MB: Final = 128
# RLIMIT_DATA of a worker is the JS heap limit plus this. V8 alone reserves ~570 MB of
# writable (mostly untouched) address space, which the limit counts; the rest is room for
# results. It bounds ArrayBuffers too: a 1 GB one fails.
PROCESS_HEADROOM_MB: Final = 1024
# IPC and creating a V8 context are outside V8's own clock; on a loaded machine they can
# take a while, so the watchdog allows this much beyond the limit before killing.
WATCHDOG_GRACE: Final = 2.0
STARTUP_TIMEOUT: Final = 30.0
METHODS: Final = ("POST", "PUT")
MAX_RESULT_BYTES: Final = 8 * 1024 * 1024

# Headers a transformation may not add: they say how the request is framed and carried (its
# connection and transfer coding, a content coding it does not have, the outbound proxy's
# credentials), which the HTTP client owns. An endpoint's custom headers may not be these either
# (domain.model.reserved_header); hookline's own (signature, Content-Type...) are replaced, as said.
_TRANSPORT_HEADERS: Final = CONNECTION_HEADERS | {"content-encoding", "proxy-authorization"}

ErrorKind = Literal["too_large", "syntax", "exception", "timeout", "memory", "invalid", "crashed", "unavailable"]


@dataclass(frozen=True)
class TransformResult:
    """The request to send instead, or ``cancel``: send nothing."""

    method: str
    url: str
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    cancel: bool = False


@dataclass(frozen=True)
class TransformError:
    kind: ErrorKind
    message: str


def interpret(result: object, *, https_only: bool = False) -> TransformResult | TransformError:
    """Check what the handler returned against Svix's contract, and its URL against the rules an
    endpoint's URL is held to (``domain.urls``; ``https_only``: HOOKLINE_ENDPOINT_HTTPS_ONLY): a
    tenant's code must not send where the tenant could not point an endpoint."""
    if not isinstance(result, dict):
        return TransformError("invalid", "the handler must return the webhook object")
    cancel = result.get("cancel", False)
    if not isinstance(cancel, bool):
        return TransformError("invalid", "webhook.cancel must be true or false")
    method = result.get("method")
    if method not in METHODS:
        return TransformError("invalid", f"webhook.method must be one of {', '.join(METHODS)}, not {method!r}")
    url = result.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        return TransformError("invalid", f"webhook.url must be an http(s) URL, not {url!r}")
    try:
        check_endpoint_url(url)
    except InvalidUrlError as exc:
        return TransformError("invalid", f"webhook.url {exc}")
    if https_only and urlsplit(url).scheme.lower() != "https":
        return TransformError("invalid", "webhook.url must use https: this server sends only to https URLs")
    headers = result.get("headers", {})
    if headers is None:
        headers = {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return TransformError("invalid", "webhook.headers must be an object of string values")
    for name in headers:
        if not name or not all(33 <= ord(c) <= 126 and c != ":" for c in name):
            return TransformError("invalid", f"webhook.headers has an invalid header name {name!r}")
        if name.lower() in _TRANSPORT_HEADERS:
            return TransformError("invalid", f"webhook.headers cannot set {name}: {reserved_header(name)}")
    if any("\r" in v or "\n" in v for v in headers.values()):
        return TransformError("invalid", "webhook.headers values cannot contain line breaks")
    if "payload" not in result:
        return TransformError("invalid", "webhook.payload is missing")
    where = lone_surrogate({"url": url, "headers": headers, "payload": result["payload"]})
    if where is not None:
        return TransformError("invalid", f"webhook.{'.'.join(map(str, where))} {LONE_SURROGATE}")
    return TransformResult(method=method, url=url, payload=result["payload"], headers=headers, cancel=cancel)


def _died(returncode: int | None, stderr: bytes) -> TransformError:
    # V8 aborts the process ("Fatal process out of memory") when an allocation outruns its
    # heap ceiling or RLIMIT_DATA.
    if b"out of memory" in stderr or (returncode is not None and -returncode in (signal.SIGTRAP, signal.SIGABRT)):
        return TransformError("memory", "the transformation exhausted the sandbox's memory")
    return TransformError("crashed", "the sandbox process died running the transformation")


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr_head = b""
        self.stderr_task: asyncio.Task[None] | None = None

    async def _drain_stderr(self) -> None:
        """Keep the start of stderr (where V8 says why it died); never let the pipe fill."""
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            if len(self.stderr_head) < 4096:
                self.stderr_head += chunk[:4096]

    @classmethod
    async def start(cls, heap_mb: int, data_limit: int) -> "_Worker":
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hookline.transform.worker",
            str(heap_mb),
            str(data_limit),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=MAX_RESULT_BYTES,
        )
        worker = cls(process)
        worker.stderr_task = asyncio.create_task(worker._drain_stderr())
        try:
            ready = await asyncio.wait_for(worker._read(), STARTUP_TIMEOUT)
        except (EOFError, TimeoutError, ValueError):
            ready = None
        if ready != {"ready": True}:
            worker.kill()
            await process.wait()
            await worker.stderr_task
            last = worker.stderr_head.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise EOFError(last[0])
        return worker

    async def _read(self) -> Any:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise EOFError
        return json.loads(line)

    async def ask(self, request: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(request.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._read()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class Sandbox:
    """Runs transformations on up to ``size`` worker processes, started on first use."""

    def __init__(self, *, size: int = 2, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.size = size
        self.memory_mb = memory_mb
        self.memory = memory_mb * 1024 * 1024
        self._data_limit = (memory_mb + PROCESS_HEADROOM_MB) * 1024 * 1024
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._slots = asyncio.Semaphore(size)

    async def run(
        self, code: str, webhook: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT, https_only: bool = False
    ) -> TransformResult | TransformError:
        """Run ``code`` on ``webhook``; ``https_only``: refuse a result whose URL is not https."""
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError(f"timeout must be in (0, {MAX_TIMEOUT}] seconds")
        if len(code.encode()) > MAX_CODE_BYTES:
            return TransformError("too_large", f"the code is over {MAX_CODE_BYTES // 1024} KB")
        # Serialized up front: a webhook that is not JSON is the caller's bug, not the code's.
        request = json.dumps({"code": code, "webhook": webhook, "timeout": timeout, "memory": self.memory})
        async with self._slots:
            try:
                worker = await self._take()
            except (OSError, EOFError, ValueError) as exc:
                return TransformError("unavailable", f"the transformation sandbox could not start: {exc!r}")
            try:
                answer = await asyncio.wait_for(worker.ask(request), timeout + WATCHDOG_GRACE)
            except TimeoutError:
                await self._discard(worker)
                return TransformError("timeout", f"the transformation ran longer than {timeout * 1000:.0f} ms")
            except (EOFError, ConnectionError):
                await self._discard(worker)
                return _died(worker.process.returncode, worker.stderr_head)
            except ValueError:  # an answer line over the stream limit
                await self._discard(worker)
                return TransformError("invalid", "the handler's result is too large")
            except BaseException:
                worker.kill()  # cancelled mid-run: the worker's state is unknown
                self._all.discard(worker)
                raise
            self._idle.append(worker)
        if "error" in answer:
            return TransformError(answer["error"]["kind"], answer["error"]["message"])
        return interpret(answer["ok"], https_only=https_only)

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.returncode is None:
                return worker
            await self._discard(worker)  # died while idle: not this run's fault
        return await self._spawn()

    async def _spawn(self) -> _Worker:
        worker = await _Worker.start(self.memory_mb, self._data_limit)
        self._all.add(worker)
        return worker

    async def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        worker.kill()
        # Reaping it lets asyncio finish the pipes while the loop is still alive.
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(worker.process.wait(), 5)
            if worker.stderr_task is not None:
                await asyncio.wait_for(worker.stderr_task, 5)

    async def close(self) -> None:
        """Stop every worker; call before the event loop closes."""
        for worker in list(self._all):
            await self._discard(worker)
