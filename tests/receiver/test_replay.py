"""Replay guards, in memory and on the real Redis at 127.0.0.1:6379."""

import math

import pytest
import redis
import redis.asyncio

from hookline.receiver import (
    AsyncRedisReplayGuard,
    MemoryReplayGuard,
    RedisReplayGuard,
    WebhookReplayError,
    webhook_id,
)
from hookline.receiver.headers import Headers

from .helpers import rejects


def test_webhook_id_reads_standard_then_svix_header() -> None:
    assert webhook_id(Headers({"webhook-id": "msg_1", "svix-id": "msg_2"}), b"") == "msg_1"
    assert webhook_id(Headers({"svix-id": "msg_2"}), b"") == "msg_2"
    assert webhook_id(Headers({}), b"") is None


def test_memory_guard_rejects_repeats_until_the_ttl_passes() -> None:
    clock = [100.0]
    guard = MemoryReplayGuard(ttl=600, clock=lambda: clock[0])
    guard.check("a")
    guard.check("b")
    with rejects("'a' was already received"):
        guard.check("a")
    clock[0] = 699.9
    with rejects("already received"):
        guard.check("b")
    clock[0] = 700.0
    guard.check("a")  # expired, so accepted (and claimed) again
    with rejects("already received"):
        guard.check("a")


def test_memory_guard_forget_releases_and_expired_entries_are_purged() -> None:
    clock = [0.0]
    guard = MemoryReplayGuard(ttl=10, clock=lambda: clock[0])
    guard.check("a")
    guard.forget("a")
    guard.forget("never-seen")
    guard.check("a")
    for i in range(100):
        guard.check(f"k{i}")
    clock[0] = 11
    guard.check("fresh")
    assert list(guard._expiry) == ["fresh"]


def test_redis_guard_uses_set_nx_ex(redis_client: redis.Redis, redis_prefix: str) -> None:
    guard = RedisReplayGuard(redis_client, prefix=redis_prefix, ttl=600)
    guard.check("msg_1")
    with rejects("already received"):
        guard.check("msg_1")
    assert redis_client.get(redis_prefix + "msg_1") == b"1"
    assert 590 < redis_client.ttl(redis_prefix + "msg_1") <= 600
    # A second guard (another worker) sees the same claim.
    with rejects("already received"):
        RedisReplayGuard(redis_client, prefix=redis_prefix).check("msg_1")
    guard.forget("msg_1")
    guard.check("msg_1")


def test_redis_guard_expiry(redis_client: redis.Redis, redis_prefix: str) -> None:
    guard = RedisReplayGuard(redis_client, prefix=redis_prefix, ttl=1)
    guard.check("short")
    redis_client.pexpire(redis_prefix + "short", 1)
    import time

    time.sleep(0.05)
    guard.check("short")


async def test_async_redis_guard(async_redis_client: redis.asyncio.Redis, redis_prefix: str) -> None:
    guard = AsyncRedisReplayGuard(async_redis_client, prefix=redis_prefix, ttl=30)
    await guard.check("msg_9")
    try:
        await guard.check("msg_9")
    except WebhookReplayError as exc:
        assert exc.status_code == 409
    else:
        raise AssertionError("a repeat was accepted")
    assert 0 < await async_redis_client.ttl(redis_prefix + "msg_9") <= 30
    await guard.forget("msg_9")
    await guard.check("msg_9")


@pytest.mark.parametrize("ttl", [0, -5, math.nan, math.inf])
def test_a_ttl_that_remembers_nothing_or_forever_is_refused(ttl: float) -> None:
    # 0 or less forgot each id at once, so every replay got through; NaN never forgot one.
    with pytest.raises(ValueError, match="ttl must be"):
        MemoryReplayGuard(ttl=ttl)


@pytest.mark.parametrize("ttl", [0, 1.5, math.nan])
def test_a_redis_ttl_is_whole_seconds_more_than_0(redis_client: redis.Redis, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl must be a whole number"):
        RedisReplayGuard(redis_client, ttl=ttl)  # type: ignore[arg-type]
