"""Rate limits as GCRA: each key keeps a theoretical arrival time (TAT).

A rate of ``r`` per second spaces sends ``1000 / r`` ms apart. Storing only the
TAT (in the database) makes the limit hold across any number of processes,
because claims that change it are serialized.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    admitted: int
    tat: int  # the new theoretical arrival time, ms


def interval_ms(rate_per_second: int) -> float:
    return 1000.0 / rate_per_second


def admit(tat: int | None, now: int, rate_per_second: int, want: int, burst: int = 1) -> Admission:
    """Admit up to ``want`` sends at ``now``; ``burst`` sends may go back to back."""
    step = interval_ms(rate_per_second)
    start = max(tat or 0, now)
    # Sends whose arrival time is within the burst allowance of now are admitted.
    room = int((now + burst * step - start) // step) if start < now + burst * step else 0
    count = max(0, min(want, room))
    return Admission(admitted=count, tat=int(start + count * step))


def blocked_until(tat: int | None, rate_per_second: int, burst: int = 1) -> int:
    """The earliest ms at which one more send would be admitted."""
    if tat is None:
        return 0
    return math.ceil(tat - (burst - 1) * interval_ms(rate_per_second))


@dataclass(frozen=True)
class Verdict:
    """One request against a requests-per-second limit (burst of the same size)."""

    tat: int  # the state to keep (unchanged when refused)
    retry_after_ms: int | None  # None: admitted


def take_one(tat: int | None, now: int, rate_per_second: int) -> Verdict:
    """Admit one request at ``now`` under a limit of ``rate_per_second`` with as large a burst."""
    admission = admit(tat, now, rate_per_second, 1, burst=rate_per_second)
    if admission.admitted:
        return Verdict(admission.tat, None)
    return Verdict(tat or 0, max(1, blocked_until(tat, rate_per_second, rate_per_second) - now))
