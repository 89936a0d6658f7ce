"""Replay guards: remember webhook ids for the acceptance window and refuse repeats.

A signed request stays valid while its timestamp is within the tolerance of
the receiver's clock, so the same bytes can be replayed for up to twice the
tolerance after they were first seen. Guards therefore remember an id for
``ttl`` seconds, 600 by default (2 x the usual 5 minutes).

Guards claim an id atomically (Redis ``SET NX EX``), so two concurrent copies
of one request cannot both pass. When handling fails after the claim, call
``forget`` so the sender's retry of the same id is accepted; the framework
integrations do this for you.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from hookline.receiver.errors import WebhookReplayError

DEFAULT_TTL = 600


def webhook_id(headers: Mapping[str, str], body: bytes) -> str | None:
    """The Standard Webhooks / Svix message id: the default replay key."""
    return headers.get("webhook-id") or headers.get("svix-id") or None


class ReplayGuard(Protocol):
    def check(self, key: str) -> None:
        """Claim ``key``; raise :class:`WebhookReplayError` if it is already claimed."""

    def forget(self, key: str) -> None:
        """Release ``key`` so that a retry of the same webhook is accepted."""


class AsyncReplayGuard(Protocol):
    async def check(self, key: str) -> None: ...

    async def forget(self, key: str) -> None: ...


def _replayed(key: str) -> WebhookReplayError:
    return WebhookReplayError(f"webhook {key!r} was already received")


def _checked_ttl(ttl: float, *, whole: bool = False) -> float:
    # A ttl of 0 or less forgot each id at once (every replay got through), and NaN never did.
    if not 0 < ttl < float("inf") or (whole and ttl != int(ttl)):
        kind = "a whole number of seconds" if whole else "a finite number of seconds"
        raise ValueError(f"ttl must be {kind}, more than 0 (got {ttl!r})")
    return ttl


class MemoryReplayGuard:
    """Ids remembered in this process only: for one worker, or for tests."""

    def __init__(self, ttl: float = DEFAULT_TTL, *, clock: Callable[[], float] = time.monotonic):
        self.ttl = _checked_ttl(ttl)
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            self._purge(now)
            if key in self._expiry:
                raise _replayed(key)
            self._expiry[key] = now + self.ttl

    def forget(self, key: str) -> None:
        with self._lock:
            self._expiry.pop(key, None)

    def _purge(self, now: float) -> None:
        # Every entry gets the same ttl, so insertion order is expiry order.
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)


class SyncRedis(Protocol):
    def set(self, name: str, value: str, *, nx: bool, ex: int) -> Any: ...

    def delete(self, *names: str) -> Any: ...


class AsyncRedis(Protocol):
    def set(self, name: str, value: str, *, nx: bool, ex: int) -> Awaitable[Any]: ...

    def delete(self, *names: str) -> Awaitable[Any]: ...


class RedisReplayGuard:
    """Ids shared by every worker through Redis (``redis.Redis``)."""

    def __init__(self, client: SyncRedis, *, prefix: str = "hookline:replay:", ttl: int = DEFAULT_TTL) -> None:
        self.client, self.prefix, self.ttl = client, prefix, int(_checked_ttl(ttl, whole=True))

    def check(self, key: str) -> None:
        # SET NX is the claim: it succeeds for exactly one caller until the key expires.
        if not self.client.set(self.prefix + key, "1", nx=True, ex=self.ttl):
            raise _replayed(key)

    def forget(self, key: str) -> None:
        self.client.delete(self.prefix + key)


class AsyncRedisReplayGuard:
    """The same through ``redis.asyncio.Redis``, for async frameworks."""

    def __init__(self, client: AsyncRedis, *, prefix: str = "hookline:replay:", ttl: int = DEFAULT_TTL) -> None:
        self.client, self.prefix, self.ttl = client, prefix, int(_checked_ttl(ttl, whole=True))

    async def check(self, key: str) -> None:
        if not await self.client.set(self.prefix + key, "1", nx=True, ex=self.ttl):
            raise _replayed(key)

    async def forget(self, key: str) -> None:
        await self.client.delete(self.prefix + key)
