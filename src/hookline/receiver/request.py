"""What a verifier gets: the request as received, the secret, and the clock."""

import time
from dataclasses import dataclass, field

from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.headers import Headers


@dataclass(frozen=True)
class SignedRequest:
    """An incoming request to verify. ``tolerance=None`` means the provider's default."""

    headers: Headers
    body: bytes
    secret: str
    url: str | None = None
    method: str = "POST"
    now: float = field(default_factory=time.time)
    tolerance: float | None = None

    def require_url(self, provider: str) -> str:
        if not self.url:
            raise WebhookVerificationError(f"{provider} signs the request URL: pass url=")
        return self.url

    def check_timestamp(self, timestamp: float, *, default: float | None, future: bool = True) -> None:
        """Reject a timestamp (Unix seconds) outside the window.

        ``default`` is the provider's documented tolerance (None: the provider
        documents none, so only an explicit ``tolerance`` is enforced).
        """
        tolerance = default if self.tolerance is None else self.tolerance
        check_window(timestamp, now=self.now, tolerance=tolerance, future=future)


def check_window(timestamp: float, *, now: float, tolerance: float | None, future: bool = True) -> None:
    """Raise unless ``timestamp`` is within ``tolerance`` seconds of ``now``.

    ``future=False`` mirrors providers whose official libraries only reject old
    timestamps, so a receiver whose clock runs slow is not locked out.
    """
    if tolerance is None:
        return
    if now - timestamp > tolerance:
        raise WebhookVerificationError(f"timestamp is too old ({now - timestamp:.0f}s, tolerance {tolerance:g}s)")
    if future and timestamp - now > tolerance:
        raise WebhookVerificationError(
            f"timestamp is too far in the future ({timestamp - now:.0f}s, tolerance {tolerance:g}s)"
        )
