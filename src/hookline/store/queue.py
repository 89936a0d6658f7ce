"""The delivery queue: claiming due deliveries under a lease, recording outcomes.

A claimed delivery is ``sending`` with ``locked_until`` set. If the worker that
claimed it dies, the lease runs out and the row is due again: that is what
makes delivery at-least-once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain.ids import new_id
from hookline.store import tables as t

SUCCESS, PENDING, FAIL, SENDING = 0, 1, 2, 3
d = t.delivery


@dataclass(frozen=True)
class Claimed:
    id: str
    msg_id: str
    endpoint_id: str
    app_id: str
    attempts: int
    trigger: int
    locked_until: int
    payload: bytes | None
    url: str | None
    secrets: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    disabled: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt did, and what should happen to its delivery next."""

    delivery: Claimed
    at_ms: int
    url: str
    status_code: int
    response: str
    duration_ms: int
    error: str | None
    succeeded: bool
    next_attempt_at: int | None  # None with succeeded=False: give up
    disable_endpoint: bool = False


def _due(now: int) -> Any:
    return or_(
        and_(d.c.status == PENDING, d.c.next_attempt_at <= now),
        and_(d.c.status == SENDING, d.c.locked_until < now),
    )


async def claim(conn: AsyncConnection, now: int, lease_ms: int, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries, oldest due first."""
    due_ids = (
        select(d.c.id).where(_due(now)).order_by(d.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    )
    locked_until = now + lease_ms
    claimed = (
        await conn.execute(
            update(d)
            .where(d.c.id.in_(due_ids.scalar_subquery()))
            .values(status=SENDING, locked_until=locked_until, updated_at=now)
            .returning(d.c.id, d.c.msg_id, d.c.endpoint_id, d.c.app_id, d.c.attempts, d.c.trigger)
        )
    ).all()
    if not claimed:
        return []
    return await _hydrate(conn, claimed, locked_until, now)


async def _hydrate(conn: AsyncConnection, claimed: Sequence[Any], locked_until: int, now: int) -> list[Claimed]:
    msg_ids = {row.msg_id for row in claimed}
    ep_ids = {row.endpoint_id for row in claimed}
    payloads = dict(
        (await conn.execute(select(t.message.c.id, t.message.c.payload).where(t.message.c.id.in_(msg_ids)))).all()
    )
    ep = t.endpoint
    endpoints = {
        row["id"]: row
        for row in (
            await conn.execute(
                select(ep.c.id, ep.c.url, ep.c.secret, ep.c.old_secrets, ep.c.headers, ep.c.disabled).where(
                    ep.c.id.in_(ep_ids)
                )
            )
        ).mappings()
    }
    out = []
    for row in claimed:
        endpoint = endpoints.get(row.endpoint_id)
        secrets = []
        if endpoint is not None:
            secrets = [endpoint["secret"]] + [s["key"] for s in endpoint["old_secrets"] if s["expires_at"] > now]
        out.append(
            Claimed(
                id=row.id,
                msg_id=row.msg_id,
                endpoint_id=row.endpoint_id,
                app_id=row.app_id,
                attempts=row.attempts,
                trigger=row.trigger,
                locked_until=locked_until,
                payload=payloads.get(row.msg_id),
                url=endpoint["url"] if endpoint else None,
                secrets=secrets,
                headers=dict(endpoint["headers"]) if endpoint else {},
                disabled=bool(endpoint["disabled"]) if endpoint else True,
            )
        )
    return out


async def record(conn: AsyncConnection, outcomes: Sequence[Outcome]) -> None:
    """Append the attempts and move each delivery to its next state.

    The update is fenced on the lease we hold: if our lease ran out and another
    worker took the row, the attempt is still logged but the state is theirs.
    """
    attempts = [_attempt_row(o) for o in outcomes if o.url]
    if attempts:
        await conn.execute(insert(t.attempt), attempts)
    for o in outcomes:
        if o.succeeded:
            values: dict[str, Any] = {"status": SUCCESS, "next_attempt_at": None}
        elif o.next_attempt_at is not None:
            values = {"status": PENDING, "next_attempt_at": o.next_attempt_at}
        else:
            values = {"status": FAIL, "next_attempt_at": None}
        values.update(locked_until=None, updated_at=o.at_ms, attempts=d.c.attempts + (1 if o.url else 0))
        await conn.execute(
            update(d).where(d.c.id == o.delivery.id, d.c.locked_until == o.delivery.locked_until).values(values)
        )
        if o.disable_endpoint:
            await conn.execute(
                update(t.endpoint)
                .where(t.endpoint.c.id == o.delivery.endpoint_id)
                .values(disabled=True, updated_at=o.at_ms)
            )


def _attempt_row(o: Outcome) -> dict[str, Any]:
    return {
        "id": new_id("atmpt", o.at_ms),
        "delivery_id": o.delivery.id,
        "msg_id": o.delivery.msg_id,
        "endpoint_id": o.delivery.endpoint_id,
        "app_id": o.delivery.app_id,
        "url": o.url,
        "status": SUCCESS if o.succeeded else FAIL,
        "response_status_code": o.status_code,
        "response": o.response,
        "response_duration_ms": o.duration_ms,
        "error": o.error,
        "trigger": o.delivery.trigger,
        "attempt_number": o.delivery.attempts + 1,
        "created_at": o.at_ms,
    }


def new_delivery(msg_id: str, endpoint_id: str, app_id: str, now: int, trigger: int = 0) -> dict[str, Any]:
    return {
        "id": new_id("dlv", now),
        "msg_id": msg_id,
        "endpoint_id": endpoint_id,
        "app_id": app_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "trigger": trigger,
        "created_at": now,
        "updated_at": now,
    }


async def enqueue_manual(conn: AsyncConnection, msg_id: str, endpoint_id: str, app_id: str, now: int) -> None:
    """Send a message to an endpoint again now, as a manual attempt.

    The (message, endpoint) delivery is reset if it exists. Clearing its lease
    also fences off any attempt still in flight from overwriting the new state.
    """
    reset = (
        update(d)
        .where(d.c.msg_id == msg_id, d.c.endpoint_id == endpoint_id)
        .values(status=PENDING, next_attempt_at=now, locked_until=None, trigger=1, updated_at=now)
    )
    if (await conn.execute(reset)).rowcount == 0:
        await conn.execute(insert(d).values(new_delivery(msg_id, endpoint_id, app_id, now, trigger=1)))
