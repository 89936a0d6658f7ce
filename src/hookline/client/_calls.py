"""The pure half of the client: what a call sends, how its answer is read, when to retry.

The sync and async drivers only move bytes; every decision is made here, so
both behave the same by construction.
"""

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from hookline._version import __version__
from hookline.client._models import json_kind

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8071"
DEFAULT_TIMEOUT = 30.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"hookline-python/{__version__}"


class HooklineError(Exception):
    """The API answered with an error, or could not be reached (``status`` 0).

    ``code`` is the API's machine-readable code (``not_found``, ``validation``...);
    ``detail`` is its explanation, a string or, for validation, a list of problems.
    """

    def __init__(self, status: int, code: str, detail: Any) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line for humans."""
        prefix = f"{self.status} {self.code}" if self.status else self.code
        return f"{prefix}: {describe(self.detail)}"


def describe(detail: Any) -> str:
    """Flatten an error detail (validation lists included) into one line."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                msg = str(item.get("msg", "invalid"))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        detail = "; ".join(parts)
    return " ".join(str(detail).split())


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and the parser for its successful answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def retryable(self) -> bool:
        """Safe to send twice: reads, idempotent verbs, and POSTs carrying an idempotency key."""
        return self.method != "POST" or "idempotency-key" in self.headers


def query(**values: Any) -> dict[str, str]:
    """Query parameters without the unset ones; lists become comma-separated, bools lowercase."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            if value:
                out[name] = ",".join(str(v) for v in value)
        elif hasattr(value, "isoformat"):
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return out


def segment(value: str) -> str:
    """An id or uid as one path segment, percent-encoded so it stays one: a ``/``, ``?`` or
    ``#`` in it, and a ``.`` or ``..`` that URL resolution would otherwise remove, so that
    deleting endpoint ``..`` of ``acme`` cannot address ``acme`` itself."""
    if not value:
        raise HooklineError(0, "invalid_argument", "an id or uid cannot be empty")
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted.strip(".") == "" else quoted


def body(**values: Any) -> dict[str, Any]:
    """A JSON body without the unset (None) fields."""
    return {name: value for name, value in values.items() if value is not None}


def creating(key: str | None) -> dict[str, str]:
    """Headers for a POST that creates something: an idempotency key, generated unless given."""
    if key is not None and not (key and key.isascii() and key.isprintable()):
        # A header carries it: anything else failed inside httpx with an encoding error.
        raise HooklineError(0, "invalid_argument", "an idempotency key is one or more printable ASCII characters")
    return {"idempotency-key": key or f"hookline-{uuid.uuid4().hex}"}


def settings(url: str | None, token: str | None) -> tuple[str, str]:
    """The server URL and token, from the arguments or ``HOOKLINE_URL`` / ``HOOKLINE_TOKEN``."""
    base = url or os.environ.get("HOOKLINE_URL") or DEFAULT_URL
    secret = token or os.environ.get("HOOKLINE_TOKEN")
    if not secret:
        raise HooklineError(0, "no_token", "no API token: pass token= or set HOOKLINE_TOKEN")
    # Checked here so a typo fails as one clear error before any request, rather than as an
    # encoding or URL-parsing exception from inside httpx on the first call.
    if not secret.isascii() or not secret.isprintable() or any(c.isspace() for c in secret):
        raise HooklineError(0, "invalid_token", "the API token has characters a token never has (spaces or non-ASCII)")
    try:
        parsed = httpx.URL(base)
    except httpx.InvalidURL as exc:
        raise HooklineError(0, "invalid_url", f"{base!r} is not a server URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise HooklineError(0, "invalid_url", f"{base!r} is not a server URL: use http://host:port or https://host")
    return base.rstrip("/"), secret


def check_limits(timeout: float, retries: int) -> None:
    """Raise ValueError for a timeout or retry count no request can use (at construction, not
    as a socket error on the first call)."""
    if not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a finite number of seconds, more than 0 (got {timeout!r})")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more (got {retries!r})")


def default_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT, "Accept": "application/json"}


def finish(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer of a successful call, or :class:`HooklineError`."""
    if not response.is_success:
        raise error_of(response)
    data = {} if response.status_code == 204 or not response.content else _json(response)
    try:
        return call.parse(data)
    except KeyError as exc:
        reason = f"no {json.dumps(str(exc.args[0]) if exc.args else '?')} in its answer"
    except (TypeError, ValueError, AttributeError) as exc:
        reason = describe(str(exc)) if isinstance(data, Mapping) else f"its answer is {json_kind(data)}, not an object"
    raise not_hookline(call, response, reason)


def not_hookline(call: Call[Any], response: httpx.Response, reason: str) -> HooklineError:
    """A successful answer that is not what hookline sends (another server at the URL, or a
    proxy's page): the error names the server and the call, with ``reason``."""
    url = response.request.url
    server = f"{url.scheme}://{url.netloc.decode()}"
    detail = f"the server at {server} did not answer {call.method} {call.path} as hookline does ({reason})"
    return HooklineError(response.status_code, "invalid_response", detail)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise HooklineError(response.status_code, "invalid_response", "the server did not answer JSON") from None


def error_of(response: httpx.Response) -> HooklineError:
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, Mapping) and "code" in data:
        detail = data.get("detail", "")
        if response.status_code in (404, 405) and detail in ("Not Found", "Method Not Allowed"):
            request = response.request
            detail = f"{request.method} {request.url.path}: no such route on this server (an older hookline?)"
        return HooklineError(response.status_code, str(data["code"]), detail)
    text = response.text.strip()[:200] or response.reason_phrase
    return HooklineError(response.status_code, "http_error", text)


def unreachable(base_url: str, exc: httpx.HTTPError) -> HooklineError:
    reason = describe(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return HooklineError(0, "timeout", f"{base_url} did not answer in time ({reason})")
    return HooklineError(0, "connection_error", f"cannot reach {base_url}: {reason}")


def retry_delay(call: Call[Any], attempt: int, retries: int, response: httpx.Response | None) -> float | None:
    """Seconds to wait before sending ``call`` again, or None to stop.

    ``attempt`` counts from 1; ``response`` is None when the request failed in transit.
    """
    if attempt > retries or not call.retryable:
        return None
    if response is not None and response.status_code not in RETRY_STATUSES:
        return None
    backoff = 0.2 * 2.0 ** (attempt - 1)
    if response is not None:
        return max(backoff, min(_retry_after(response.headers.get("retry-after")), 30.0))
    return backoff


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return 0.0
