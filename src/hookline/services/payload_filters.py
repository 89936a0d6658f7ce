"""Payload filters as the use-cases apply them: checked on write (a 422 naming the path),
compiled once per distinct filter, matched against a message at fan-out.

Any entry point that stores a filter (endpoints here, inbound gateway destinations) calls
``check`` with the location of the field, and ``accepts`` to decide a delivery.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from hookline.domain.filters import FilterError, compile_filter, format_path
from hookline.errors import Invalid

Matcher = Callable[[Mapping[str, Any]], bool]


def check(filter: object, location: Sequence[str]) -> dict[str, Any] | None:
    """The filter to store (None clears it), or Invalid naming the path of the problem."""
    if filter is None:
        return None
    try:
        compile_filter(filter)
    except FilterError as exc:
        where = [*location, *(str(step) for step in exc.path)]
        raise Invalid(where, f"filter {format_path(exc.path)}: {exc.reason}") from None
    assert isinstance(filter, dict)
    return filter


@lru_cache(maxsize=1024)
def _compiled(key: str) -> Matcher:
    return compile_filter(json.loads(key))


def matcher(filter: Mapping[str, Any]) -> Matcher:
    """The compiled predicate for a stored filter (cached: the fan-out is hot)."""
    return _compiled(json.dumps(filter, sort_keys=True, separators=(",", ":")))


def document(event_type: str, channels: Sequence[str] | None, payload: Any) -> dict[str, Any]:
    """What a filter is matched against."""
    return {"eventType": event_type, "channels": list(channels or []), "payload": payload}


def accepts(filter: Mapping[str, Any] | None, doc: Mapping[str, Any]) -> bool:
    """Whether a destination with ``filter`` takes the message ``doc`` (no filter: yes)."""
    if filter is None:
        return True
    try:
        return matcher(filter)(doc)
    except FilterError:
        return False  # stored before a stricter rule: it can match nothing
