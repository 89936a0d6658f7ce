"""The message filter (event types, channel, time window) as SQL, written once for every listing."""

from typing import Any

from sqlalchemy import ColumnElement, Text, cast

from hookline.domain.ids import id_floor
from hookline.domain.model import MessageFilter
from hookline.store import tables as t

m = t.message


def channel_filter(column: Any, channel: str) -> ColumnElement[bool]:
    """``channel`` is in the JSON list ``column``. Channels (and tags) are [a-zA-Z0-9-_./#]:
    only "_" needs escaping for LIKE, and none is escaped in JSON."""
    return cast(column, Text).like('%"' + channel.replace("_", "\\_") + '"%', escape="\\")


def time_window(ids: Any, prefix: str, before_ms: int | None, after_ms: int | None) -> list[ColumnElement[bool]]:
    """Rows created before / after a time, through their time-sortable ``ids``."""
    conditions = []
    if before_ms is not None:
        conditions.append(ids < id_floor(prefix, before_ms))
    if after_ms is not None:
        conditions.append(ids >= id_floor(prefix, after_ms + 1))
    return conditions


def message_conditions(f: MessageFilter, *, ids: Any, prefix: str) -> list[ColumnElement[bool]]:
    """``f`` over a query that includes the message table; the time window applies to
    ``ids`` (the message's, or an attempt's: ``prefix`` names which)."""
    conditions = time_window(ids, prefix, f.before_ms, f.after_ms)
    if f.channel:
        conditions.append(channel_filter(m.c.channels, f.channel))
    if f.tag:
        conditions.append(channel_filter(m.c.tags, f.tag))
    if f.event_types:
        conditions.append(m.c.event_type.in_(f.event_types))
    return conditions
