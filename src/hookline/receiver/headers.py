"""Case-insensitive view of request headers, whatever shape the framework gives."""

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias

from hookline.receiver.errors import WebhookVerificationError

HeaderValue: TypeAlias = str | bytes
HeadersLike: TypeAlias = Mapping[str, HeaderValue] | Iterable[tuple[HeaderValue, HeaderValue]]


def _text(value: HeaderValue) -> str:
    # Raw ASGI/WSGI headers are bytes; HTTP header bytes are latin-1 by definition.
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive headers. The first value of a repeated name wins."""

    def __init__(self, raw: HeadersLike) -> None:
        pairs = raw.items() if isinstance(raw, Mapping) else raw
        self._values: dict[str, str] = {}
        for name, value in pairs:
            # Servers strip optional whitespace around values; do the same for hand-built input.
            self._values.setdefault(_text(name).lower(), _text(value).strip())

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def first(self, *names: str) -> str | None:
        """The value of the first of ``names`` that is present and not empty."""
        for name in names:
            value = self._values.get(name.lower())
            if value:
                return value
        return None

    def require(self, *names: str) -> str:
        """Like :meth:`first`, but a missing header is a verification failure."""
        value = self.first(*names)
        if value is None:
            raise WebhookVerificationError(f"missing {' or '.join(names)} header")
        return value
