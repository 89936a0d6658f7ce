"""Prefixed, time-sortable ids such as ``msg_2bGk...``.

An id is 48 bits of Unix milliseconds followed by 80 random bits, written in
fixed-width base62 whose alphabet is in ASCII order, so ids sort by creation
time as plain strings. That is what lets list pagination use the id as its
cursor.

Within one process, ids made in the same millisecond also sort in the order they were
made: they would otherwise sort by their random bits, and a tenant's messages, published
one after another, would be listed out of order.
"""

import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 22  # 62**22 > 2**128


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two digits at a time: half the divisions


def _encode(number: int) -> str:
    pairs = []
    for _ in range(_WIDTH // 2):
        number, rem = divmod(number, 62 * 62)
        pairs.append(_PAIRS[rem])
    pairs.reverse()
    return "".join(pairs)


_TIME_MASK = (1 << 48) - 1
_RANDOM_BITS = 80
_STEP_BITS = 32  # the random step past the previous id: ids made in one millisecond stay unguessable
_lock = threading.Lock()
_RECENT = 256
_greatest: dict[int, int] = {}  # millisecond: the greatest id made in it, for the latest few


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """Return a fresh id with ``prefix``; ``now_ms`` pins its time part. An id is greater than
    every id this process made before in the same millisecond, pinned or not (ids of other
    milliseconds made in between, such as an attempt's, change nothing)."""
    random = secrets.randbits(_RANDOM_BITS)
    with _lock:
        # The clock is read under the lock: one thread cannot make an id of an earlier
        # millisecond after another has made one of a later.
        millis = (int(time.time() * 1000) if now_ms is None else now_ms) & _TIME_MASK
        number = millis << _RANDOM_BITS | random
        greatest = _greatest.get(millis)
        if greatest is not None and number <= greatest:
            # Past it by a random step (its time part moves on only past 2**80 steps).
            number = greatest + 1 + secrets.randbits(_STEP_BITS)
        _greatest[millis] = number
        if len(_greatest) > _RECENT:
            del _greatest[next(iter(_greatest))]  # the millisecond first seen longest ago
    return f"{prefix}_{_encode(number)}"


def id_floor(prefix: str, at_ms: int) -> str:
    """The smallest id that could have been made at ``at_ms``: a time cursor."""
    return f"{prefix}_{_encode((at_ms & _TIME_MASK) << _RANDOM_BITS)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 1 + _WIDTH
