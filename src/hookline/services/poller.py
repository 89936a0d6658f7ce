"""Polling: a consumer that cannot receive HTTP reads an endpoint's messages instead.

The sink is an ordinary endpoint (create it ``disabled`` when nothing should be pushed):
a poll returns the messages that endpoint's event-type and channel filters match, the
same rule push delivery uses, whether or not it is enabled. The iterator is a message id.

Messages become visible once they are ``SETTLE_MS`` old. Ids carry their creation time,
but concurrent publishers commit in any order; a cursor that moved past an id before that
message committed would skip it for good. The delay keeps every cursor behind commits.
"""

from dataclasses import dataclass

from hookline.domain.ids import id_floor
from hookline.domain.model import Endpoint, Message
from hookline.store import endpoints, poller
from hookline.store.database import Database, now_ms
from hookline.store.messages import matching_endpoints_for

SETTLE_MS = 1000
START = id_floor("msg", 0)
# Bounds one request's work when few messages match the filters.
_SCAN_BATCH = 500
_SCAN_MAX = 5000


@dataclass(frozen=True)
class Filters:
    event_type: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Batch:
    messages: list[Message]
    iterator: str
    done: bool


def _wanted(endpoint: Endpoint, row: Message, filters: Filters) -> bool:
    if filters.event_type is not None and row.event_type != filters.event_type:
        return False
    if filters.channel is not None and filters.channel not in (row.channels or ()):
        return False
    return matching_endpoints_for(endpoint, row.event_type, row.channels)


async def _read(db: Database, app_id: str, endpoint: Endpoint, start: str, limit: int, filters: Filters) -> Batch:
    below = id_floor("msg", now_ms() - SETTLE_MS)
    found: list[Message] = []
    position, scanned = start, 0
    async with db.read() as conn:
        while len(found) < limit and scanned < _SCAN_MAX:
            rows = await poller.messages_after(conn, app_id, position, below, _SCAN_BATCH)
            for row in rows:
                position = row.id
                scanned += 1
                if _wanted(endpoint, row, filters):
                    found.append(row)
                    if len(found) == limit:
                        break
            if len(rows) < _SCAN_BATCH:
                return Batch(found, position, done=len(found) < limit)
    return Batch(found, position, done=False)


async def _endpoint(db: Database, app_id: str, sink_id: str) -> Endpoint:
    async with db.read() as conn:
        return await endpoints.get(conn, app_id, sink_id)


async def poll(db: Database, app_id: str, sink_id: str, start: str, limit: int, filters: Filters) -> Batch:
    """The matching messages after ``start``; nothing is remembered."""
    return await _read(db, app_id, await _endpoint(db, app_id, sink_id), start, limit, filters)


async def consume(db: Database, app_id: str, sink_id: str, consumer_id: str, start: str | None, limit: int) -> Batch:
    """The consumer's next messages (from ``start``, else where it stopped); its cursor moves past them."""
    endpoint = await _endpoint(db, app_id, sink_id)
    if start is None:
        async with db.read() as conn:
            start = await poller.position(conn, endpoint.id, consumer_id) or START
    batch = await _read(db, app_id, endpoint, start, limit, Filters())
    async with db.write() as conn:
        await poller.save_position(conn, app_id, endpoint.id, consumer_id, batch.iterator)
    return batch


async def seek(db: Database, app_id: str, sink_id: str, consumer_id: str, after_ms: int) -> str:
    """Move the consumer so that its next poll starts with messages created at ``after_ms``."""
    endpoint = await _endpoint(db, app_id, sink_id)
    position = id_floor("msg", after_ms)
    async with db.write() as conn:
        await poller.save_position(conn, app_id, endpoint.id, consumer_id, position)
    return position
