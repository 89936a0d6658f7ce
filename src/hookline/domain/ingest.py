"""The inbound gateway's pure rules: what a received request's event id and type are, which
of its headers travel on to destinations, where below a destination's URL it goes, and the
providers' URL handshakes."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import orjson

from hookline.domain.captured import CapturedRequest
from hookline.domain.event_schemas import NAME as EVENT_TYPE_NAME
from hookline.domain.model import CONNECTION_HEADERS, SENSITIVE_HEADERS, SET_BY_HOOKLINE
from hookline.domain.urls import path_below

# Request statuses, as stored and shown.
ACCEPTED = "accepted"
REJECTED = "rejected"
DUPLICATE = "duplicate"
STATUSES = (ACCEPTED, REJECTED, DUPLICATE)

# Rejection causes.
VERIFICATION_FAILED = "verification_failed"
UNSUPPORTED_METHOD = "unsupported_method"
IP_NOT_ALLOWED = "ip_not_allowed"
RATE_LIMITED = "rate_limited"
ACCEPTED_METHODS = frozenset({"POST", "PUT", "PATCH"})
ALLOW = "POST, PUT, PATCH"  # the Allow header of a 405 (RFC 9110 section 15.5.6)

# Never passed on: hop-by-hop and transport headers, credentials meant for hookline, and what
# hookline sets itself (Host, Content-Length, Accept-Encoding; Content-Type travels as the
# message's). The provider's User-Agent is passed on (the engine sends it instead of its own).
_NOT_FORWARDED = (SET_BY_HOOKLINE - {"user-agent"}) | CONNECTION_HEADERS | SENSITIVE_HEADERS
# The names of hookline's own signature: a provider that signs as Standard Webhooks (Svix,
# Clerk, Resend...) sends them too, and they reach destinations under this prefix, so that
# its signature can still be checked there beside hookline's.
RENAMED = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature"}
)
RENAMED_PREFIX = "X-Original-"


def forwarded_headers(request: CapturedRequest, *, drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The sender's headers that destinations get, in order (``drop``: more lower-case names);
    also dropped: those the request's ``Connection`` header names (hop-by-hop, RFC 9110 7.6.1)."""
    hop = {name.strip().lower() for value in request.header_values("connection") for name in value.split(",")}
    out = []
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in RENAMED:
            out.append((RENAMED_PREFIX + name, value))
        elif not (lowered in _NOT_FORWARDED or lowered in drop or lowered in hop or lowered.startswith("proxy-")):
            out.append((name, value))
    return out


# What stays as it is in a forwarded query: the query's own percent-escapes and separators.
_QUERY_SAFE = "!$&'()*+,;=:@/?%"


def forward_path(request: CapturedRequest) -> str | None:
    """What goes after a destination's URL: the path below the ingest token and the query, or
    None when there is neither. The path is stored decoded; ``urls.path_below`` keeps it below
    the destination's path."""
    path = path_below(request.path)
    query = quote(request.query.encode("latin-1"), safe=_QUERY_SAFE) if request.query else ""
    if not path and not query:
        return None
    return f"{path}?{query}" if query else path


def forward_url(url: str, suffix: str) -> str:
    """A destination's ``url`` with a request's ``forward_path`` after it: the path appended to
    the URL's path (one slash between them), the query after the URL's own query."""
    path, _, query = suffix.partition("?")
    parts = urlsplit(url)
    if path:
        parts = parts._replace(path=parts.path.rstrip("/") + path)
    if query:
        parts = parts._replace(query=f"{parts.query}&{query}" if parts.query else query)
    return urlunsplit(parts)


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# Providers whose form-encoded requests carry the event's JSON in a ``payload`` field.
_PAYLOAD_FORMS = frozenset({"github", "slack"})
_NOT_IN_NAMES = re.compile(r"[^a-zA-Z0-9\-_.]")


def _form(request: CapturedRequest) -> dict[str, str] | None:
    """A form-encoded body's fields (a repeated field's last value); None for any other body."""
    if (request.content_type or "").split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _form_json(request: CapturedRequest) -> dict[str, Any] | None:
    """The JSON object in a form-encoded body's ``payload`` field, if there is one."""
    form = _form(request)
    if form is None or "payload" not in form:
        return None
    return _json(form["payload"].encode())


def filter_payload(source_type: str, request: CapturedRequest) -> dict[str, Any]:
    """What a destination's payload filter sees of a received request: its JSON object, or its
    form fields (Twilio, Slack commands), else nothing. GitHub's form-encoded webhooks (content
    type ``form`` in its settings) and Slack's interactivity requests (buttons, modals, shortcuts)
    carry the event's JSON in the ``payload`` field: that JSON."""
    found = _json(request.body)
    if found is not None:
        return found
    if source_type in _PAYLOAD_FORMS:
        inner = _form_json(request)
        if inner is not None:
            return inner
    return _form(request) or {}


def event_id(source_type: str, request: CapturedRequest) -> str | None:
    """The provider's own id for this event, when it sends one."""
    header = {
        "github": "x-github-delivery",
        "shopify": "x-shopify-webhook-id",
        "twilio": "i-twilio-idempotency-token",
    }.get(source_type)
    if header and request.header(header):
        return request.header(header)
    if source_type in ("stripe", "slack"):
        body = _json(request.body) or {}
        found = body.get("id") if source_type == "stripe" else body.get("event_id")
        if isinstance(found, str) and found:
            return found
    return request.header("webhook-id") or request.header("svix-id")


def dedup_key(source_type: str, request: CapturedRequest) -> str:
    """What makes two requests the same event: the provider's event id, else the body's hash."""
    found = event_id(source_type, request)
    if found:
        return "id:" + found[:256]
    return "sha256:" + hashlib.sha256(request.body).hexdigest()


def event_type(source_type: str, request: CapturedRequest) -> str:
    """The event type destinations can filter on (endpoint ``eventTypes``). Slack's Events API
    wraps every event in ``{"type": "event_callback", "event": {"type": "app_mention", ...}}``:
    the event's own type is what tells them apart, as Slack's SDKs route them. Its
    interactivity requests (``payload=<JSON>``, form-encoded) give their JSON's ``type``:
    ``block_actions``, ``view_submission``, ``shortcut``...; its slash commands
    ``slash_command``."""
    return _routable(_named_type(source_type, request))


def _named_type(source_type: str, request: CapturedRequest) -> str | None:
    header = {"github": "x-github-event", "shopify": "x-shopify-topic"}.get(source_type)
    if header and request.header(header):
        return str(request.header(header))
    body = _json(request.body)
    if body is None and source_type == "slack":
        body = _form_json(request)
        # A slash command is a plain form post, its command a field: one event type for all
        # of them, and a destination's payload filter (which sees the form) picks commands.
        if body is None and (_form(request) or {}).get("command", "").startswith("/"):
            return "slash_command"
    body = body or {}
    if source_type == "slack" and body.get("type") == "event_callback" and isinstance(body.get("event"), dict):
        inner = body["event"].get("type")
        if isinstance(inner, str) and inner:
            return inner
    for key in ("type", "event"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _routable(name: str | None) -> str:
    """``name`` as an event type a destination's ``eventTypes`` can list (event_schemas.NAME):
    a Shopify topic's ``/`` as ``.`` (``orders/paid`` -> ``orders.paid``), any other character
    a name cannot hold as ``_``; ``webhook`` when nothing usable is left."""
    if not name:
        return "webhook"
    routable = _NOT_IN_NAMES.sub("_", name.replace("/", "."))[:256]
    return routable if EVENT_TYPE_NAME.fullmatch(routable) else "webhook"


@dataclass(frozen=True, slots=True)
class Handshake:
    """A provider's URL check, answered by hookline and never forwarded."""

    content_type: str
    body: bytes


def handshake(source_type: str, request: CapturedRequest, secret: str | None) -> Handshake | None:
    """Slack's ``url_verification`` and Zoom's ``endpoint.url_validation`` (call after verifying)."""
    body = _json(request.body)
    if body is None:
        return None
    if source_type == "slack" and body.get("type") == "url_verification" and isinstance(body.get("challenge"), str):
        return Handshake("application/json", orjson.dumps({"challenge": body["challenge"]}))
    if source_type == "zoom" and body.get("event") == "endpoint.url_validation" and secret:
        plain = (body.get("payload") or {}).get("plainToken") if isinstance(body.get("payload"), dict) else None
        if isinstance(plain, str):
            encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return Handshake("application/json", orjson.dumps({"plainToken": plain, "encryptedToken": encrypted}))
    return None


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    id: str
    uid: str | None
    name: str
    type: str
    config: str  # sealed JSON (store.secrets): it holds the verification secret
    metadata: dict[str, str]
    response: dict[str, Any] | None  # the custom answer: statusCode, contentType, body
    app_id: str  # the internal application whose endpoints are the destinations
    token: str  # sealed
    created_at: int
    updated_at: int
    allowed_ips: tuple[str, ...] | None = None  # CIDRs requests may come from; None: anywhere
    rate_limit: int | None = None  # requests per second, with a burst of the same size


@dataclass(frozen=True, slots=True, eq=False)
class Received:
    """A request an ingest URL took, and what became of it."""

    id: str
    source_id: str
    status: str
    cause: str | None
    dedup_key: str | None
    request: CapturedRequest
    msg_id: str | None
