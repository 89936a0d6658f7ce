"""Dashboard sessions and the failed-login limiter.

A session is a token of its own (services/tokens.py: an expiring admin token of origin
``dashboard``, refused by the API), made when an operator signs in and kept in an HttpOnly
cookie. Every process of a deployment knows it, ``hookline token list`` shows it and
``hookline token revoke`` ends it. Its CSRF token is derived from it, so any process can
check a form without storing anything more.

The failed-login limiter is kept in each process's memory.
"""

import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
# Memory stays bounded even when failures come from very many addresses.
_MAX_ADDRESSES = 10_000


@dataclass(frozen=True)
class Session:
    id: str  # the session token's id
    csrf_token: str
    expires_at: float  # epoch seconds


def csrf_for(session_token: str) -> str:
    """The CSRF token of a session: knowing it tells nothing about the session token."""
    return hmac.new(b"hookline dashboard csrf", session_token.encode(), hashlib.sha256).hexdigest()


class LoginLimiter:
    """At most ``limit`` failed logins per client address in any ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 60.0, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.get(address)
        if failures is None:
            return deque()
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
        return failures

    def retry_after(self, address: str) -> float | None:
        """Seconds until this address may try again, or None when it may try now."""
        failures = self._recent(address)
        if len(failures) < self.limit:
            return None
        return max(1.0, failures[0] + self.window - self._clock())

    def failed(self, address: str) -> None:
        if len(self._failures) > _MAX_ADDRESSES:
            self._failures.clear()
        self._recent(address)
        self._failures.setdefault(address, deque()).append(self._clock())
