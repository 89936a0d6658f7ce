"""Capture URLs ("bins") of the inspector: the records, and the pure rules deciding what a
sender gets back (the bin's configured response, or Svix Play's per-request overrides)."""

import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from hookline.domain.captured import CapturedRequest, Headers

DEFAULT_MAX_REQUESTS = 500
MAX_MAX_REQUESTS = 10_000
DEFAULT_TTL_SECONDS = 7 * 86_400
MAX_TTL_SECONDS = 90 * 86_400
MAX_DELAY_SECONDS = 30.0
# How long a sender waits for a connected ``hookline listen`` to answer before it gets the
# bin's own response instead.
PASSTHROUGH_SECONDS = 10.0


def new_token() -> str:
    """A capture token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class BinResponse:
    status: int = 200
    content_type: str = "text/plain"
    body: str = "OK"
    headers: Headers = ()
    delay: float = 0.0  # seconds, at most MAX_DELAY_SECONDS


@dataclass(frozen=True, slots=True)
class Bin:
    id: str
    token: str
    app_id: str | None  # the owner: an application, or None for the admin
    name: str | None
    response: BinResponse
    max_requests: int
    expires_at: int
    verify_provider: str | None
    verify_secret: str | None  # sealed at rest (store.secrets)
    created_at: int
    updated_at: int
    rate_limit: int | None = None  # requests per second, with a burst of the same size


@dataclass(frozen=True, slots=True)
class Signature:
    """Whether a captured request's signature verified against the bin's secret, and why not."""

    provider: str
    valid: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class Captured:
    """A captured request as stored: the request, what the sender got, and whether a
    ``hookline listen`` has had it."""

    id: str
    bin_id: str
    request: CapturedRequest
    signature: Signature | None
    response_status: int | None
    forwarded_at: int | None

    @property
    def size(self) -> int:
        return len(self.request.body)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Headers
    body: bytes
    delay: float = 0.0


class OverrideError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True, slots=True)
class Overrides:
    """Svix Play's per-request query parameters."""

    force_status_code: int | None = None
    random_failure_rate: float | None = None
    echo_body: bool = False


def parse_overrides(query: str) -> Overrides:
    values: Mapping[str, str] = dict(parse_qsl(query, keep_blank_values=True))
    status: int | None = None
    rate: float | None = None
    if "force_status_code" in values:
        try:
            status = int(values["force_status_code"])
        except ValueError:
            status = 0
        # A final answer, as a bin's own status is: a 1xx is an interim one (101 switches the
        # connection to another protocol), after which hookline would still send a body and more
        # answers; a proxy in front would take the connection for a tunnel, or pair the answers
        # that follow with the wrong requests.
        if not 200 <= status <= 599:
            raise OverrideError("force_status_code", "force_status_code must be a final HTTP status code (200 to 599)")
    if "random_failure_rate" in values:
        try:
            rate = float(values["random_failure_rate"])
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise OverrideError("random_failure_rate", "random_failure_rate must be a number from 0 to 1")
    echo = values.get("echo_body", "false").lower()
    if echo not in ("true", "false", "1", "0", ""):
        raise OverrideError("echo_body", "echo_body must be true or false")
    return Overrides(status, rate, echo in ("true", "1", ""))


def configured_reply(
    response: BinResponse, request: CapturedRequest, overrides: Overrides, rng: random.Random | None = None
) -> Reply:
    """What a sender gets from the bin itself (no listener answered), overrides applied."""
    status = response.status
    headers: Headers = (("content-type", response.content_type), *response.headers)
    body = response.body.encode()
    if overrides.echo_body:
        body = request.body
        headers = (("content-type", request.content_type or "application/octet-stream"), *response.headers)
    if overrides.random_failure_rate is not None and (rng or random).random() < overrides.random_failure_rate:
        status = 500
    if overrides.force_status_code is not None:
        status = overrides.force_status_code
    return Reply(status, headers, body, response.delay)


# Set per connection by whoever sends the request on; never copied from a captured one.
_HOP_BY_HOP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade"}
)


def forwardable_headers(headers: Headers) -> Headers:
    """A captured request's headers as a replay or a listener sends them on: in order, repeats
    kept, without the hop-by-hop ones the new connection sets itself."""
    return tuple((name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP)


@dataclass(frozen=True, slots=True)
class OutboundResult:
    """What a replay got back: a response, or why there was none."""

    status: int  # 0: no response
    headers: Headers
    body: bytes
    duration_ms: int
    error: str | None = None
    blocked: bool = False  # the SSRF guard refused the address: nothing was sent
