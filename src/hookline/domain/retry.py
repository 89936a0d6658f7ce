"""When to try a failed delivery again."""

import math
import random
from dataclasses import dataclass

# Svix's schedule: after the immediate first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2


def parse_schedule(text: str) -> tuple[float, ...]:
    """Parse ``"1,1,1"`` into delays in seconds; raise ValueError when malformed."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("retry schedule is empty")
    delays = tuple(float(p) for p in parts)
    if not all(math.isfinite(d) for d in delays):  # nan or inf failed the first retry it planned
        raise ValueError("retry delays must be finite numbers of seconds")
    if any(d < 0 for d in delays):
        raise ValueError("retry delays must not be negative")
    return delays


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0


def next_retry(
    schedule: tuple[float, ...],
    attempts_made: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Decide after ``attempts_made`` failed attempts whether and when to try again.

    ``Retry-After`` from the receiver is honoured, but never beyond twice the
    scheduled delay, so a hostile receiver cannot park a delivery forever.
    """
    index = attempts_made - 1
    if index >= len(schedule):
        return RetryDecision(retry=False)
    base = schedule[index]
    delay = base * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 2 * base))
    return RetryDecision(retry=True, delay=delay)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; dates are ignored."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class Plan:
    """What to do with a delivery after one attempt."""

    succeeded: bool
    next_attempt_at: int | None  # ms; None means no further attempt
    disable_endpoint: bool = False


def plan_after_attempt(
    status_code: int,
    attempts_made: int,
    schedule: tuple[float, ...],
    retry_after: str | None,
    now_ms: int,
    rng: random.Random | None = None,
    *,
    blocked: bool = False,
) -> Plan:
    """2xx succeeds; 410 Gone stops and disables; a request the SSRF guard refused stops
    (the address will not become allowed by waiting); anything else retries on schedule."""
    if 200 <= status_code < 300:
        return Plan(succeeded=True, next_attempt_at=None)
    if blocked:
        return Plan(succeeded=False, next_attempt_at=None)
    if status_code == 410:
        return Plan(succeeded=False, next_attempt_at=None, disable_endpoint=True)
    decision = next_retry(schedule, attempts_made, parse_retry_after(retry_after), rng)
    if not decision.retry:
        return Plan(succeeded=False, next_attempt_at=None)
    return Plan(succeeded=False, next_attempt_at=now_ms + int(decision.delay * 1000))
