"""/api/v1/app/{app}/poller/{sink}: pull an endpoint's messages instead of receiving them.

``sink_id`` is an endpoint's id or uid. ``consumer/{consumer_id}`` keeps a durable cursor
per consumer in the database; ``seek`` moves it to a time.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field

from hookline.api.deps import ID_PATTERN, AppId, Auth, ChannelQuery, Db, IdempotencyKey, Limit, load_app, to_ms
from hookline.api.errors import ApiError
from hookline.api.schemas import Model, Name, ms_to_datetime
from hookline.domain.ids import has_prefix, id_floor
from hookline.domain.model import Message
from hookline.services import messages, poller

router = APIRouter(prefix="/api/v1/app/{app_id}/poller/{sink_id}", tags=["Message"])
SinkId = Annotated[str, Path(description="The endpoint's id or uid", min_length=1, max_length=256, pattern=ID_PATTERN)]
ConsumerId = Annotated[str, Path(min_length=1, max_length=256, pattern=ID_PATTERN)]
PollIterator = Annotated[
    str | None, Query(max_length=64, pattern=r"^msg_[A-Za-z0-9]+$", description="A message id: continue after it")
]


class PollingMessageOut(Model):
    id: str
    event_type: str
    event_id: str | None
    payload: dict[str, Any]
    channels: list[str] | None
    timestamp: datetime
    tags: list[str] | None = None
    deliver_at: datetime | None = Field(
        default=None, description="A scheduled message: a poll hands it over at once, with the time it is due"
    )


class PollingOut(Model):
    data: list[PollingMessageOut]
    iterator: str
    done: bool


class SeekIn(Model):
    model_config = ConfigDict(extra="forbid")
    after: datetime


class SeekOut(Model):
    iterator: str


def _invalid(field: str, msg: str) -> ApiError:
    # The shape of a validation error, which the SDKs parse for 422s.
    return ApiError(422, "validation", [{"loc": ["query", field], "msg": msg, "type": "value_error"}])


def _start(iterator: str | None) -> str | None:
    if iterator is not None and not has_prefix(iterator, "msg"):
        raise _invalid("iterator", "not an iterator this endpoint returned")
    return iterator


def _out(batch: poller.Batch) -> PollingOut:
    def message(row: Message) -> PollingMessageOut:
        return PollingMessageOut(
            id=row.id,
            event_type=row.event_type,
            event_id=row.event_id,
            payload=messages.payload_object(row),
            channels=row.channels,
            timestamp=ms_to_datetime(row.created_at),
            tags=row.tags,
            deliver_at=None if row.deliver_at is None else ms_to_datetime(row.deliver_at),
        )

    return PollingOut(data=[message(r) for r in batch.messages], iterator=batch.iterator, done=batch.done)


@router.get("", response_model=PollingOut, operation_id="v1.message.poller.poll")
async def poll(
    app_id: AppId,
    sink_id: SinkId,
    who: Auth,
    db: Db,
    limit: Limit = 50,
    iterator: PollIterator = None,
    event_type: Annotated[Name | None, Query()] = None,
    channel: ChannelQuery = None,
    after: Annotated[datetime | None, Query(description="Start with messages created at this time")] = None,
) -> PollingOut:
    """The endpoint's messages after ``iterator`` (or from ``after``, or from the oldest kept)."""
    app = await load_app(db, who, app_id)
    start = _start(iterator)
    if after is not None:
        if start is not None:
            raise _invalid("after", "give either iterator or after, not both")
        start = id_floor("msg", to_ms(after) or 0)
    filters = poller.Filters(event_type=event_type, channel=channel)
    return _out(await poller.poll(db, app.id, sink_id, start or poller.START, limit, filters))


@router.get("/consumer/{consumer_id}", response_model=PollingOut, operation_id="v1.message.poller.consumer-poll")
async def consumer_poll(
    app_id: AppId,
    sink_id: SinkId,
    consumer_id: ConsumerId,
    who: Auth,
    db: Db,
    limit: Limit = 50,
    iterator: PollIterator = None,
) -> PollingOut:
    """The consumer's next messages; its cursor moves past them (``iterator`` overrides where it starts)."""
    app = await load_app(db, who, app_id)
    return _out(await poller.consume(db, app.id, sink_id, consumer_id, _start(iterator), limit))


@router.post("/consumer/{consumer_id}/seek", response_model=SeekOut, operation_id="v1.message.poller.consumer-seek")
async def consumer_seek(
    app_id: AppId,
    sink_id: SinkId,
    consumer_id: ConsumerId,
    body: SeekIn,
    who: Auth,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> SeekOut:
    """Move the consumer's cursor: its next poll starts with the messages created at ``after``."""
    app = await load_app(db, who, app_id)
    return SeekOut(iterator=await poller.seek(db, app.id, sink_id, consumer_id, to_ms(body.after) or 0))
