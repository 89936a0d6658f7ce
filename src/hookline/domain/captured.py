"""A request taken exactly as a sender made it: what the inbound gateway's ingest URLs
and the inspector's capture URLs store, verify, show and replay.

Headers keep their order and repeats, and names and values keep their bytes: HTTP
header bytes are latin-1 by definition, so decoding them as latin-1 and encoding them
back is lossless.
"""

from dataclasses import dataclass
from typing import Any

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    method: str
    # The part of the path after the ingest or capture token ("" or "/anything/below").
    path: str
    query: str
    headers: Headers
    body: bytes
    client: str | None
    received_at: int  # epoch milliseconds

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")


def headers_from_raw(raw: list[tuple[bytes, bytes]]) -> Headers:
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)


def headers_to_json(headers: Headers) -> list[list[str]]:
    """Headers as JSON: a list of ``[name, value]`` pairs, in order (a mapping would lose
    repeats and order)."""
    return [[name, value] for name, value in headers]


def headers_from_json(value: Any) -> Headers:
    return tuple((str(name), str(val)) for name, val in value)
