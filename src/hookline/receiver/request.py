"""What a verifier gets: the request as received, the secret, and the clock."""

import math
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

    def __post_init__(self) -> None:
        checked_tolerance(self.tolerance)
        if not math.isfinite(self.now):
            raise ValueError(f"now must be a finite Unix time in seconds (got {self.now!r})")

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


def checked_tolerance(value: float | None) -> float | None:
    """``value`` if it is a tolerance: None (the provider's default) or seconds, 0 or more
    (``math.inf`` for no limit). Raises ValueError otherwise: NaN fails every comparison, so a
    NaN tolerance used to accept any timestamp, however old."""
    if value is not None and not value >= 0:
        raise ValueError(f"tolerance must be a number of seconds, 0 or more (got {value!r})")
    return value


def check_window(timestamp: float, *, now: float, tolerance: float | None, future: bool = True) -> None:
    """Raise unless ``timestamp`` is within ``tolerance`` seconds of ``now``.

    ``future=False`` mirrors providers whose official libraries only reject old
    timestamps, so a receiver whose clock runs slow is not locked out.
    """
    if tolerance is None:
        return
    checked_tolerance(tolerance)
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite Unix time in seconds (got {now!r})")
    if now - timestamp > tolerance:
        raise WebhookVerificationError(f"timestamp is too old ({now - timestamp:.0f}s, tolerance {tolerance:g}s)")
    if future and timestamp - now > tolerance:
        raise WebhookVerificationError(
            f"timestamp is too far in the future ({timestamp - now:.0f}s, tolerance {tolerance:g}s)"
        )
