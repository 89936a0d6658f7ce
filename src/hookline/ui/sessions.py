"""Dashboard sessions and the failed-login limiter, both kept in this process's memory.

A session is a random id in a cookie, signed with a key made at start-up, mapped here to its
expiry and CSRF token. Nothing survives a restart: every operator signs in again, which is the
intent (no session table to leak or clean). With ``serve --workers N`` each process holds its own
sessions, so the dashboard should be served by one process (or sticky connections) until sessions
move into the database.
"""

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
_MAX_SESSIONS = 10_000


@dataclass
class Session:
    id: str
    csrf_token: str
    expires_at: float


class SessionStore:
    def __init__(self, lifetime_seconds: float, clock: Clock = time.time) -> None:
        self.lifetime = lifetime_seconds
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}

    def _sign(self, session_id: str) -> str:
        return hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()

    def create(self) -> tuple[Session, str]:
        """A new session and the cookie value that names it."""
        self._prune()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._clock() + self.lifetime)
        self._sessions[session.id] = session
        return session, f"{session.id}.{self._sign(session.id)}"

    def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names; None when missing, forged or expired."""
        if not cookie:
            return None
        session_id, _, signature = cookie.rpartition(".")
        if not session_id or not hmac.compare_digest(signature, self._sign(session_id)):
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= self._clock():
            del self._sessions[session_id]
            return None
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def _prune(self) -> None:
        now = self._clock()
        for session_id in [s.id for s in self._sessions.values() if s.expires_at <= now]:
            del self._sessions[session_id]
        if len(self._sessions) >= _MAX_SESSIONS:
            # Memory stays bounded even under a flood of logins: the oldest sessions go first.
            oldest = sorted(self._sessions.values(), key=lambda s: s.expires_at)[: len(self._sessions) // 10 + 1]
            for session in oldest:
                del self._sessions[session.id]


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
        if len(self._failures) > _MAX_SESSIONS:
            self._failures.clear()
        self._recent(address)
        self._failures.setdefault(address, deque()).append(self._clock())
