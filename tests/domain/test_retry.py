"""Retry policy: schedule, jitter, Retry-After bounds, 410."""

import random

import pytest

from hookline.domain.retry import DEFAULT_SCHEDULE, next_retry, parse_retry_after, parse_schedule, plan_after_attempt


def test_default_schedule_is_svix() -> None:
    assert DEFAULT_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)


def test_jitter_stays_within_twenty_percent() -> None:
    rng = random.Random(1)
    delays = [next_retry(DEFAULT_SCHEDULE, 2, rng=rng).delay for _ in range(500)]
    assert min(delays) >= 240 and max(delays) <= 360
    assert max(delays) - min(delays) > 60  # it does vary


def test_schedule_runs_out() -> None:
    assert next_retry((1.0, 1.0), 2).retry
    assert not next_retry((1.0, 1.0), 3).retry


def test_retry_after_is_capped_at_twice_the_schedule() -> None:
    rng = random.Random(0)
    assert next_retry((10.0,), 1, retry_after=15, rng=rng).delay == 15
    assert next_retry((10.0,), 1, retry_after=3600, rng=rng).delay == 20


def test_plans() -> None:
    assert plan_after_attempt(204, 1, (1.0,), None, 0).succeeded
    gone = plan_after_attempt(410, 1, (1.0,), None, 0)
    assert not gone.succeeded and gone.next_attempt_at is None and gone.disable_endpoint
    retry = plan_after_attempt(500, 1, (1.0,), None, 1000)
    assert retry.next_attempt_at is not None and 1800 <= retry.next_attempt_at <= 2200
    assert plan_after_attempt(302, 2, (1.0,), None, 0).next_attempt_at is None


def test_parsing() -> None:
    assert parse_schedule("1, 2,3") == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError):
        parse_schedule("1,-2")
    with pytest.raises(ValueError):
        parse_schedule("")
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after(None) is None
