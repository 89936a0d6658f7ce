"""Prefixed, time-sortable ids such as ``msg_2bGk...``.

An id is 48 bits of Unix milliseconds followed by 80 random bits, written in
fixed-width base62 whose alphabet is in ASCII order, so ids sort by creation
time as plain strings. That is what lets list pagination use the id as its
cursor.
"""

import secrets
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


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """Return a fresh id with ``prefix``; ``now_ms`` pins its time part."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    number = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    return f"{prefix}_{_encode(number)}"


def id_floor(prefix: str, at_ms: int) -> str:
    """The smallest id that could have been made at ``at_ms``: a time cursor."""
    return f"{prefix}_{_encode((at_ms & ((1 << 48) - 1)) << 80)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 1 + _WIDTH
