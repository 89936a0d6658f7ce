"""The application pages' forms: how each is named on its page, and what it posts read into
what the schemas and use-cases take (a value the page itself cannot read is a ``BadForm``)."""

import re
from datetime import UTC, datetime
from typing import Any

from hookline.ui.forms import BadForm, Field, Form

# The forms of these pages, named as their labels name them (the templates ask by form name).
_URL = Field("URL", "The URL", example="https://example.com/webhooks")
_DESCRIPTION = Field("Description", "The description")
_EVENT_TYPES = Field(
    "Only these event types", "Event type names", api=("eventTypes", "filterTypes"), items="event types"
)
NEW_ENDPOINT = Form("new-endpoint", {"url": _URL, "description": _DESCRIPTION, "event_types": _EVENT_TYPES})
SETTINGS = Form(
    "settings",
    {
        "url": _URL,
        "description": _DESCRIPTION,
        "event_types": _EVENT_TYPES,
        "channels": Field("Only these channels", "Channel names", items="channels"),
        "throttle_rate": Field(
            "Throttle", "The throttle", api=("throttleRate", "rateLimit"), empty="leave it empty for no limit"
        ),
    },
)
HEADERS = Form("headers", {"headers": Field("Custom headers", "Header names")})
TEST_EVENT = Form("test-event", {"event_type": Field("Event type", "Event type names", api=("eventType",))}, "Not sent")
SEND_AGAIN = Form(
    "send-again", {"since": Field("Since", "Since"), "kind": Field("What", "What to send")}, "Not started"
)
STATE = Form("state")
DELETE = Form("delete", refused="Not deleted")
ROTATE = Form("rotate-secret", refused="Not rotated")
RESEND = Form("resend", refused="Not sent")
FILTERS = Form("filters", {"since": Field("From (UTC)", "From"), "until": Field("To (UTC)", "To")}, "Not filtered")


def ms(value: str, name: str, label: str) -> int | None:
    """A datetime-local (or ISO) form value as Unix ms, UTC; None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadForm(name, f"{label} must be a date and time, such as 2025-01-31 09:30 (UTC).") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # As the API's to_ms: never below 0, which ids cannot encode (an earlier time wrapped round).
    return max(0, int(parsed.timestamp() * 1000))


def header_lines(text: str) -> dict[str, str]:
    """The headers textarea's ``Name: value`` lines (blank ones skipped) as a mapping."""
    headers: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadForm("headers", f"Line {number} has no colon: write each header as Name: value, one a line.")
        name = name.strip()
        first = seen.setdefault(name.lower(), number)
        if first != number:
            raise BadForm(
                "headers", f"Line {number} names {name} again: it is already on line {first} (names ignore case)."
            )
        headers[name] = value.strip()
    return headers


def csv(text: str) -> list[str] | None:
    """A comma-separated field as its items; None when it has none."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    return items or None


def endpoint_fields(form: dict[str, str]) -> dict[str, Any]:
    """The endpoint forms' fields as the API's endpoint schemas take them."""
    raw: dict[str, Any] = {"url": form.get("url", "").strip(), "description": form.get("description", "")}
    raw["event_types"] = csv(form.get("event_types", ""))
    raw["channels"] = csv(form.get("channels", ""))
    throttle = form.get("throttle_rate", "").strip()
    if throttle:
        # Not isdigit(): it takes "²", which int() refuses.
        if not re.fullmatch(r"[0-9]{1,9}", throttle):
            raise BadForm(
                "throttle_rate",
                "The throttle must be a whole number of messages per second; leave it empty for no limit.",
            )
        raw["throttle_rate"] = int(throttle)
    return raw
