"""What one attempt sends: the signed headers (the POST itself is a ``transport``)."""

from collections.abc import Mapping, Sequence

from hookline._version import __version__
from hookline.domain.model import SET_BY_HOOKLINE
from hookline.domain.signing import sign_all

USER_AGENT = f"hookline/{__version__} (+https://github.com/hookline/hookline)"


def signature_headers(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str], mode: str) -> dict[str, str]:
    signature = sign_all(list(secrets), msg_id, timestamp, body)
    values = {"id": msg_id, "timestamp": str(timestamp), "signature": signature}
    prefixes = {"webhook": ("webhook",), "svix": ("svix",), "both": ("webhook", "svix")}[mode]
    return {f"{p}-{k}": v for p in prefixes for k, v in values.items()}


def merge_custom(custom: Mapping[str, str], added: Mapping[str, str]) -> dict[str, str]:
    """The endpoint's custom headers with a transformation's added ones (names compared
    case-insensitively; the transformation's win)."""
    lowered = {name.lower() for name in added}
    merged = {k: v for k, v in custom.items() if k.lower() not in lowered}
    merged.update(added)
    return merged


def request_headers(
    msg_id: str,
    timestamp: int,
    body: bytes,
    secrets: Sequence[str],
    mode: str,
    custom: Mapping[str, str],
    *,
    content_type: str | None = None,
    forwarded: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``content_type`` and ``forwarded``: a received request passed on as is (inbound gateway),
    with its sender's User-Agent; the endpoint's custom headers win over forwarded ones, and the
    signature over both."""
    headers: dict[str, str] = {}
    agent = USER_AGENT
    if forwarded:
        for name, value in forwarded.items():
            lowered = name.lower()
            if lowered == "user-agent":
                agent = value
            elif lowered not in SET_BY_HOOKLINE:
                headers[name] = value
    for name, value in custom.items():
        if name.lower() not in SET_BY_HOOKLINE:
            for same in [k for k in headers if k.lower() == name.lower()]:
                del headers[same]
            headers[name] = value
    headers["Content-Type"] = content_type or "application/json"
    headers["User-Agent"] = agent
    # The answer is recorded as text: a body compressed for us would be stored as bytes no
    # one can read (and left compressed, nothing can inflate into a bomb here).
    headers["Accept-Encoding"] = "identity"
    headers.update(signature_headers(msg_id, timestamp, body, secrets, mode))
    return headers
