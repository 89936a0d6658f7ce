"""Publishing: everything that makes deliveries due from a request, and wakes the engine
after the commit (publish, send an example, resend)."""

import functools
import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hookline import metrics
from hookline.domain.event_schemas import NAME as EVENT_TYPE_NAME
from hookline.domain.event_schemas import NAME_RULE, latest_version, validate_payload
from hookline.domain.model import Application, EventType, Message
from hookline.errors import Invalid, NotFound, TooLarge
from hookline.services import applications, payload_filters
from hookline.services import endpoints as endpoint_service
from hookline.services.batches import Coalesced
from hookline.services.context import Context, is_disconnect
from hookline.services.idempotency import KeyTaken, reserve_in
from hookline.store import endpoints as endpoint_store
from hookline.store import event_types, idempotency, messages, queue
from hookline.store.database import Conn, Database, now_ms
from hookline.store.errors import ConflictError


@dataclass(frozen=True, slots=True)
class Publish:
    """A message to publish, as the producer sent it."""

    event_type: str
    payload: dict[str, Any]
    event_id: str | None = None
    channels: Sequence[str] | None = None
    retention_days: int = 90
    application: dict[str, Any] | None = None  # create the application with these fields if missing
    retention_hours: int | None = None  # overrides retention_days
    tags: Sequence[str] | None = None
    deliver_at_ms: int | None = None  # a scheduled message: no delivery before then
    schema_version: str | None = None  # the event type's schema version the payload follows
    ordering_key: str | None = None  # its FIFO order on FIFO endpoints (default: its channels)


@dataclass(frozen=True, slots=True)
class Keyed:
    """A publish whose POST carries an ``idempotency-key``, as every svix SDK's does. Its key
    is reserved, and its answer stored for replay, in the write that stores the message: one
    commit where a reservation before and an answer after cost two more."""

    key_hash: str
    status: int
    render: Callable[[Message], bytes]  # the answer's body


# How far ahead a message may be scheduled: further is refused (422 naming deliverAt).
SCHEDULE_HORIZON_DAYS = 30


def check_schema(known: EventType | None, new: Publish) -> tuple[str | None, str | None]:
    """The schema version the message is published under, and (``warn``) why its payload fails
    it (counted once the message is stored). Invalid for a version the event type lacks, or
    (``enforce``) a payload that fails."""
    schemas = known.schemas if known is not None else None
    version = new.schema_version
    if version is not None and (not schemas or version not in schemas):
        have = ", ".join(sorted(schemas or {}, key=int)) or "none"
        raise Invalid(
            ["body", "schemaVersion"], f"event type {new.event_type!r} has no schema version {version}; it has: {have}"
        )
    if not schemas or known is None:
        return version, None
    version = version or latest_version(schemas)
    if known.schema_validation == "off":
        return version, None
    failure = validate_payload(schemas, new.payload, version)
    if failure is None:
        return version, None
    where, reason = failure
    if known.schema_validation == "enforce":
        location = ["body", "payload", *(p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:])]
        raise Invalid(
            location,
            f"the payload does not match schema version {version} of {new.event_type!r} "
            f"at {where or '/'} (JSON pointer): {reason}",
        )
    return version, f"{where or '/'}: {reason}"


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact JSON bytes; integers beyond 64 bits (valid JSON) take the slow path."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def publish(ctx: Context, app_key: str, new: Publish, *, tenant: str | None) -> Message:
    """Store the message with one delivery per matching endpoint, in one transaction.

    An admin (``tenant`` None) that sends ``application`` creates a missing application
    (uid ``app_key`` unless the fields name one). Raises TooLarge over the payload limit.
    """
    message, _ = await _publish(ctx, app_key, new, tenant, None)
    return message


async def publish_keyed(ctx: Context, app_key: str, new: Publish, *, tenant: str | None, keyed: Keyed) -> bytes:
    """``publish`` for a request with an idempotency key: the answer's body, stored with the
    message for replay. Raises KeyTaken (nothing stored) when an earlier request has the key."""
    _, body = await _publish(ctx, app_key, new, tenant, keyed)
    assert body is not None  # a keyed publish that stored its message stored its answer
    return body


async def _publish(
    ctx: Context, app_key: str, new: Publish, tenant: str | None, keyed: Keyed | None
) -> tuple[Message, bytes | None]:
    now = now_ms()
    payload = encode_payload(new.payload)
    limit = ctx.settings.max_payload_bytes
    if len(payload) > limit:
        raise TooLarge(f"payload is {len(payload)} bytes; the limit is {limit}")
    # The usual case (a known application, no FIFO endpoint) is stored together with the
    # publishes that arrive at the same time: one facts read and one insert for all of them.
    stored = await _batches(ctx.db)(_Waiting(app_key, new, tenant, now, payload, keyed))
    if stored is not None:
        message, queued, targets, body = stored
        return _published(ctx, message, queued, targets), body
    body = None
    async with ctx.db.write() as conn:
        if keyed is not None:
            (earlier,) = await reserve_in(conn, [keyed.key_hash])
            if earlier is not None:
                raise KeyTaken(earlier)
        facts = _visible(await messages.publish_facts(conn, app_key, new.event_type), tenant)
        if facts is None:
            if new.application is None or tenant is not None:
                raise NotFound("application")
            fields = {**new.application, "uid": new.application.get("uid") or app_key}
            app, _ = await applications.get_or_create(conn, fields, app_key)
            plan = _plan(new, app, await event_types.find(conn, new.event_type), (), now, payload)
        else:
            if facts.app.internal:  # its owner (ingest, operational events) publishes beneath the API
                await applications.refuse_owned(conn, facts.app)
            plan = _plan(new, facts.app, facts.event_type, facts.endpoints, now, payload)
        message, queued = await messages.create(
            conn, plan.stored, endpoint_ids=plan.targets, fifo_endpoints=plan.fifo, woken_here=True
        )
        if keyed is not None:
            body = keyed.render(message)
            await idempotency.settle_many(conn, [(keyed.key_hash, keyed.status, body)], [])
    return _published(ctx, message, queued, plan.targets), body


def _visible(facts: messages.PublishFacts | None, tenant: str | None) -> messages.PublishFacts | None:
    """The facts, unless their application belongs to another tenant than the caller's."""
    return None if facts is None or (tenant is not None and facts.app.id != tenant) else facts


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A publish waiting for its batch. What becomes of it: the message and its delivery
    count once stored; None when it needs a transaction of its own (a missing application,
    another tenant's, one of hookline's own, or FIFO endpoints)."""

    app_key: str
    new: Publish
    tenant: str | None
    now: int
    payload: bytes
    keyed: Keyed | None = None


# The message, its delivery count, the endpoints they go to and, for a keyed publish, the
# answer stored for replay.
_Stored = tuple[Message, int, Sequence[str], bytes | None]
_Outcome = _Stored | Exception | None


async def _store(db: Database, batch: list[_Waiting]) -> list[_Outcome]:
    """What became of each publish of the batch, known once it is committed."""
    outcomes: list[_Outcome] = [None] * len(batch)
    async with db.autocommit() as conn:
        facts = {}
        for app_key, event_type in dict.fromkeys((w.app_key, w.new.event_type) for w in batch):
            facts[app_key, event_type] = await messages.publish_facts(conn, app_key, event_type)
        ready: list[tuple[int, _Plan]] = []
        for i, waiting in enumerate(batch):
            found = _visible(facts[waiting.app_key, waiting.new.event_type], waiting.tenant)
            if found is None or found.app.internal:  # refused in a transaction of its own
                continue
            try:
                plan = _plan(waiting.new, found.app, found.event_type, found.endpoints, waiting.now, waiting.payload)
            except Exception as exc:  # Invalid: this publish's own fault
                outcomes[i] = exc
                continue
            if not plan.fifo:
                ready.append((i, plan))
        keys = {i: keyed for i, _ in ready if (keyed := batch[i].keyed) is not None}
        if keys:
            earlier = await reserve_in(conn, [keyed.key_hash for keyed in keys.values()])
            for i, taken in zip(list(keys), earlier, strict=True):
                if taken is not None:  # not this request's key: it publishes nothing
                    outcomes[i] = KeyTaken(taken)
                    del keys[i]
            ready = [(i, plan) for i, plan in ready if outcomes[i] is None]
        try:
            await _create(conn, ready, outcomes)
        except Exception:
            # On SQLite the failed write undoes the reservations; on PostgreSQL they committed.
            if conn.dialect.name == "postgresql":
                await _settle_keys(conn, [], [keyed.key_hash for keyed in keys.values()])
            raise
        await _keep_answers(conn, keys, outcomes)
    return outcomes


async def _create(conn: Conn, ready: list[tuple[int, "_Plan"]], outcomes: list[_Outcome]) -> None:
    if not ready:
        return
    try:
        stored = await messages.create_many(conn, [(plan.stored, plan.targets) for _, plan in ready], woken_here=True)
    except ConflictError:
        # A repeated event id among them: each alone, so that only a repeat fails.
        for i, plan in ready:
            try:
                message, queued = await messages.create(
                    conn, plan.stored, endpoint_ids=plan.targets, fifo_endpoints=(), woken_here=True
                )
                outcomes[i] = (message, queued, plan.targets, None)
            except ConflictError as exc:
                outcomes[i] = exc
    else:
        for (i, plan), (message, queued) in zip(ready, stored, strict=True):
            outcomes[i] = (message, queued, plan.targets, None)


async def _keep_answers(conn: Conn, keys: Mapping[int, Keyed], outcomes: list[_Outcome]) -> None:
    """Store the answers of the batch's keyed publishes for replay, and free the keys of those
    that failed (a repeated event id), for the client's retry."""
    done: list[tuple[str, int, bytes]] = []
    released: list[str] = []
    for i, keyed in keys.items():
        outcome = outcomes[i]
        if isinstance(outcome, tuple):
            body = keyed.render(outcome[0])
            outcomes[i] = (*outcome[:3], body)
            done.append((keyed.key_hash, keyed.status, body))
        else:
            released.append(keyed.key_hash)
    await _settle_keys(conn, done, released)


async def _settle_keys(conn: Conn, done: list[tuple[str, int, bytes]], released: list[str]) -> None:
    """Store answers and free keys. A lost database leaves the keys pending, and a retry takes
    them over after a minute (store/idempotency.py): on PostgreSQL the batch's messages are
    committed already, so that is no reason to fail their publishes."""
    if not done and not released:
        return
    try:
        await idempotency.settle_many(conn, done, released)
    except Exception as exc:
        if not is_disconnect(exc):
            raise


# Publishes that arrive while a batch is being stored wait, and are stored together next:
# one read of the application's facts and one insert (on PostgreSQL one statement, which
# needs no transaction; on SQLite one writer of the group commit) for all of them. A publish
# whose request went away meanwhile stays stored.
_BATCHES: "weakref.WeakKeyDictionary[Database, Coalesced[_Waiting, _Stored | None]]" = weakref.WeakKeyDictionary()


def _batches(db: Database) -> Coalesced[_Waiting, _Stored | None]:
    """This database handle's batches: one per server process."""
    found = _BATCHES.get(db)
    if found is None:
        found = _BATCHES[db] = Coalesced(functools.partial(_store, db))
    return found


@dataclass(frozen=True, slots=True)
class _Plan:
    stored: messages.NewMessage
    targets: list[str]  # the endpoints that get a delivery
    fifo: set[str]  # those of them that deliver in order


def _plan(
    new: Publish,
    app: Application,
    known: EventType | None,
    endpoints: Sequence[Mapping[str, Any]],
    now: int,
    payload: bytes,
) -> _Plan:
    """What a publish stores: the message, and the endpoints its event type, channels and
    payload filters send it to. Invalid for a schedule too far ahead or a payload its schema
    refuses."""
    if new.deliver_at_ms is not None and new.deliver_at_ms > now + SCHEDULE_HORIZON_DAYS * 86_400_000:
        raise Invalid(["body", "deliverAt"], f"deliverAt may be at most {SCHEDULE_HORIZON_DAYS} days ahead")
    version, warning = check_schema(known, new)
    stored = messages.NewMessage(
        app_id=app.id,
        event_type=new.event_type,
        payload=payload,
        event_id=new.event_id,
        channels=new.channels,
        retention_days=new.retention_days,
        retention_hours=new.retention_hours,
        tags=new.tags,
        deliver_at=new.deliver_at_ms if new.deliver_at_ms is not None and new.deliver_at_ms > now else None,
        schema_version=version,
        schema_warning=warning,
        ordering_key=new.ordering_key,
    )
    doc = payload_filters.document(new.event_type, new.channels, new.payload)
    candidates = messages.matching_endpoints(endpoints, stored)
    targets = [e["id"] for e in candidates if payload_filters.accepts(e["filter"], doc)]
    return _Plan(stored, targets, {e["id"] for e in candidates if e["fifo"] and e["id"] in targets})


def _published(ctx: Context, message: Message, queued: int, targets: Sequence[str]) -> Message:
    metrics.message_accepted()
    if message.schema_warning is not None:
        metrics.schema_warning(message.event_type)
    if queued and message.deliver_at is None:
        ctx.wake(targets)
    return message


def schema_examples(schemas: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The object examples of the event type's newest schema version that has any."""
    for schema in reversed(list((schemas or {}).values())):
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        found = [dict(e) for e in examples if isinstance(e, dict)]
        if found:
            return found
    return []


# Svix's built-in test event: send-example takes it without an event type of that name.
PING_EVENT_TYPE = "svix.ping"
PING_PAYLOAD: Mapping[str, Any] = {"success": True}


def example_payload(event_type: str, schemas: dict[str, Any] | None) -> dict[str, Any]:
    """An example body for ``send-example``: the schema's own example when it has one."""
    examples = schema_examples(schemas)
    if examples:
        return examples[0]
    if event_type == PING_EVENT_TYPE:
        return dict(PING_PAYLOAD)
    at = datetime.fromtimestamp(now_ms() / 1000, tz=UTC).isoformat()
    return {"type": event_type, "timestamp": at, "data": {"example": True}}


async def send_example(
    ctx: Context,
    app_key: str,
    endpoint_key: str,
    event_type: str,
    *,
    example_index: int | None = None,
    payload: dict[str, Any] | None = None,
    tenant: str | None,
) -> Message:
    """Send the endpoint (only it) ``payload``, or the event type's example number
    ``example_index`` (422 naming it when there is no such example), or a generated one.

    An event type the catalogue does not have is refused, 422 naming eventType (as Svix
    refuses it), except Svix's built-in ``svix.ping``: a typo must not send a made-up event."""
    if not EVENT_TYPE_NAME.fullmatch(event_type):  # the API's schema says so too; the dashboard's form does not
        raise Invalid(["body", "eventType"], NAME_RULE)
    endpoint = await endpoint_service.to_change(ctx, app_key, endpoint_key, tenant=tenant)
    endpoint_service.refuse_disabled(endpoint)
    if payload is not None and example_index is not None:
        raise Invalid(["body", "exampleIndex"], "give exampleIndex or payload, not both")
    async with ctx.db.write() as conn:
        known = await event_types.find(conn, event_type)
        if known is None and event_type != PING_EVENT_TYPE:
            raise Invalid(
                ["body", "eventType"],
                f"there is no event type {event_type!r}: create it first, or send {PING_EVENT_TYPE}",
            )
        if payload is None and example_index is not None:
            examples = schema_examples(known.schemas if known else None)
            if example_index >= len(examples):
                raise Invalid(
                    ["body", "exampleIndex"], f"the event type {event_type!r} has {len(examples)} schema examples"
                )
            payload = examples[example_index]
        body = payload if payload is not None else example_payload(event_type, known.schemas if known else None)
        # Held to the event type's schema as a publish is: under "enforce" a generated example that
        # does not match it would reach the endpoint as a payload no publish could send.
        version, _ = check_schema(known, Publish(event_type=event_type, payload=body))
        encoded = encode_payload(body)
        if len(encoded) > ctx.settings.max_payload_bytes:
            raise TooLarge(f"payload is {len(encoded)} bytes; the limit is {ctx.settings.max_payload_bytes}")
        new = messages.NewMessage(
            app_id=endpoint.app_id, event_type=event_type, payload=encoded, schema_version=version
        )
        message, _ = await messages.create(conn, new, endpoint_ids=[endpoint.id])
    ctx.wake()
    return message


async def resend(ctx: Context, app_key: str, msg_key: str, endpoint_key: str, *, tenant: str | None) -> None:
    """Queue a manual attempt of the message to the endpoint, due now. Conflict when the
    endpoint is disabled (read in the write that queues it)."""
    app = await applications.get(ctx, app_key, tenant=tenant)
    async with ctx.db.write() as conn:
        message = await messages.get(conn, app.id, msg_key)
        endpoint = await endpoint_store.get(conn, app.id, endpoint_key)
        endpoint_service.refuse_disabled(endpoint)
        await queue.enqueue_manual(conn, message.id, endpoint.id, app.id, now_ms())
    ctx.wake()
