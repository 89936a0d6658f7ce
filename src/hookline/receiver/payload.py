"""Turning a verified body into the event: JSON, or the fields of a form post."""

import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from hookline.receiver.errors import WebhookPayloadError

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookPayloadError(f"body is not valid JSON: {exc}") from exc


def _text(body: bytes) -> str:
    try:
        return body.decode()
    except UnicodeDecodeError as exc:
        raise WebhookPayloadError("body is not UTF-8") from exc


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """Every ``name=value`` of a urlencoded body, blanks and repeats included."""
    return parse_qsl(_text(body), keep_blank_values=True)


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str | bytes]:
    # The stdlib MIME parser reads form-data once it is told the boundary.
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise WebhookPayloadError("multipart body has no parts")
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields.setdefault(name, _part_value(part))
    return fields


def _part_value(part: Message) -> str | bytes:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if part.get_filename() is not None:
        return data  # a file upload stays bytes
    return data.decode(part.get_content_charset() or "utf-8", errors="replace")


def form_fields(body: bytes, content_type: str | None) -> dict[str, str | bytes]:
    """The fields of a urlencoded or multipart form; the first of a repeated name wins."""
    if media_type(content_type) == MULTIPART:
        return _multipart_fields(body, content_type or "")
    fields: dict[str, str | bytes] = {}
    for name, value in form_pairs(body):
        fields.setdefault(name, value)
    return fields


def parse_payload(body: bytes, content_type: str | None) -> Any:
    """The event carried by a verified body.

    JSON (or no Content-Type at all) is parsed as JSON, forms become a dict of
    fields, and any other media type is handed over as the raw bytes.
    """
    media = media_type(content_type)
    if media in (FORM, MULTIPART):
        return form_fields(body, content_type)
    if not media or is_json(media):
        return parse_json(body)
    return body
