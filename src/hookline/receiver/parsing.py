"""Parsing the pieces of signature headers, strictly and with clear errors."""

import re

from hookline.receiver.errors import WebhookVerificationError

_DIGITS = re.compile(r"[0-9]{1,20}")


def parse_timestamp(text: str, what: str = "timestamp") -> int:
    """An integer timestamp as providers send it: ASCII digits only."""
    # int() alone would also take "+1", " 1", "1_000" and non-ASCII digits.
    if not _DIGITS.fullmatch(text):
        raise WebhookVerificationError(f"{what} is not an integer: {text[:32]!r}")
    return int(text)


def timestamped_signatures(
    header: str, *, separator: str, timestamp_key: str, signature_key: str, name: str
) -> tuple[str, list[str]]:
    """Split ``t=123,v1=abc,v1=def`` style headers (Stripe, Paddle).

    Returns the first timestamp and every signature under ``signature_key``;
    other keys (older or newer schemes) are ignored.
    """
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(separator):
        key, _, value = item.strip().partition("=")
        if key == timestamp_key and timestamp is None:
            timestamp = value
        elif key == signature_key:
            signatures.append(value)
    if timestamp is None:
        raise WebhookVerificationError(f"{name} has no {timestamp_key}= timestamp")
    if not signatures:
        raise WebhookVerificationError(f"{name} has no {signature_key} signature")
    return timestamp, signatures
