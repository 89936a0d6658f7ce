"""Messages, and their fan-out into deliveries in the same transaction."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.claim import fifo_key, starts_due
from hookline.domain.ids import new_id
from hookline.domain.matching import endpoint_matches
from hookline.domain.model import Application, DeliveryStatus, Endpoint, EventType, Message, MessageFilter, Trigger
from hookline.store import raw, records
from hookline.store import tables as t
from hookline.store.database import WORK_CHANNEL, Conn, notify_work, now_ms, work_origin
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.filters import message_conditions
from hookline.store.pagination import Page, paginate
from hookline.store.tables import Row

msg = t.message
DAY_MS = 86_400_000
# Plain ints in bound parameters: drivers need not know our enums.
_PENDING = int(DeliveryStatus.PENDING)


@dataclass(frozen=True)
class NewMessage:
    app_id: str
    event_type: str
    payload: bytes
    event_id: str | None = None
    channels: Sequence[str] | None = None
    retention_days: int = 90
    # A received request passed on as is (inbound gateway): its Content-Type and the
    # headers to forward, as [name, value] pairs.
    content_type: str | None = None
    headers: Sequence[Sequence[str]] | None = None
    forward_path: str | None = None  # what goes after each destination's URL (domain/ingest.py)
    retention_hours: int | None = None  # overrides retention_days
    tags: Sequence[str] | None = None
    deliver_at: int | None = None  # hold the deliveries until then (ms)
    schema_version: str | None = None
    schema_warning: str | None = None
    ordering_key: str | None = None


def matching_endpoints(endpoints: Sequence[Row], new: NewMessage) -> list[Row]:
    return [
        e
        for e in endpoints
        if endpoint_matches(
            disabled=e["disabled"],
            endpoint_event_types=e["event_types"],
            endpoint_channels=e["channels"],
            event_type=new.event_type,
            message_channels=new.channels,
        )
    ]


# The publish path's statements, on the driver (store/raw.py): building and running them
# through SQLAlchemy cost more than the database work.
_LIVE_COLUMNS = ("id", "disabled", "event_types", "channels", "filter", "fifo")
_LIVE_ENDPOINTS = raw.Statement(
    "SELECT id, disabled, event_types, channels, filter, fifo FROM endpoint WHERE app_id = :app_id AND NOT disabled"
)
_MESSAGE_COLUMNS = (
    "id", "app_id", "event_type", "event_id", "payload", "channels", "created_at", "content_type", "headers",
    "payload_expires_at", "tags", "deliver_at", "schema_version", "schema_warning", "ordering_key", "forward_path",
)  # fmt: skip
_MESSAGE_JSON = ("channels", "headers", "tags")
_INSERT_MESSAGE = raw.Statement.insert("message", _MESSAGE_COLUMNS)
_DELIVERY_COLUMNS = (
    "id", "msg_id", "endpoint_id", "app_id", "status", "attempts", "next_attempt_at", "locked_until", "trigger",
    "created_at", "updated_at", "fifo_key", "fifo_seq",
)  # fmt: skip
_INSERT_DELIVERY = raw.Statement.insert("delivery", _DELIVERY_COLUMNS)


# PostgreSQL: messages, their deliveries (none of them FIFO) and the workers' wake-up in one
# statement, one round trip for a whole batch of publishes (services.publishing).
_DELIVERY_ARRAYS = ("id", "msg_id", "endpoint_id", "app_id", "next_attempt_at", "created_at")
_MESSAGE_ARRAYS = {"payload": "bytea", "created_at": "bigint", "payload_expires_at": "bigint", "deliver_at": "bigint"}


def _insert_many_sql() -> str:
    messages = raw.insert_from_arrays(
        "message", _MESSAGE_COLUMNS, prefix="m_", types=_MESSAGE_ARRAYS, json=_MESSAGE_JSON
    )
    deliveries = (
        f"INSERT INTO delivery ({', '.join(_DELIVERY_COLUMNS)}) SELECT u.id, u.msg_id, u.endpoint_id, u.app_id,"  # noqa: S608
        " CAST(:status AS smallint), 0, u.next_attempt_at, NULL, CAST(:trigger AS smallint), u.created_at,"
        " u.created_at, NULL, NULL FROM unnest(CAST(:d_id AS text[]), CAST(:d_msg_id AS text[]),"
        " CAST(:d_endpoint_id AS text[]), CAST(:d_app_id AS text[]), CAST(:d_next_attempt_at AS bigint[]),"
        f" CAST(:d_created_at AS bigint[])) AS u({', '.join(_DELIVERY_ARRAYS)})"
    )
    return f"WITH m AS ({messages}), d AS ({deliveries}) SELECT pg_notify('{WORK_CHANNEL}', :origin)"


_INSERT_MANY = raw.Statement(_insert_many_sql())


async def insert_deliveries(conn: Conn, rows: Sequence[dict[str, Any]]) -> None:
    """Store new deliveries (rows of ``new_delivery``)."""
    await raw.execute_many(conn, _INSERT_DELIVERY, rows)


def matching_endpoints_for(endpoint: Endpoint, event_type: str, channels: Sequence[str] | None) -> bool:
    """Whether ``endpoint`` would receive a message of this type and channels (ignoring
    whether it is disabled: replays are asked for explicitly)."""
    return endpoint_matches(
        disabled=False,
        endpoint_event_types=endpoint.event_types,
        endpoint_channels=endpoint.channels,
        event_type=event_type,
        message_channels=channels,
    )


_PUBLISH_FACTS = """SELECT a.id, a.uid, a.name, a.metadata, a.throttle_rate, a.created_at, a.updated_at, a.internal,
 t.name, t.description, t.archived, t.deprecated, t.schemas, t.feature_flag, t.created_at, t.updated_at,
 t.schema_validation, (SELECT {endpoints} FROM endpoint e WHERE e.app_id = a.id AND NOT e.disabled)
 FROM (SELECT id, uid, name, metadata, throttle_rate, created_at, updated_at, internal FROM application
 WHERE id = :key OR uid = :key ORDER BY CASE WHEN id = :key THEN 0 ELSE 1 END LIMIT 1) a
 LEFT JOIN event_type t ON t.name = :event_type"""
_FACTS = raw.Statement(
    _PUBLISH_FACTS,
    sqlite=_PUBLISH_FACTS.format(
        endpoints="json_group_array(json_array(e.id, e.disabled, json(e.event_types), json(e.channels),"
        " json(e.filter), e.fifo))"
    ),
    postgresql=_PUBLISH_FACTS.format(
        endpoints="json_agg(json_build_array(e.id, e.disabled, e.event_types, e.channels, e.filter, e.fifo))"
    ),
)


@dataclass(frozen=True)
class PublishFacts:
    """What a publish decides on, read in one statement (one round trip on PostgreSQL)."""

    app: Application
    event_type: EventType | None
    endpoints: Sequence[Row]  # the application's enabled endpoints, as ``candidates`` reads them


async def publish_facts(conn: Conn, app_key: str, event_type: str) -> PublishFacts | None:
    """The application ``app_key`` (id or uid, as ``applications.find``), the event type, and
    the application's enabled endpoints; None when there is no such application."""
    found = await raw.rows(conn, _FACTS, {"key": app_key, "event_type": event_type}, json=(3, 12, 17))
    if not found:
        return None
    row = found[0]
    app = Application(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))
    known = None
    if row[8] is not None:
        known = EventType(row[8], row[9], bool(row[10]), bool(row[11]), row[12], row[13], row[14], row[15], row[16])
    endpoints = [dict(zip(_LIVE_COLUMNS, e, strict=True)) for e in row[17] or ()]
    return PublishFacts(app, known, endpoints)


async def live_endpoints(conn: Conn, app_id: str) -> list[Row]:
    """The application's enabled endpoints, as ``candidates`` reads them: for several
    messages to one application, read once and matched to each (``matching_endpoints``)."""
    found = await raw.rows(conn, _LIVE_ENDPOINTS, {"app_id": app_id}, json=(2, 3, 4))
    return [dict(zip(_LIVE_COLUMNS, row, strict=True)) for row in found]


async def candidates(conn: Conn, new: NewMessage) -> list[Row]:
    """The application's enabled endpoints whose event types and channels take ``new``
    (``id``, ``filter`` and ``fifo``: payload filters are the use-case's to apply)."""
    return matching_endpoints(await live_endpoints(conn, new.app_id), new)


async def _targets(conn: Conn, new: NewMessage) -> list[str]:
    return [e["id"] for e in await candidates(conn, new)]


async def _fifo_delivery(conn: Conn, row: dict[str, Any], key: str, now: int) -> dict[str, Any]:
    """Number the delivery in its endpoint's FIFO order and queue it behind the ones ahead.

    Taking the next number updates the endpoint row first: on PostgreSQL that row lock
    serializes publishes to one FIFO endpoint, so "is anything ahead?" cannot race.
    """
    ep = t.endpoint
    seq = (
        await conn.execute(
            update(ep)
            .where(ep.c.id == row["endpoint_id"])
            .values(fifo_next=ep.c.fifo_next + 1)
            .returning(ep.c.fifo_next)
        )
    ).scalar_one()
    ahead = exists().where(t.delivery.c.endpoint_id == row["endpoint_id"], t.delivery.c.fifo_key == key)
    empty = not (await conn.execute(select(ahead))).scalar()
    return {**row, "fifo_key": key, "fifo_seq": seq, "next_attempt_at": now if starts_due(empty) else None}


async def has_active_target(conn: Conn, app_id: str, event_type: str, channels: Sequence[str] | None) -> bool:
    """Whether a message of this type and channels would go to an enabled endpoint now."""
    return bool(await _targets(conn, NewMessage(app_id=app_id, event_type=event_type, payload=b"", channels=channels)))


async def create(
    conn: Conn,
    new: NewMessage,
    *,
    endpoint_ids: Sequence[str] | None = None,
    fifo_endpoints: Collection[str] | None = None,
    woken_here: bool = False,
) -> tuple[Message, int]:
    """Store the message and one due delivery per matching endpoint (or per
    ``endpoint_ids`` when given). Returns the message and the delivery count.
    Deliveries to FIFO endpoints (``fifo_endpoints``, looked up when not given) join
    their queue: due only when nothing is ahead of them.

    On PostgreSQL, without FIFO endpoints, this is one statement: it needs no transaction
    around it (``Database.autocommit``). ``woken_here``: see ``create_many``.
    """
    now = now_ms()
    row = _message_row(new, now)
    msg_id, due = row["id"], _due(new, now)
    targets = list(endpoint_ids) if endpoint_ids is not None else await _targets(conn, new)
    if targets and fifo_endpoints is None:
        query = select(t.endpoint.c.id).where(t.endpoint.c.id.in_(targets), t.endpoint.c.fifo.is_(True))
        fifo_endpoints = set((await conn.execute(query)).scalars())
    if targets and not fifo_endpoints:
        return (await create_many(conn, [(new, targets)], rows=[row], woken_here=woken_here))[0]
    try:
        await raw.execute(conn, _INSERT_MESSAGE, row)
    except IntegrityError as exc:
        raise ConflictError("a message with this eventId already exists") from exc
    if targets:  # FIFO endpoints among them
        rows = [new_delivery(msg_id, e, new.app_id, now) for e in targets]
        if fifo_endpoints:
            key = fifo_key(new.ordering_key, list(new.channels) if new.channels else None)
            rows = [await _fifo_delivery(conn, r, key, now) if r["endpoint_id"] in fifo_endpoints else r for r in rows]
        if due != now:  # scheduled: what would be due now is due then (FIFO followers stay queued)
            rows = [{**r, "next_attempt_at": due} if r["next_attempt_at"] is not None else r for r in rows]
        await insert_deliveries(conn, rows)
        await notify_work(conn)
    return _stored(new, msg_id, now), len(targets)


async def create_many(
    conn: Conn,
    batch: Sequence[tuple[NewMessage, Sequence[str]]],
    *,
    rows: Sequence[dict[str, Any]] | None = None,
    woken_here: bool = False,
) -> list[tuple[Message, int]]:
    """Store several messages and a due delivery to each of their endpoints (none of them
    FIFO): all of them or, on any error (a repeated event id), none. On PostgreSQL this is
    one statement, which also wakes the workers. The messages and their delivery counts.

    ``woken_here``: the caller wakes this process's engine itself, so the wake-up names this
    process (``work_origin``) and its own listener leaves it alone."""
    now = now_ms()
    rows = rows if rows is not None else [_message_row(new, now) for new, _ in batch]
    pairs = list(zip(rows, batch, strict=True))
    deliveries: list[dict[str, Any]] = []
    for row, (new, targets) in pairs:
        at, due = row["created_at"], _due(new, row["created_at"])
        deliveries += [{**new_delivery(row["id"], e, new.app_id, at), "next_attempt_at": due} for e in targets]
    try:
        if conn.dialect.name == "postgresql":
            params: dict[str, Any] = {f"m_{name}": [row[name] for row in rows] for name in _MESSAGE_COLUMNS}
            params |= {f"d_{name}": [d[name] for d in deliveries] for name in _DELIVERY_ARRAYS}
            params |= {"status": _PENDING, "trigger": int(Trigger.SCHEDULED)}
            await raw.rows(conn, _INSERT_MANY, params | {"origin": work_origin() if woken_here else ""})
        else:
            with raw.savepoint(conn):  # all or none, as the one statement is
                await raw.execute_many(conn, _INSERT_MESSAGE, rows)
                await insert_deliveries(conn, deliveries)
    except IntegrityError as exc:
        raise ConflictError("a message with this eventId already exists") from exc
    return [(_stored(new, row["id"], row["created_at"]), len(targets)) for row, (new, targets) in pairs]


def _due(new: NewMessage, now: int) -> int:
    return now if new.deliver_at is None else max(now, new.deliver_at)


def _message_row(new: NewMessage, now: int) -> dict[str, Any]:
    """The message's row, JSON columns encoded for the driver."""
    retention_ms = new.retention_hours * 3_600_000 if new.retention_hours is not None else new.retention_days * DAY_MS
    row: dict[str, Any] = {
        "id": new_id("msg", now),
        "app_id": new.app_id,
        "event_type": new.event_type,
        "event_id": new.event_id,
        "payload": new.payload,
        "channels": list(new.channels) if new.channels else None,
        "created_at": now,
        "content_type": new.content_type,
        "headers": [list(pair) for pair in new.headers] if new.headers is not None else None,
        "payload_expires_at": _due(new, now) + retention_ms,
        "tags": list(new.tags) if new.tags else None,
        "deliver_at": new.deliver_at,
        "schema_version": new.schema_version,
        "schema_warning": new.schema_warning,
        "ordering_key": new.ordering_key,
        "forward_path": new.forward_path,
    }
    for name in _MESSAGE_JSON:
        row[name] = raw.json_text(row[name])
    return row


def _stored(new: NewMessage, msg_id: str, now: int) -> Message:
    return Message(
        id=msg_id,
        app_id=new.app_id,
        event_type=new.event_type,
        event_id=new.event_id,
        payload=new.payload,
        channels=list(new.channels) if new.channels else None,
        created_at=now,
        tags=list(new.tags) if new.tags else None,
        deliver_at=new.deliver_at,
        schema_version=new.schema_version,
        schema_warning=new.schema_warning,
        ordering_key=new.ordering_key,
    )


def new_delivery(
    msg_id: str, endpoint_id: str, app_id: str, now: int, trigger: int = Trigger.SCHEDULED
) -> dict[str, Any]:
    return {
        "id": new_id("dlv", now),
        "msg_id": msg_id,
        "endpoint_id": endpoint_id,
        "app_id": app_id,
        "status": _PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "trigger": int(trigger),
        "created_at": now,
        "updated_at": now,
        "fifo_key": None,
        "fifo_seq": None,
    }


async def find(conn: Conn, app_id: str, id_or_event_id: str) -> Message | None:
    query = select(msg).where(msg.c.app_id == app_id, or_(msg.c.id == id_or_event_id, msg.c.event_id == id_or_event_id))
    row = (await conn.execute(query.limit(1))).mappings().first()
    return None if row is None else records.message(row)


async def get(conn: Conn, app_id: str, id_or_event_id: str) -> Message:
    found = await find(conn, app_id, id_or_event_id)
    if found is None:
        raise NotFoundError("message")
    return found


async def by_ids(conn: Conn, app_id: str, ids: Sequence[str]) -> dict[str, Message]:
    """The application's messages among ``ids``, by id."""
    if not ids:
        return {}
    rows = (await conn.execute(select(msg).where(msg.c.app_id == app_id, msg.c.id.in_(list(ids))))).mappings()
    return {row["id"]: records.message(row) for row in rows}


async def page(
    conn: Conn,
    app_id: str,
    f: MessageFilter,
    *,
    limit: int,
    iterator: str | None,
    status: DeliveryStatus | None = None,
) -> Page[Message]:
    """The application's messages matching ``f``, newest first; with ``status``, only those
    with a delivery (to any endpoint) in that status."""
    query = select(msg).where(msg.c.app_id == app_id, *message_conditions(f, ids=msg.c.id, prefix="msg"))
    if status is not None:
        d = t.delivery
        query = query.where(exists().where(d.c.msg_id == msg.c.id, d.c.status == int(status)))
    return await paginate(
        conn, query, msg.c.id, limit=limit, iterator=iterator, descending=True, record=records.message
    )


async def expunge_many(conn: Conn, app_id: str, keys: Sequence[str]) -> dict[str, bool]:
    """Delete the payloads of the application's messages ``keys`` (ids or event ids);
    for each key, whether it named a message."""
    found: dict[str, bool] = {}
    for key in keys:
        message = await find(conn, app_id, key)
        found[key] = message is not None
        if message is not None:
            await expunge(conn, message.id)
    return found


async def expunge_all(conn: Conn, app_id: str) -> int:
    """Delete the payloads of every message of the application; how many had one."""
    result = await conn.execute(
        update(msg).where(msg.c.app_id == app_id, msg.c.payload.is_not(None)).values(payload=None)
    )
    return int(result.rowcount or 0)


async def expunge(conn: Conn, msg_id: str) -> None:
    await conn.execute(update(msg).where(msg.c.id == msg_id).values(payload=None))
