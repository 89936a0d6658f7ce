"""Schemes for senders without a built-in verifier: a configurable HMAC, API keys, basic auth.

Each is a callable taking a :class:`SignedRequest`, so it can be passed to
:func:`hookline.verify` in place of a provider name::

    scheme = HmacScheme(header="X-Signature", prefix="sha256=",
                        template="{timestamp}.{body}", timestamp_header="X-Timestamp")
    hookline.verify(scheme, secret=..., headers=..., body=...)
"""

import re
from dataclasses import dataclass

from hookline.receiver.crypto import (
    Algorithm,
    Encoding,
    b64decode,
    hmac_text,
    matches_any,
    secrets_equal,
)
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest, checked_tolerance

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# What an HmacScheme takes, the default first.
ALGORITHMS = ("sha256", "sha1", "sha512")
ENCODINGS = ("hex", "base64")


@dataclass(frozen=True)
class HmacScheme:
    """An HMAC signature in one header, over a template of the body and a timestamp.

    ``template`` names what is signed: ``{body}`` is the raw body and
    ``{timestamp}`` the value of ``timestamp_header``, exactly as sent. The
    secret is used as UTF-8 text. With a timestamp, ``tolerance`` (seconds,
    either way) applies unless :func:`hookline.verify` is given another.
    """

    header: str
    algorithm: Algorithm = "sha256"
    encoding: Encoding = "hex"
    prefix: str = ""
    template: str = "{body}"
    timestamp_header: str | None = None
    tolerance: float | None = 300

    def __post_init__(self) -> None:
        # Configuration mistakes are programming errors: fail loudly at construction.
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {tuple(sorted(ALGORITHMS))}")
        if self.encoding not in ENCODINGS:
            raise ValueError("encoding must be 'hex' or 'base64'")
        checked_tolerance(self.tolerance)
        names = _PLACEHOLDER.findall(self.template)
        if names.count("body") != 1 or not set(names) <= {"body", "timestamp"}:
            raise ValueError("template needs one {body} and may use {timestamp}, nothing else")
        if "timestamp" in names and not self.timestamp_header:
            raise ValueError("a template with {timestamp} needs timestamp_header")

    def _content(self, request: SignedRequest) -> bytes:
        before, after = self.template.split("{body}")
        timestamp = ""
        if self.timestamp_header:
            timestamp = request.headers.require(self.timestamp_header)
            seconds = parse_timestamp(timestamp, self.timestamp_header)
            request.check_timestamp(seconds, default=self.tolerance)
        fill = {"timestamp": timestamp}
        head, tail = (_PLACEHOLDER.sub(lambda m: fill[m.group(1)], t) for t in (before, after))
        return head.encode() + request.body + tail.encode()

    def __call__(self, request: SignedRequest) -> None:
        header = request.headers.require(self.header)
        if not header.startswith(self.prefix):
            raise WebhookVerificationError(f"{self.header} does not start with {self.prefix!r}")
        content = self._content(request)
        expected = hmac_text(request.secret, content, self.algorithm, self.encoding)
        if not matches_any(expected, [header.removeprefix(self.prefix)]):
            raise WebhookVerificationError(f"{self.header} signature does not match")


@dataclass(frozen=True)
class ApiKeyScheme:
    """A shared key sent as is in a header (the secret is the key).

    The default reads ``X-API-Key``; ``ApiKeyScheme("Authorization", "Bearer ")``
    reads a bearer token (the prefix is matched case-insensitively).
    """

    header: str = "x-api-key"
    prefix: str = ""

    def __call__(self, request: SignedRequest) -> None:
        value = request.headers.require(self.header)
        if value[: len(self.prefix)].lower() != self.prefix.lower():
            raise WebhookVerificationError(f"{self.header} does not start with {self.prefix!r}")
        if not secrets_equal(value[len(self.prefix) :].strip(), request.secret):
            raise WebhookVerificationError(f"{self.header} does not match")


def verify_basic_auth(request: SignedRequest) -> None:
    """HTTP Basic authentication; the secret is ``"user:password"``."""
    scheme, _, credentials = request.headers.require("authorization").partition(" ")
    if scheme.lower() != "basic":
        raise WebhookVerificationError("Authorization is not Basic")
    given = b64decode(credentials.strip(), "Basic credentials")
    # One comparison of "user:password" checks both parts without revealing which was wrong.
    if not secrets_equal(given, request.secret):
        raise WebhookVerificationError("Basic credentials do not match")
