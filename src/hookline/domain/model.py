"""The vocabulary every layer shares: delivery states, attempt triggers, and the
records the store returns.

The integer values are the API's (Svix's ``MessageStatus`` and
``MessageAttemptTriggerType``) and the values stored in the database.
"""

import functools
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

# Header names whose values are credentials: stored, sent, never shown (and not forwarded by
# the ingest gateway).
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
# Beyond those, names that say they carry a credential (X-Auth-Token, X-Api-Secret, Api-Key,
# X-Session-Id...): never shown either, though still sent as set.
_CREDENTIAL_NAME = re.compile(r"auth|token|secret|api[-_]?key|passw|session|cookie|credential|private")
REDACTED = "[redacted]"


@functools.lru_cache(maxsize=1024)
def is_credential_header(name: str) -> bool:
    """Whether a header named ``name`` may carry a credential, so its value is never shown."""
    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or _CREDENTIAL_NAME.search(lowered) is not None


# Headers every delivery carries from hookline itself: the signature and what describes its body.
SET_BY_HOOKLINE = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "accept-encoding",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
    }
)
# Headers about the connection or the body's framing, which the HTTP client owns: set by hand
# they make the request lie about itself (a body declared chunked when it is not).
CONNECTION_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
)

# What a header hookline answers with (capture URLs, ingest sources) can hold: RFC 9110's
# field-value, visible ASCII, space, tab and obs-text, which the server writes as Latin-1. It
# cannot write anything else, and the answer failed with a 500 as it was sent.
ANSWER_HEADER_CHARS = r"[\t\x20-\x7e\x80-\xff]"
_ANSWER_HEADER = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ANSWER_VALUE = re.compile(ANSWER_HEADER_CHARS + "*")


def answerable_header(name: str, value: str) -> bool:
    """Whether a header can go in an answer as it is: a token for a name, and a value of
    ``ANSWER_HEADER_CHARS`` (a relayed answer, from ``hookline listen``, may hold others)."""
    return _ANSWER_HEADER.fullmatch(name) is not None and _ANSWER_VALUE.fullmatch(value) is not None


# Statuses whose answer has no body (RFC 9110): one configured with a body cannot be sent.
BODYLESS_STATUSES = frozenset({204, 304})


def body_refused(status: object, body: str) -> str | None:
    """Why an answer of ``status`` cannot be configured with ``body``, or None if it can."""
    if body and status in BODYLESS_STATUSES:
        return f"a {status} answer has no body: leave body empty, or pick another status"
    return None


# Capture and ingest URLs answer on hookline's own origin, the dashboard's and the portal's,
# with content others chose: a tenant's capture URL page, a page relayed by ``hookline listen``,
# a source's configured answer. Opened in a browser, such a page would run its script as the
# dashboard (with an operator's session). Every such answer is sandboxed (an origin of its own,
# no script) and may not touch the origin's cookies, storage or service workers, nor leave any
# other policy the browser keeps for the whole origin once one answer states it (the sandbox does
# not stop those): Strict-Transport-Security (max-age=0 made the browser forget hookline's HSTS,
# so the dashboard could then be reached over plain http), Alt-Svc (where the origin's later
# requests go), NEL and Report-To (the browser reports the origin's requests, the dashboard's
# addresses among them, wherever the answer says), Accept-CH and Critical-CH (what it sends the
# origin from then on), and the obsolete pinning headers.
SANDBOXED_ANSWER_HEADERS = (("content-security-policy", "sandbox"), ("x-content-type-options", "nosniff"))
_STORAGE_HEADERS = frozenset({"set-cookie", "set-cookie2", "clear-site-data", "service-worker-allowed"})
_ORIGIN_POLICY_HEADERS = frozenset(
    {
        "strict-transport-security",
        "alt-svc",
        "nel",
        "report-to",
        "accept-ch",
        "critical-ch",
        "public-key-pins",
        "public-key-pins-report-only",
        "expect-ct",
    }
)


def origin_header_refused(name: str) -> str | None:
    """Why an answer on hookline's origin may not carry the header ``name``, or None if it may."""
    lowered = name.lower()
    if lowered in _STORAGE_HEADERS:
        return (
            f"{name} would act on hookline's own site (its cookies, storage or service workers), "
            "where the dashboard runs; answers from capture and ingest URLs cannot carry it"
        )
    if lowered in _ORIGIN_POLICY_HEADERS:
        return (
            f"{name} would set a policy browsers keep for hookline's whole site, where the dashboard "
            "runs; answers from capture and ingest URLs cannot carry it"
        )
    return None


def reserved_header(name: str) -> str | None:
    """Why an endpoint's custom header may not be named ``name``, or None if it may."""
    lowered = name.lower()
    if lowered in SET_BY_HOOKLINE:
        return "hookline sets it on every delivery"
    if lowered.startswith("svix-"):
        return "svix-* headers are reserved for the signature, as on Svix"
    if lowered in CONNECTION_HEADERS:
        return "it controls the HTTP connection, which hookline manages"
    if lowered == "content-encoding":
        return "deliveries are sent unencoded"
    if lowered == "proxy-authorization":
        return "it would go to the outbound proxy, not to the endpoint"
    return None


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` as they may be shown: credentials replaced by ``REDACTED``."""
    return {k: REDACTED if is_credential_header(k) else v for k, v in headers.items()}


class DeliveryStatus(IntEnum):
    SUCCESS = 0
    PENDING = 1
    FAIL = 2
    SENDING = 3


# A delivery that may still be attempted: waiting, or claimed under a lease.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Trigger(IntEnum):
    SCHEDULED = 0
    MANUAL = 1


@dataclass(frozen=True, slots=True, eq=False)
class Application:
    id: str
    uid: str | None
    name: str
    metadata: dict[str, str]
    throttle_rate: int | None
    created_at: int
    updated_at: int
    internal: bool


@dataclass(frozen=True, slots=True, eq=False)
class EventType:
    name: str
    description: str
    archived: bool
    deprecated: bool
    schemas: dict[str, dict[str, Any]] | None
    feature_flag: str | None
    created_at: int
    updated_at: int
    schema_validation: str = "off"  # off | warn | enforce


@dataclass(frozen=True, slots=True, eq=False)
class Endpoint:
    id: str
    app_id: str
    uid: str | None
    url: str
    description: str
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool
    metadata: dict[str, str]
    throttle_rate: int | None
    headers: dict[str, str]
    secret: str  # sealed at rest (store.secrets)
    old_secrets: list[dict[str, Any]]  # [{"key", "expires_at"}], still signing until they expire
    failing_since: int | None
    created_at: int
    updated_at: int
    filter: dict[str, Any] | None = None  # domain/filters.py
    transformation_code: str | None = None
    transformation_enabled: bool = False
    fifo: bool = False
    fifo_on_exhausted: str = "skip"  # skip | block
    fifo_next: int = 0
    # A source's destination: a request goes to ``url`` as it is, without the path below the
    # ingest URL and the query.
    path_forwarding_disabled: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Message:
    id: str
    app_id: str
    event_type: str
    event_id: str | None
    payload: bytes | None  # JSON bytes; None once expunged or expired
    channels: list[str] | None
    created_at: int
    tags: list[str] | None = None
    deliver_at: int | None = None  # a scheduled message: its deliveries are due at this time
    schema_version: str | None = None
    schema_warning: str | None = None  # why the payload failed its schema (schemaValidation "warn")
    ordering_key: str | None = None  # the FIFO order it belongs to on FIFO endpoints


@dataclass(frozen=True, slots=True, eq=False)
class Attempt:
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int
    response_duration_ms: int
    status: DeliveryStatus
    trigger: Trigger
    attempt_number: int
    error: str | None
    created_at: int
    request: dict[str, Any] | None = None  # the transformed request, when a transformation ran
    request_headers: dict[str, str] | None = None  # what was sent, credentials redacted


@dataclass(frozen=True, slots=True, eq=False)
class DeliveryState:
    """Where one message stands with one endpoint."""

    status: DeliveryStatus
    next_attempt_at: int | None


@dataclass(frozen=True, slots=True, eq=False)
class BackgroundTask:
    """A background task (recover, replay, statistics) as its callers see it."""

    id: str
    app_id: str
    task: str
    status: str
    done: int
    total: int
    error: str | None
    created_at: int
    updated_at: int
    data: dict[str, Any] | None  # what a finished task computed, if it records a result


@dataclass(frozen=True, slots=True, eq=False)
class Integration:
    id: str
    app_id: str
    name: str
    feature_flags: list[str]
    token_id: str
    key: str  # sealed at rest (store.secrets)
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True, eq=False)
class MessageDelivery:
    """A message as one endpoint sees it."""

    message: Message
    state: DeliveryState


@dataclass(frozen=True, slots=True, eq=False)
class EndpointDelivery:
    """An endpoint as one message sees it."""

    endpoint: Endpoint
    state: DeliveryState


@dataclass(frozen=True, slots=True)
class AppExclusions:
    """Svix's ``exclude_apps_with_*`` application-listing options."""

    no_endpoints: bool = False
    disabled_endpoints: bool = False
    play_endpoints: bool = False  # an endpoint on play.svix.com


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """What message listings (and attempt listings, by their message) filter on."""

    event_types: tuple[str, ...] | None = None
    channel: str | None = None
    before_ms: int | None = None
    after_ms: int | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptFilter:
    """What attempt listings filter on: the attempt's outcome, and its message (by
    ``messages``, whose time window applies to the attempt's own time)."""

    status: DeliveryStatus | None = None
    status_code_class: int | None = None  # 0 (no response), 100, 200, 300, 400 or 500
    messages: MessageFilter = MessageFilter()
