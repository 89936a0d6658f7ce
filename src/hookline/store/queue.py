"""The delivery queue: claiming due deliveries under a lease, recording outcomes.

A claimed delivery is ``sending`` with ``locked_until`` set. If the worker that
claimed it dies, the lease runs out and the row is due again: that is what
makes delivery at-least-once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update

from hookline.domain.ids import new_id
from hookline.domain.throttle import admit, blocked_until
from hookline.store import operational
from hookline.store import tables as t
from hookline.store.database import Conn, notify_work
from hookline.store.messages import new_delivery

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


@dataclass(frozen=True)
class ClaimResult:
    items: list[Claimed]
    more_due: bool  # due rows were left behind (caps, throttles, or the batch size)
    wake_at: int | None  # when a throttled endpoint or application admits again


# Any constant: on PostgreSQL, claims from every process take turns, which is what
# lets per-endpoint caps and throttles hold across processes.
CLAIM_LOCK = 7_461_002


async def _in_flight(conn: Conn, now: int) -> dict[str, int]:
    query = (
        select(d.c.endpoint_id, func.count())
        .where(d.c.status == SENDING, d.c.next_attempt_at > now)
        .group_by(d.c.endpoint_id)
    )
    return {row[0]: int(row[1]) for row in (await conn.execute(query)).all()}


async def _throttles(conn: Conn, table: Any, now: int) -> dict[str, tuple[int, int | None]]:
    """Rate and GCRA state of every throttled row that sent recently: {id: (rate, tat)}."""
    query = select(table.c.id, table.c.throttle_rate, table.c.throttle_tat).where(
        table.c.throttle_rate.is_not(None), table.c.throttle_tat > now - 1000
    )
    return {row[0]: (int(row[1]), row[2]) for row in (await conn.execute(query)).all()}


async def _rates(conn: Conn, table: Any, ids: set[str]) -> dict[str, tuple[int, int | None]]:
    query = select(table.c.id, table.c.throttle_rate, table.c.throttle_tat).where(
        table.c.id.in_(ids), table.c.throttle_rate.is_not(None)
    )
    return {row[0]: (int(row[1]), row[2]) for row in (await conn.execute(query)).all()}


def _fair_pick(rows: Sequence[Any], room: dict[str, int], limit: int) -> list[Any]:
    """Round-robin over endpoints in due order, within each endpoint's room."""
    queues: dict[str, list[Any]] = {}
    for row in rows:
        queues.setdefault(row.endpoint_id, []).append(row)
    picked: list[Any] = []
    while len(picked) < limit:
        progressed = False
        for endpoint_id, waiting in queues.items():
            if waiting and room.get(endpoint_id, limit) > 0 and len(picked) < limit:
                picked.append(waiting.pop(0))
                room[endpoint_id] = room.get(endpoint_id, limit) - 1
                progressed = True
        if not progressed:
            break
    return picked


async def claim(conn: Conn, now: int, lease_ms: int, limit: int, *, endpoint_cap: int) -> ClaimResult:
    """Lease up to ``limit`` due deliveries, fairly across endpoints.

    No endpoint gets more than ``endpoint_cap`` attempts in flight (counted over
    every process, from the leases in the database), and throttled endpoints and
    applications get no more than their rate.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK})
    in_flight = await _in_flight(conn, now)
    ep_limits = await _throttles(conn, t.endpoint, now)
    app_limits = await _throttles(conn, t.application, now)
    blocked_eps = {e for e, (rate, tat) in ep_limits.items() if admit(tat, now, rate, 1).admitted == 0}
    blocked_apps = {a for a, (rate, tat) in app_limits.items() if admit(tat, now, rate, 1).admitted == 0}
    wake_at = min(
        [blocked_until(ep_limits[e][1], ep_limits[e][0]) for e in blocked_eps]
        + [blocked_until(app_limits[a][1], app_limits[a][0]) for a in blocked_apps],
        default=None,
    )
    excluded = blocked_eps | {e for e, n in in_flight.items() if n >= endpoint_cap}
    query = select(d.c.id, d.c.endpoint_id, d.c.app_id).where(d.c.next_attempt_at <= now)
    if excluded:
        query = query.where(d.c.endpoint_id.not_in(excluded))
    if blocked_apps:
        query = query.where(d.c.app_id.not_in(blocked_apps))
    window = limit * 4
    rows = (
        await conn.execute(query.order_by(d.c.next_attempt_at).limit(window).with_for_update(skip_locked=True))
    ).all()
    if not rows:
        return ClaimResult([], False, wake_at)
    room = {row.endpoint_id: endpoint_cap - in_flight.get(row.endpoint_id, 0) for row in rows}
    picked = _fair_pick(rows, room, limit)
    picked, throttled_wake = await _apply_throttles(conn, picked, now)
    wake_at = min(w for w in (wake_at, throttled_wake) if w is not None) if (wake_at or throttled_wake) else None
    more = len(rows) > len(picked)
    if not picked:
        return ClaimResult([], more, wake_at)
    lease_end = now + lease_ms
    claimed = (
        await conn.execute(
            update(d)
            .where(d.c.id.in_([row.id for row in picked]), d.c.next_attempt_at <= now)
            .values(status=SENDING, locked_until=lease_end, next_attempt_at=lease_end, updated_at=now)
            .returning(d.c.id, d.c.msg_id, d.c.endpoint_id, d.c.app_id, d.c.attempts, d.c.trigger)
        )
    ).all()
    return ClaimResult(await _hydrate(conn, claimed, lease_end, now), more, wake_at)


async def _apply_throttles(conn: Conn, picked: list[Any], now: int) -> tuple[list[Any], int | None]:
    """Trim ``picked`` to what endpoint and application rates admit; advance their state."""
    ep_rates = await _rates(conn, t.endpoint, {row.endpoint_id for row in picked})
    app_rates = await _rates(conn, t.application, {row.app_id for row in picked})
    if not ep_rates and not app_rates:
        return picked, None
    wake: list[int] = []
    for table, rates, key in ((t.endpoint, ep_rates, "endpoint_id"), (t.application, app_rates, "app_id")):
        for owner, (rate, tat) in rates.items():
            mine = [row for row in picked if getattr(row, key) == owner]
            admission = admit(tat, now, rate, len(mine))
            if admission.admitted < len(mine):
                dropped = {row.id for row in mine[admission.admitted :]}
                picked = [row for row in picked if row.id not in dropped]
                wake.append(blocked_until(admission.tat, rate))
            await conn.execute(update(table).where(table.c.id == owner).values(throttle_tat=admission.tat))
    return picked, min(wake, default=None)


async def _hydrate(conn: Conn, claimed: Sequence[Any], locked_until: int, now: int) -> list[Claimed]:
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


# One statement for every outcome of a batch (executemany), fenced on the lease.
_MOVE = (
    update(d)
    .where(d.c.id == bindparam("b_id"), d.c.locked_until == bindparam("b_lease"))
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        locked_until=None,
        updated_at=bindparam("b_at"),
        attempts=d.c.attempts + bindparam("b_inc"),
    )
)
_INSERT_ATTEMPT = insert(t.attempt)


async def record(conn: Conn, outcomes: Sequence[Outcome], *, disable_after_ms: int) -> list[str]:
    """Append the attempts and move each delivery to its next state.

    The update is fenced on the lease we hold: if our lease ran out and another
    worker took the row, the attempt is still logged but the state is theirs.
    Returns the ids of endpoints this disabled.
    """
    rows = {id(o): _attempt_row(o) for o in outcomes if o.url}
    if rows:
        await conn.execute(_INSERT_ATTEMPT, list(rows.values()))
    await conn.execute(_MOVE, [_next_state(o) for o in outcomes])
    disabled: list[str] = []
    for o in outcomes:
        attempt = rows.get(id(o))
        if attempt is not None and not (o.succeeded and o.delivery.attempts < operational.FAILING_AFTER):
            await _operational_events(conn, o, attempt["id"])
        if o.disable_endpoint and await _disable(conn, o.delivery.endpoint_id, o.at_ms):
            disabled.append(o.delivery.endpoint_id)
    disabled += await _track_failure_runs(conn, outcomes, disable_after_ms)
    return disabled


def _next_state(o: Outcome) -> dict[str, Any]:
    if o.succeeded:
        status, next_at = SUCCESS, None
    elif o.next_attempt_at is not None:
        status, next_at = PENDING, o.next_attempt_at
    else:
        status, next_at = FAIL, None
    return {
        "b_id": o.delivery.id,
        "b_lease": o.delivery.locked_until,
        "b_status": status,
        "b_next": next_at,
        "b_at": o.at_ms,
        "b_inc": 1 if o.url else 0,
    }


async def _operational_events(conn: Conn, o: Outcome, attempt_id: str) -> None:
    number = o.delivery.attempts + 1
    if o.succeeded:
        event = "message.attempt.recovered" if number > operational.FAILING_AFTER else None
    elif o.next_attempt_at is None:
        event = "message.attempt.exhausted"
    else:
        event = "message.attempt.failing" if number == operational.FAILING_AFTER else None
    if event:
        await operational.attempt_event(
            conn,
            event,
            app_id=o.delivery.app_id,
            endpoint_id=o.delivery.endpoint_id,
            msg_id=o.delivery.msg_id,
            attempt_id=attempt_id,
            status_code=o.status_code,
            at_ms=o.at_ms,
        )


async def _disable(conn: Conn, endpoint_id: str, at_ms: int) -> bool:
    ep = t.endpoint
    result = await conn.execute(
        update(ep).where(ep.c.id == endpoint_id, ep.c.disabled.is_(False)).values(disabled=True, updated_at=at_ms)
    )
    if not result.rowcount:
        return False
    row = (await conn.execute(select(ep).where(ep.c.id == endpoint_id))).mappings().one()
    await operational.endpoint_event(conn, "endpoint.disabled", row)
    return True


async def _track_failure_runs(conn: Conn, outcomes: Sequence[Outcome], disable_after_ms: int) -> list[str]:
    """Svix's auto-disable rule: an endpoint whose deliveries have been exhausting
    their retries, with no success in between, for ``disable_after_ms`` is disabled."""
    ep = t.endpoint
    succeeded = {o.delivery.endpoint_id for o in outcomes if o.succeeded}
    exhausted = {
        o.delivery.endpoint_id: o.at_ms for o in outcomes if o.url and not o.succeeded and o.next_attempt_at is None
    }
    if succeeded:
        await conn.execute(
            update(ep).where(ep.c.id.in_(succeeded), ep.c.failing_since.is_not(None)).values(failing_since=None)
        )
    disabled = []
    for endpoint_id, at_ms in exhausted.items():
        if endpoint_id in succeeded:
            continue
        await conn.execute(
            update(ep).where(ep.c.id == endpoint_id, ep.c.failing_since.is_(None)).values(failing_since=at_ms)
        )
        since = (await conn.execute(select(ep.c.failing_since).where(ep.c.id == endpoint_id))).scalar_one_or_none()
        if since is not None and at_ms - since >= disable_after_ms and await _disable(conn, endpoint_id, at_ms):
            disabled.append(endpoint_id)
    return disabled


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


async def enqueue_manual(conn: Conn, msg_id: str, endpoint_id: str, app_id: str, now: int) -> None:
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
    await notify_work(conn)
