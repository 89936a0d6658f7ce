"""The inbound gateway's pure rules: what a received request's event id and type are, which
of its headers travel on to destinations, and the providers' URL handshakes."""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from hookline.domain.captured import CapturedRequest
from hookline.domain.model import CONNECTION_HEADERS, SENSITIVE_HEADERS, SET_BY_HOOKLINE

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

# Never passed on: hop-by-hop and transport headers, credentials meant for hookline, and the
# names hookline's own signature uses.
_NOT_FORWARDED = SET_BY_HOOKLINE | CONNECTION_HEADERS | SENSITIVE_HEADERS


def forwarded_headers(request: CapturedRequest, *, drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The sender's headers that destinations get, in order (``drop``: more lower-case names)."""
    return [
        (name, value)
        for name, value in request.headers
        if name.lower() not in _NOT_FORWARDED and name.lower() not in drop and not name.lower().startswith("proxy-")
    ]


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# Providers whose form-encoded requests carry the event's JSON in a ``payload`` field.
_PAYLOAD_FORMS = frozenset({"github", "slack"})


def _form(request: CapturedRequest) -> dict[str, str] | None:
    """A form-encoded body's fields (a repeated field's last value); None for any other body."""
    if (request.content_type or "").split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def filter_payload(source_type: str, request: CapturedRequest) -> dict[str, Any]:
    """What a destination's payload filter sees of a received request: its JSON object, or its
    form fields (Twilio, Slack commands), else nothing. GitHub's form-encoded webhooks (content
    type ``form`` in its settings) and Slack's interactivity requests (buttons, modals, shortcuts)
    carry the event's JSON in the ``payload`` field: that JSON."""
    found = _json(request.body)
    if found is not None:
        return found
    form = _form(request)
    if form is None:
        return {}
    if source_type in _PAYLOAD_FORMS and "payload" in form:
        inner = _json(form["payload"].encode())
        if inner is not None:
            return inner
    return form


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
    """The event type destinations can filter on (endpoint ``eventTypes``)."""
    header = {"github": "x-github-event", "shopify": "x-shopify-topic"}.get(source_type)
    if header and request.header(header):
        return str(request.header(header))[:256]
    body = _json(request.body) or {}
    for key in ("type", "event"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value[:256]
    if source_type == "slack" and isinstance(body.get("event"), dict):
        inner = body["event"].get("type")
        if isinstance(inner, str) and inner:
            return inner[:256]
    return "webhook"


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
