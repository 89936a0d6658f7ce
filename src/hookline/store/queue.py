"""The delivery queue: claiming due deliveries under a lease, recording outcomes.

A claimed delivery is ``sending`` with ``locked_until`` set. If the worker that
claimed it dies, the lease runs out and the row is due again: that is what
makes delivery at-least-once.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    insert,
    select,
    update,
)

from hookline.domain.claim import FIFO, Candidate, ClaimPolicy, Exclusions, Load, Throttle, leaves_queue
from hookline.domain.ids import new_id
from hookline.domain.ingest import forward_url
from hookline.domain.json_text import printable
from hookline.domain.model import DeliveryStatus, Trigger
from hookline.store import operational, raw, records
from hookline.store import tables as t
from hookline.store.database import Conn, notify_work
from hookline.store.messages import new_delivery

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
    client_cert: tuple[str, str] | None = None  # (certificate PEM, sealed key) for mutual TLS
    # A received request passed on as is (inbound gateway): its Content-Type and headers.
    content_type: str | None = None
    forwarded: dict[str, str] = field(default_factory=dict)
    event_type: str = ""
    transformation: str | None = None  # the endpoint's JavaScript, when enabled
    fifo_key: str | None = None  # the FIFO queue it is in, if any
    fifo_on_exhausted: str = "skip"


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
    request: dict[str, Any] | None = None  # what a transformation made of the request
    request_headers: dict[str, str] | None = None  # what was sent, credentials redacted


@dataclass(frozen=True)
class ClaimResult:
    items: list[Claimed]
    # A claim now could take more: the batch size held some back, or other processes held
    # some endpoints.
    more_due: bool
    wake_at: int | None  # when a throttled endpoint or application admits again
    capped: frozenset[str] = frozenset()  # endpoints this claim found or left at their cap


# The first key of the per-endpoint claim locks (pg_try_advisory_xact_lock(CLAIM_LOCKS, hashtext(id))).
CLAIM_LOCKS = 7_461_002

_SENDING = int(DeliveryStatus.SENDING)


async def _hints(conn: Conn, now: int, cap: int, finished: Any) -> Load:
    """What lets a claim leave blocked work unread, in one statement and without locks: the
    endpoints at their cap, and the endpoints and applications whose throttle sent within the
    last second (the only ones that may block). A hint only decides what is read; what is
    taken is decided on facts read under the endpoints' locks (``_facts``)."""
    in_flight: dict[str, int] = {}
    endpoints: dict[str, Throttle] = {}
    apps: dict[str, Throttle] = {}
    params = {"sending": _SENDING, "now": now, "cap": cap, "recent": now - 1000, "finished": finished}
    for kind, owner, number, tat in await raw.rows(conn, _HINTS, params):
        if kind == "f":
            in_flight[owner] = int(number)
        else:
            (endpoints if kind == "e" else apps)[owner] = Throttle(int(number), tat)
    return Load(now, 0, cap, in_flight, endpoints, apps)


@dataclass(frozen=True)
class _Endpoint:
    """An endpoint as a claim needs it: what to send with, and its cap and throttle facts."""

    url: str
    secret: str
    old_secrets: list[dict[str, Any]]
    headers: dict[str, str]
    disabled: bool
    transformation: str | None
    fifo_on_exhausted: str
    client_cert: tuple[str, str] | None
    in_flight: int
    throttle: Throttle | None
    app_throttled: bool = False  # its application has a throttle (read again, locked, by the claim)
    path_forwarding: bool = True  # a forwarded request's path and query go after its URL


def _in(column: str, param: str) -> tuple[str, str]:
    """``column`` is in the list parameter ``param`` (raw.id_list): SQLite, PostgreSQL."""
    return f"{column} IN (SELECT value FROM json_each(:{param}))", f"{column} = ANY(:{param})"  # noqa: S608


def _unfinished(table: str) -> tuple[str, str]:
    """The lease is not one the claiming process has finished (``:finished``, lease keys):
    its attempt is over and only the recording of its outcome is still to come."""
    key = f"{table}.id || ':' || {table}.locked_until"
    return f"{key} NOT IN (SELECT value FROM json_each(:finished))", f"{key} <> ALL(:finished)"  # noqa: S608


def lease_key(item: Claimed) -> str:
    """What names one lease of one delivery in ``claim(finished=...)``: a delivery leased
    again (another process, after a retry fell due) is another lease."""
    return f"{item.id}:{item.locked_until}"


def _per_database(sql: str, *conditions: tuple[str, str], pg_suffix: str = "") -> raw.Statement:
    """``sql`` with ``{0}``, ``{1}``... filled with each database's form of ``conditions``."""
    return raw.Statement(
        sql,
        sqlite=sql.format(*(c[0] for c in conditions)),
        postgresql=sql.format(*(c[1] for c in conditions)) + pg_suffix,
    )


# The claim's statements, on the driver (store/raw.py); built once.
_HINTS = _per_database(
    "SELECT 'f', endpoint_id, count(*), NULL FROM delivery WHERE status = :sending AND next_attempt_at > :now"
    " AND {0} GROUP BY endpoint_id HAVING count(*) >= :cap"
    " UNION ALL SELECT 'e', id, throttle_rate, throttle_tat FROM endpoint"
    " WHERE throttle_rate IS NOT NULL AND throttle_tat > :recent"
    " UNION ALL SELECT 'a', id, throttle_rate, throttle_tat FROM application"
    " WHERE throttle_rate IS NOT NULL AND throttle_tat > :recent",
    _unfinished("delivery"),
)
_FACTS = _per_database(
    "SELECT e.id, e.url, e.secret, e.old_secrets, e.headers, e.disabled, e.transformation_code,"
    " e.transformation_enabled, e.fifo_on_exhausted, e.throttle_rate, e.throttle_tat, c.cert, c.key,"
    " (SELECT count(*) FROM delivery d WHERE d.status = :sending AND d.endpoint_id = e.id"
    " AND d.next_attempt_at > :now AND {1}),"
    " (SELECT a.throttle_rate FROM application a WHERE a.id = e.app_id), e.path_forwarding_disabled"
    " FROM endpoint e LEFT OUTER JOIN endpoint_client_cert c ON c.endpoint_id = e.id WHERE {0}",
    _in("e.id", "ids"),
    _unfinished("d"),
)
_MESSAGES = _per_database(
    "SELECT id, payload, event_type, content_type, headers, forward_path FROM message WHERE {0}", _in("id", "ids")
)
_LEASE = _per_database(
    "UPDATE delivery SET status = :sending, locked_until = :lease_end, next_attempt_at = :lease_end,"
    " updated_at = :now WHERE {0} AND next_attempt_at <= :now"
    " RETURNING id, msg_id, endpoint_id, app_id, attempts, trigger, fifo_key",
    _in("id", "ids"),
)
# PostgreSQL: the lease and the leased deliveries' messages in one round trip.
# (SQLite has no UPDATE ... RETURNING inside a WITH, nor round trips to save: it runs the two.)
# Its transaction commits without waiting for the WAL to reach the disk (synchronous_commit
# off, for this transaction only): a lease lost to a crash of the server leaves its delivery
# due again, as a crash of this process does, and a later commit that waits (an outcome's)
# makes it durable with itself. That wait was a quarter of a claim under load.
_LEASE_WITH_MESSAGES = raw.Statement(
    f"WITH l AS ({_LEASE.postgresql_named}) SELECT l.id, l.msg_id, l.endpoint_id, l.app_id, l.attempts,"  # noqa: S608
    " l.trigger, l.fifo_key, m.payload, m.event_type, m.content_type, m.headers, m.forward_path"
    " FROM l LEFT JOIN message m ON m.id = l.msg_id"
    " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS no_wait"
)
_APP_THROTTLES = _per_database(
    "SELECT id, throttle_rate, throttle_tat FROM application WHERE {0} AND throttle_rate IS NOT NULL ORDER BY id",
    _in("id", "ids"),
    pg_suffix=" FOR UPDATE",
)
_CANDIDATE_SQL = (
    "SELECT id, endpoint_id, app_id, fifo_key, fifo_seq, next_attempt_at FROM delivery WHERE next_attempt_at <= :now"
)


def _candidates_statement(excluding: tuple[str, ...]) -> raw.Statement:
    if excluding:
        return _heads_statement(excluding)
    due = raw.Statement(_CANDIDATE_SQL + " ORDER BY next_attempt_at LIMIT :window")
    # PostgreSQL: MATERIALIZED, so each endpoint's try-lock runs once, and only for the
    # first :limit endpoints. The rows are read before the locks are taken; see claim().
    locking = (
        f"WITH c AS MATERIALIZED ({due.postgresql_named}),"  # noqa: S608 - our own text
        " f AS MATERIALIZED (SELECT endpoint_id, min(next_attempt_at) AS first FROM c"
        " GROUP BY endpoint_id ORDER BY first, endpoint_id LIMIT :limit)," + _LOCKS_AND_ROWS
    )
    return raw.Statement(due.sqlite, postgresql=locking)


# PostgreSQL: the try-locks of the endpoints in ``f``, and the rows of ``c`` flagged with them.
_LOCKS_AND_ROWS = (
    " l AS MATERIALIZED (SELECT endpoint_id FROM f WHERE pg_try_advisory_xact_lock(:ns, hashtext(endpoint_id)))"
    " SELECT c.id, c.endpoint_id, c.app_id, c.fifo_key, c.fifo_seq, l.endpoint_id IS NOT NULL"
    " FROM c LEFT JOIN l ON l.endpoint_id = c.endpoint_id ORDER BY c.next_attempt_at, c.id LIMIT :window"
)
# Reading by endpoint goes through ix_delivery_queued, the one index in (endpoint_id,
# next_attempt_at) order. Every lookup below asks for that order with no equality on
# endpoint_id (``>``, or a row comparison), so that no planner can take a backlog's due order
# (ix_delivery_due) for it: with ``endpoint_id = ...`` PostgreSQL's statistics of a skewed
# backlog led it there, and a claim took 650 ms behind 200,000 rows.
_NEXT_ENDPOINT = "FROM delivery WHERE next_attempt_at IS NOT NULL{0} ORDER BY endpoint_id, next_attempt_at LIMIT 1"
# The endpoints with work queued or leased, each with its first row (leased or due): one
# index seek each, a loose scan stepping from one endpoint to the next.
_QUEUED_ENDPOINTS = {
    "sqlite": (
        "WITH RECURSIVE q(e, first) AS (SELECT * FROM (SELECT endpoint_id, next_attempt_at "  # noqa: S608
        + _NEXT_ENDPOINT.format("")
        + ") UNION ALL SELECT d.endpoint_id, d.next_attempt_at FROM q JOIN delivery d ON d.rowid ="
        + " (SELECT rowid "
        + _NEXT_ENDPOINT.format(" AND endpoint_id > q.e")
        + ")),"
    ),
    "postgresql": (
        "WITH RECURSIVE q(e, first) AS ((SELECT endpoint_id, next_attempt_at "  # noqa: S608
        + _NEXT_ENDPOINT.format("")
        + ") UNION ALL SELECT n.endpoint_id, n.next_attempt_at FROM q CROSS JOIN LATERAL"
        + " (SELECT endpoint_id, next_attempt_at "
        + _NEXT_ENDPOINT.format(" AND endpoint_id > q.e")
        + ") n),"
    ),
}
# Of those, the first :limit with a due row, in due order: {0} leaves some out.
_FIRST_DUE = "SELECT e AS endpoint_id, first FROM q WHERE first <= :now{0} ORDER BY first, e LIMIT :limit"
# The first :per due rows of the endpoint f.endpoint_id: {0} leaves some out.
_EACH = (
    "FROM delivery WHERE next_attempt_at IS NOT NULL"
    " AND (endpoint_id, next_attempt_at) >= (f.endpoint_id, -1)"
    " AND (endpoint_id, next_attempt_at) <= (f.endpoint_id, :now)"
    "{0} ORDER BY endpoint_id, next_attempt_at LIMIT :per"
)
# What leaves endpoints and applications out, as (SQLite, PostgreSQL) conditions.
_LEFT_OUT_ENDPOINTS = {
    "endpoints": (" AND e NOT IN (SELECT value FROM json_each(:endpoints))", " AND e <> ALL(:endpoints)"),
    "apps": (
        " AND e NOT IN (SELECT id FROM endpoint WHERE app_id IN (SELECT value FROM json_each(:apps)))",
        " AND e NOT IN (SELECT id FROM endpoint WHERE app_id = ANY(:apps))",
    ),
}
_LEFT_OUT_ROWS = {"apps": (" AND app_id NOT IN (SELECT value FROM json_each(:apps))", " AND app_id <> ALL(:apps)")}


def _left_out(excluding: tuple[str, ...], conditions: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    chosen = [conditions[name] for name in excluding if name in conditions]
    return "".join(c[0] for c in chosen), "".join(c[1] for c in chosen)


def _heads_statement(excluding: tuple[str, ...]) -> raw.Statement:
    """Candidates when endpoints or applications are left out (at their cap, throttled).

    Reading due rows in due order and skipping the left-out ones would walk every due row
    of a left-out endpoint on each claim: a slow endpoint with a backlog of 200,000 made
    every claim take 34 ms, on the event loop. Instead: the first ``:limit`` other endpoints
    by their first due row, found one index seek per endpoint with queued work, and the
    first ``:per`` due rows of each, whatever any backlog holds."""
    endpoints = _left_out(excluding, _LEFT_OUT_ENDPOINTS)
    rows = _left_out(excluding, _LEFT_OUT_ROWS)
    # Every part is our own text (S608: the values travel as parameters).
    sqlite = (
        _QUEUED_ENDPOINTS["sqlite"]  # noqa: S608
        + f" f AS ({_FIRST_DUE.format(endpoints[0])})"
        + " SELECT d.id, d.endpoint_id, d.app_id, d.fifo_key, d.fifo_seq, d.next_attempt_at FROM f JOIN delivery d"
        + f" ON d.rowid IN (SELECT rowid {_EACH.format(rows[0])}) ORDER BY d.next_attempt_at, d.id LIMIT :window"
    )
    postgresql = (
        _QUEUED_ENDPOINTS["postgresql"]  # noqa: S608
        + f" f AS MATERIALIZED ({_FIRST_DUE.format(endpoints[1])}),"
        + " c AS MATERIALIZED (SELECT d.* FROM f CROSS JOIN LATERAL ("
        + f"SELECT id, endpoint_id, app_id, fifo_key, fifo_seq, next_attempt_at {_EACH.format(rows[1])}) d),"
        + _LOCKS_AND_ROWS
    )
    return raw.Statement(sqlite, postgresql=postgresql)


_CANDIDATES: dict[tuple[str, ...], raw.Statement] = {
    excluding: _candidates_statement(excluding) for excluding in ((), ("endpoints",), ("apps",), ("endpoints", "apps"))
}


async def _facts(conn: Conn, endpoint_ids: set[str], now: int, finished: Any) -> dict[str, _Endpoint]:
    """The endpoints' rows with their client certificates and unexpired leases, in one
    statement; read under their claim locks, so exact across processes. The leases are
    counted through the (status, endpoint_id) index, for these endpoints only."""
    out = {}
    params = {"ids": raw.id_list(conn, sorted(endpoint_ids)), "now": now, "sending": _SENDING, "finished": finished}
    for row in await raw.rows(conn, _FACTS, params, json=(3, 4)):
        id_, url, secret, old_secrets, headers, disabled, code, enabled, on_exhausted, rate, tat, cert, key = row[:13]
        leased, app_rate, no_path = row[13:]
        out[id_] = _Endpoint(
            url=url,
            secret=secret,
            old_secrets=old_secrets,
            headers=headers,
            disabled=bool(disabled),
            transformation=code if enabled and code else None,
            fifo_on_exhausted=on_exhausted,
            client_cert=(cert, key) if cert is not None else None,
            in_flight=int(leased),
            throttle=Throttle(int(rate), tat) if rate is not None else None,
            app_throttled=app_rate is not None,
            path_forwarding=not no_path,
        )
    return out


async def _fifo_busy(conn: Conn, now: int, endpoint_ids: set[str]) -> frozenset[tuple[str, str]]:
    """FIFO queues of these endpoints with a delivery under an unexpired lease."""
    if not endpoint_ids:
        return frozenset()
    query = select(d.c.endpoint_id, d.c.fifo_key).where(
        d.c.status == _SENDING,
        d.c.endpoint_id.in_(endpoint_ids),
        d.c.next_attempt_at > now,
        d.c.fifo_key.is_not(None),
    )
    return frozenset((row[0], row[1]) for row in (await conn.execute(query)).all())


def _maybe_throttled(candidates: Sequence[Candidate], endpoints: Mapping[str, _Endpoint]) -> set[str]:
    """The candidates' applications that have a throttle, as the endpoint facts saw them (an
    endpoint gone since: its application, to be sure)."""
    return {c.app_id for c in candidates if (facts := endpoints.get(c.endpoint_id)) is None or facts.app_throttled}


async def _app_throttles(conn: Conn, app_ids: set[str]) -> dict[str, Throttle]:
    """The throttled applications among ``app_ids``. On PostgreSQL their rows stay locked to the
    commit (taken in id order, so claims never deadlock on them): an application's throttle
    spans endpoints that other processes may be claiming for at the same moment."""
    if not app_ids:
        return {}  # the usual case: no application throttles, one round trip saved
    found = await raw.rows(conn, _APP_THROTTLES, {"ids": raw.id_list(conn, sorted(app_ids))})
    return {row[0]: Throttle(int(row[1]), row[2]) for row in found}


async def _candidates(
    conn: Conn, now: int, excluded: Exclusions, window: int, limit: int, cap: int
) -> tuple[list[Candidate], set[str]]:
    """Due deliveries, earliest first, and the endpoints among them this claim may take
    deliveries of. On PostgreSQL: of the first ``limit`` candidate endpoints in due order (a
    claim of ``limit`` picks from no more), those whose claim lock it got, held to the commit;
    an endpoint another process is claiming for at this moment is skipped, never waited for.
    SQLite has one writer: every endpoint."""
    # No endpoint takes more than its cap in one claim: read no more of each than that.
    params: dict[str, Any] = {"now": now, "window": window, "limit": limit, "per": min(cap, window), "ns": CLAIM_LOCKS}
    excluding = []
    if excluded.endpoints:
        excluding.append("endpoints")
        params["endpoints"] = raw.id_list(conn, sorted(excluded.endpoints))
    if excluded.apps:
        excluding.append("apps")
        params["apps"] = raw.id_list(conn, sorted(excluded.apps))
    found = await raw.rows(conn, _CANDIDATES[tuple(excluding)], params)
    candidates = [Candidate(*row[:5]) for row in found]
    if conn.dialect.name != "postgresql":
        return candidates, {c.endpoint_id for c in candidates}
    return candidates, {row[1] for row in found if row[5]}


async def _save_tats(conn: Conn, table: Any, tats: dict[str, int]) -> None:
    if tats:
        statement = update(table).where(table.c.id == bindparam("b_id")).values(throttle_tat=bindparam("b_tat"))
        await conn.execute(statement, [{"b_id": owner, "b_tat": tat} for owner, tat in tats.items()])


async def claim(
    conn: Conn,
    now: int,
    lease_ms: int,
    limit: int,
    *,
    endpoint_cap: int,
    policy: ClaimPolicy = FIFO,
    finished: Collection[str] = (),
) -> ClaimResult:
    """Lease up to ``limit`` due deliveries, as ``policy`` chooses (by default: fairly across
    endpoints, and one at a time in order within each FIFO queue).

    This is only the I/O around the policy. Hints (no locks) say which endpoints and
    applications are blocked and need not be read; due candidates are read, and on
    PostgreSQL, in the same statement, the claim takes the lock of each candidate endpoint it
    can among the first ``limit`` (``pg_try_advisory_xact_lock``; the others are left to the
    process that holds them); then it reads those endpoints' leases and throttles, which no
    other claim can change until this one commits. The lease itself is fenced on the rows
    being due, so a candidate that another claim leased since it was read is left. Caps,
    throttles and FIFO heads hold across processes, and claims for different endpoints never
    wait for each other.

    ``finished`` names leases (``lease_key``) of this process whose attempt is over but whose
    outcome is not recorded yet: they leave their endpoint's cap now, for this claim, while
    every other process still counts them until the outcome commits.
    """
    over = raw.id_list(conn, list(finished))
    hints = await _hints(conn, now, endpoint_cap, over)
    excluded = policy.exclude(hints)
    window = policy.window(limit)
    full = frozenset(e for e, n in hints.in_flight.items() if n >= endpoint_cap)
    candidates, mine = await _candidates(conn, now, excluded, window, limit, endpoint_cap)
    if not candidates:
        return ClaimResult([], False, excluded.wake_at, full)
    # Rows this read did not reach may belong to endpoints with room; the endpoints it did
    # reach are at their cap now, so the next read leaves them out. Not at once: a claim that
    # finds nothing costs a loaded process tens of ms, while slots free up within a few.
    unread = len(candidates) >= window or len({c.endpoint_id for c in candidates}) >= limit
    locked_out = len(candidates)
    candidates = [c for c in candidates if c.endpoint_id in mine]
    locked_out -= len(candidates)
    if not candidates:
        return ClaimResult([], True, _look_again(excluded.wake_at, now), full)
    endpoints = await _facts(conn, mine, now, over)
    load = Load(
        now,
        limit,
        endpoint_cap,
        {e: f.in_flight for e, f in endpoints.items()},
        {e: f.throttle for e, f in endpoints.items() if f.throttle is not None},
        await _app_throttles(conn, _maybe_throttled(candidates, endpoints)),
        await _fifo_busy(conn, now, {c.endpoint_id for c in candidates if c.fifo_key is not None}),
    )
    choice = policy.choose(load, excluded, candidates, load.endpoint_throttles, load.app_throttles)
    await _save_tats(conn, t.endpoint, choice.endpoint_tats)
    await _save_tats(conn, t.application, choice.app_tats)
    more_due = choice.more_due or locked_out > 0
    wake_at = _look_again(choice.wake_at, now) if locked_out or unread else choice.wake_at
    taken = Counter(c.endpoint_id for c in choice.picked)
    full |= {e for e, f in endpoints.items() if f.in_flight + taken[e] >= endpoint_cap}
    if not choice.picked:
        return ClaimResult([], more_due, wake_at, full)
    lease_end = now + lease_ms
    ids = raw.id_list(conn, [c.id for c in choice.picked])
    params = {"ids": ids, "sending": _SENDING, "lease_end": lease_end, "now": now}
    if conn.dialect.name == "postgresql":
        rows = await raw.rows(conn, _LEASE_WITH_MESSAGES, params)
        claimed = [row[:7] for row in rows]
        messages = {row[1]: tuple(row[7:]) for row in rows if row[8] is not None}
    else:
        claimed = await raw.rows(conn, _LEASE, params)
        ids = raw.id_list(conn, sorted({row[1] for row in claimed}))
        messages = {row[0]: row[1:] for row in await raw.rows(conn, _MESSAGES, {"ids": ids}, json=(4,))}
    return ClaimResult(_hydrate(claimed, messages, endpoints, lease_end, now), more_due, wake_at, full)


# A delivery whose message is gone: nothing to send.
_NO_MESSAGE = (None, "", None, None, None)

# An endpoint another process is claiming for is free again when that claim commits.
LOCKED_OUT_RETRY_MS = 50


def _look_again(wake_at: int | None, now: int) -> int:
    """When a claim that left endpoints to other processes, or rows unread, should look again."""
    soon = now + LOCKED_OUT_RETRY_MS
    return soon if wake_at is None else min(wake_at, soon)


def _hydrate(
    claimed: Sequence[Any],
    messages: Mapping[str, Sequence[Any]],  # id -> (payload, event type, content type, headers, forward path)
    endpoints: Mapping[str, _Endpoint],
    locked_until: int,
    now: int,
) -> list[Claimed]:
    out = []
    for id_, msg_id, endpoint_id, app_id, attempts, trigger, fifo_key in claimed:
        endpoint = endpoints.get(endpoint_id)
        payload, event_type, content_type, headers, forward = messages.get(msg_id, _NO_MESSAGE)
        secrets = []
        url = None
        if endpoint is not None:
            secrets = [endpoint.secret] + [s["key"] for s in endpoint.old_secrets if s["expires_at"] > now]
            url = endpoint.url
            if forward is not None and endpoint.path_forwarding:  # a request received (inbound gateway)
                url = forward_url(url, forward)
        out.append(
            Claimed(
                id=id_,
                msg_id=msg_id,
                endpoint_id=endpoint_id,
                app_id=app_id,
                attempts=attempts,
                trigger=trigger,
                locked_until=locked_until,
                payload=payload,
                url=url,
                secrets=secrets,
                headers=dict(endpoint.headers) if endpoint else {},
                disabled=endpoint.disabled if endpoint else True,
                client_cert=endpoint.client_cert if endpoint else None,
                content_type=content_type,
                forwarded=forwarded_headers(headers),
                event_type=event_type,
                transformation=endpoint.transformation if endpoint else None,
                fifo_key=fifo_key,
                fifo_on_exhausted=endpoint.fifo_on_exhausted if endpoint else "skip",
            )
        )
    return out


def forwarded_headers(pairs: Sequence[Sequence[str]] | None) -> dict[str, str]:
    """A received request's headers as one mapping: repeats joined with ", " (RFC 9110)."""
    out: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in pairs or ():
        first = lowered.setdefault(name.lower(), name)
        out[first] = f"{out[first]}, {value}" if first in out else value
    return out


# One statement for every outcome of a batch (executemany), fenced on the lease.
_MOVE = raw.Statement(
    "UPDATE delivery SET status = :b_status, next_attempt_at = :b_next, locked_until = NULL, updated_at = :b_at,"
    " attempts = attempts + :b_inc WHERE id = :b_id AND locked_until = :b_lease"
)
_ATTEMPT_COLUMNS = (
    "id", "delivery_id", "msg_id", "endpoint_id", "app_id", "url", "status", "response_status_code", "response",
    "response_duration_ms", "error", "trigger", "attempt_number", "created_at", "request", "request_headers",
)  # fmt: skip
_INSERT_ATTEMPT = raw.Statement.insert("attempt", _ATTEMPT_COLUMNS)
_RECOVERED = _per_database(
    "UPDATE endpoint SET failing_since = NULL WHERE {0} AND failing_since IS NOT NULL", _in("id", "ids")
)


# PostgreSQL: a batch's attempts, its deliveries' next states and its endpoints' recoveries
# in one statement (one round trip instead of three to five).
_ATTEMPT_ARRAYS = {
    "status": "smallint", "response_status_code": "int", "response_duration_ms": "int", "trigger": "smallint",
    "attempt_number": "int", "created_at": "bigint",
}  # fmt: skip
_ATTEMPT_JSON = ("request", "request_headers")


def _record_all_sql() -> str:
    attempts = raw.insert_from_arrays(
        "attempt", _ATTEMPT_COLUMNS, prefix="a_", types=_ATTEMPT_ARRAYS, json=_ATTEMPT_JSON
    )
    return (
        f"WITH a AS ({attempts}),"  # noqa: S608 - our own names
        " m AS (UPDATE delivery d SET status = u.status, next_attempt_at = u.next, locked_until = NULL,"
        " updated_at = u.at, attempts = d.attempts + u.inc FROM unnest(CAST(:b_id AS text[]),"
        " CAST(:b_lease AS bigint[]), CAST(:b_status AS smallint[]), CAST(:b_next AS bigint[]),"
        " CAST(:b_at AS bigint[]), CAST(:b_inc AS int[])) AS u(id, lease, status, next, at, inc)"
        " WHERE d.id = u.id AND d.locked_until = u.lease),"
        " r AS (UPDATE endpoint SET failing_since = NULL WHERE id = ANY(:recovered) AND failing_since IS NOT NULL)"
        " SELECT 1"
    )


_RECORD_ALL = raw.Statement(_record_all_sql())


def without_answer(o: Outcome, why: BaseException) -> Outcome:
    """``o`` with nothing kept of what came back or of what a transformation made, for an
    outcome the database refused as it was: its delivery still moves on as the attempt says,
    and the attempt log says why the rest is missing."""
    reason = (str(why).strip().splitlines() or [type(why).__name__])[0][:300]
    error = f"hookline could not record this attempt as it was ({type(why).__name__}: {reason}); the answer is not kept"
    if o.error:
        error = f"{o.error}; {error}"
    return replace(o, url=printable(o.url), response="", error=printable(error), request=None, request_headers=None)


def records_alone(outcomes: Sequence[Outcome]) -> bool:
    """Whether recording these is one statement on PostgreSQL, needing no transaction: every
    one a first-time-lucky success (no FIFO queue to advance, no operational event, nothing
    to disable)."""
    return all(
        o.succeeded
        and o.url
        and o.delivery.fifo_key is None
        and not o.disable_endpoint
        and o.delivery.attempts < operational.FAILING_AFTER
        for o in outcomes
    )


async def record(conn: Conn, outcomes: Sequence[Outcome], *, disable_after_ms: int) -> list[str]:
    """Append the attempts and move each delivery to its next state.

    The update is fenced on the lease we hold: if our lease ran out and another
    worker took the row, the attempt is still logged but the state is theirs.
    Returns the ids of endpoints this disabled. For outcomes that ``records_alone``
    this is one statement on PostgreSQL.
    """
    rows = {id(o): _attempt_row(o) for o in outcomes if o.url}
    kept = await _kept_successes(conn, outcomes)
    moves = [_next_state(o, kept=o.delivery.id in kept) for o in outcomes]
    recovered = sorted({o.delivery.endpoint_id for o in outcomes if o.succeeded})
    if conn.dialect.name == "postgresql":
        params = {f"a_{c}": [r[c] for r in rows.values()] for c in _ATTEMPT_COLUMNS}
        params |= {name: [m[name] for m in moves] for name in _MOVE.names} | {"recovered": recovered}
        await raw.rows(conn, _RECORD_ALL, params)
        recovered = []  # the statement cleared their failure runs
    else:
        await raw.execute_many(conn, _INSERT_ATTEMPT, list(rows.values()))
        await raw.execute_many(conn, _MOVE, moves)
    for o in outcomes:
        mode = o.delivery.fifo_on_exhausted
        done = o.succeeded or o.delivery.id in kept
        if o.delivery.fifo_key is not None and leaves_queue(done, o.next_attempt_at is None, mode):
            await leave_fifo_queue(conn, o.delivery.id, o.at_ms)
    disabled: list[str] = []
    for o in outcomes:
        attempt = rows.get(id(o))
        if attempt is not None and not (o.succeeded and o.delivery.attempts < operational.FAILING_AFTER):
            await _operational_events(conn, o, attempt["id"])
        if o.disable_endpoint and await _disable(conn, o.delivery.endpoint_id, o.at_ms):
            disabled.append(o.delivery.endpoint_id)
    disabled += await _track_failure_runs(conn, outcomes, disable_after_ms, recovered=recovered)
    return disabled


async def _kept_successes(conn: Conn, outcomes: Sequence[Outcome]) -> set[str]:
    """The deliveries settled without an attempt (their endpoint disabled or deleted, or the
    payload expunged, by the time a resend or replay was claimed) whose latest attempt
    succeeded: they stay ``success``. Marking them ``fail`` would say an attempt failed where
    none was made, list them among failures, and have ``recover`` send them again."""
    unsent = [o.delivery for o in outcomes if not o.url and o.delivery.attempts]
    kept = set()
    for delivery in unsent:  # rare: one lookup each, through the attempts' message index
        latest = (
            select(t.attempt.c.status)
            .where(t.attempt.c.msg_id == delivery.msg_id, t.attempt.c.delivery_id == delivery.id)
            .order_by(t.attempt.c.id.desc())
            .limit(1)
        )
        if (await conn.execute(latest)).scalar_one_or_none() == DeliveryStatus.SUCCESS:
            kept.add(delivery.id)
    return kept


def _next_state(o: Outcome, *, kept: bool = False) -> dict[str, Any]:
    if o.succeeded or kept:
        status, next_at = DeliveryStatus.SUCCESS, None
    elif o.next_attempt_at is not None:
        status, next_at = DeliveryStatus.PENDING, o.next_attempt_at
    else:
        status, next_at = DeliveryStatus.FAIL, None
    return {
        "b_id": o.delivery.id,
        "b_lease": o.delivery.locked_until,
        "b_status": int(status),
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
    await operational.endpoint_event(conn, "endpoint.disabled", records.endpoint(row))
    return True


async def _track_failure_runs(
    conn: Conn, outcomes: Sequence[Outcome], disable_after_ms: int, *, recovered: Sequence[str]
) -> list[str]:
    """Svix's auto-disable rule: an endpoint whose deliveries have been exhausting
    their retries, with no success in between, for ``disable_after_ms`` is disabled.
    ``recovered``: the endpoints whose run of failures a success ends, if not done yet."""
    ep = t.endpoint
    succeeded = {o.delivery.endpoint_id for o in outcomes if o.succeeded}
    exhausted = {
        o.delivery.endpoint_id: o.at_ms for o in outcomes if o.url and not o.succeeded and o.next_attempt_at is None
    }
    if recovered:
        await raw.execute(conn, _RECOVERED, {"ids": raw.id_list(conn, recovered)})
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


def _text(value: str) -> str:
    """``value`` as PostgreSQL's text can hold it: NUL becomes U+FFFD. What an endpoint answers,
    and the URL a transformation returns, are anybody's; one NUL failed the whole batch of
    outcomes, again at every retry."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _attempt_row(o: Outcome) -> dict[str, Any]:
    return {
        "id": new_id("atmpt", o.at_ms),
        "delivery_id": o.delivery.id,
        "msg_id": o.delivery.msg_id,
        "endpoint_id": o.delivery.endpoint_id,
        "app_id": o.delivery.app_id,
        "url": _text(o.url),  # a transformation's
        "status": int(DeliveryStatus.SUCCESS if o.succeeded else DeliveryStatus.FAIL),
        "response_status_code": o.status_code,
        "response": _text(o.response),
        "response_duration_ms": o.duration_ms,
        "error": None if o.error is None else _text(o.error),
        "trigger": o.delivery.trigger,
        "attempt_number": o.delivery.attempts + 1,
        "created_at": o.at_ms,
        "request": raw.json_text(o.request),
        "request_headers": raw.json_text(o.request_headers),
    }


_FINISHED = (int(DeliveryStatus.SUCCESS), int(DeliveryStatus.FAIL))


async def leave_fifo_queue(conn: Conn, delivery_id: str, now: int) -> bool:
    """Take a finished delivery out of its FIFO queue and make the next one due.

    Only the process whose update takes it out advances the queue (a lost lease, or a
    second recording, changes nothing). Returns whether it left.
    """
    query = select(d.c.endpoint_id, d.c.fifo_key).where(
        d.c.id == delivery_id, d.c.fifo_key.is_not(None), d.c.status.in_(_FINISHED)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return False
    endpoint_id, key = row
    # Lock the endpoint row as a publish to it does (store.messages): a delivery being
    # queued behind this one is then either committed and seen below, or sees this leave.
    ep = t.endpoint
    await conn.execute(update(ep).where(ep.c.id == endpoint_id).values(fifo_next=ep.c.fifo_next))
    taken = await conn.execute(
        update(d).where(d.c.id == delivery_id, d.c.fifo_key == key).values(fifo_key=None, updated_at=now)
    )
    if not taken.rowcount:
        return False
    waiting = (
        select(d.c.id)
        .where(
            d.c.endpoint_id == endpoint_id,
            d.c.fifo_key == key,
            d.c.status == DeliveryStatus.PENDING,
            d.c.next_attempt_at.is_(None),
        )
        .order_by(d.c.fifo_seq)
        .limit(1)
    )
    successor = (await conn.execute(waiting)).scalar_one_or_none()
    if successor is not None:
        await conn.execute(
            update(d)
            .where(d.c.id == successor, d.c.next_attempt_at.is_(None))
            .values(next_attempt_at=now, updated_at=now)
        )
        await notify_work(conn)
    return True


async def blocked_heads(conn: Conn, endpoint_id: str) -> list[tuple[str, str, str]]:
    """The FIFO queues of an endpoint blocked by an exhausted head: (delivery id, message id, key)."""
    query = select(d.c.id, d.c.msg_id, d.c.fifo_key).where(
        d.c.endpoint_id == endpoint_id, d.c.fifo_key.is_not(None), d.c.status == DeliveryStatus.FAIL
    )
    return [(row[0], row[1], row[2]) for row in (await conn.execute(query.order_by(d.c.fifo_seq))).all()]


async def release_fifo(conn: Conn, endpoint_id: str, now: int) -> None:
    """The endpoint is no longer FIFO: every delivery waiting in its queues is due now."""
    in_queue = and_(d.c.endpoint_id == endpoint_id, d.c.fifo_key.is_not(None))
    waiting = and_(in_queue, d.c.status == DeliveryStatus.PENDING, d.c.next_attempt_at.is_(None))
    await conn.execute(update(d).where(waiting).values(next_attempt_at=now, updated_at=now))
    await conn.execute(update(d).where(in_queue).values(fifo_key=None))
    await notify_work(conn)


async def reset_as_manual(
    conn: Conn, now: int, *where: ColumnElement[bool], params: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Make the deliveries matching ``where`` due now again, as manual attempts; returns how many.

    Clearing the lease also fences off an attempt still in flight from
    overwriting the new state. With ``params``, runs once per parameter set
    (``where`` then uses ``bindparam``).
    """
    statement = (
        update(d)
        .where(*where)
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            locked_until=None,
            trigger=Trigger.MANUAL,
            updated_at=now,
        )
    )
    result = await conn.execute(statement, list(params)) if params else await conn.execute(statement)
    return int(result.rowcount or 0)


async def enqueue_manual(conn: Conn, msg_id: str, endpoint_id: str, app_id: str, now: int) -> None:
    """Send a message to an endpoint again now, as a manual attempt: the (message,
    endpoint) delivery is reset if it exists, made otherwise."""
    if not await reset_as_manual(conn, now, d.c.msg_id == msg_id, d.c.endpoint_id == endpoint_id):
        await conn.execute(insert(d).values(new_delivery(msg_id, endpoint_id, app_id, now, trigger=Trigger.MANUAL)))
    await notify_work(conn)
