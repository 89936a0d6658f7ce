"""The inbound gateway: sources (ingest URLs), what they receive, and replaying it.

A source is backed by an internal application: its destinations are that application's
endpoints, so a received request becomes an ordinary message with one delivery per enabled
destination, stored in the transaction that answers the sender 2xx. The engine sends the
original body bytes and Content-Type with the sender's headers (its User-Agent too), signed
as Standard Webhooks with each destination's secret, to the destination's URL with the path
below the ingest URL and the query after it (unless the destination turns that off).
"""

import hashlib
import json
import math
import secrets
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookline import metrics
from hookline.domain import ingest as rules
from hookline.domain.addresses import allowed_from, parse_networks
from hookline.domain.captured import CapturedRequest
from hookline.domain.ids import new_id
from hookline.domain.ingest import Received, Source
from hookline.domain.model import Message
from hookline.domain.throttle import take_one
from hookline.errors import Conflict, Invalid, NotFound
from hookline.services import applications, ingest_config, payload_filters
from hookline.services import endpoints as endpoint_service
from hookline.services.batches import Coalesced
from hookline.services.context import Context, now_ms
from hookline.store import applications as app_store
from hookline.store import ingest as store
from hookline.store import messages, queue, ratelimits
from hookline.store.database import Conn, Database
from hookline.store.pagination import Page
from hookline.store.secrets import SecretBox

TOKEN_GRACE_MS = 24 * 3_600_000
MAX_RANGE = 1000
MAX_RATE_LIMIT = 100_000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def _box(ctx: Context) -> SecretBox:
    return SecretBox.from_settings(ctx.settings)


def ingest_url(ctx: Context, source: Source) -> str:
    return f"{ctx.settings.public_base()}/in/{_box(ctx).open(source.token)}"


def config_of(ctx: Context, source: Source) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(_box(ctx).open(source.config))
    return value


def awaiting_secret(ctx: Context, source: Source) -> bool:
    """Whether the source waits for its signing secret (``ingest_config.WAITS_FOR_SECRET``): what
    it receives meanwhile is stored as failing verification, to verify again once it is added."""
    return ingest_config.awaiting_secret(source.type, config_of(ctx, source))


# -- sources -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceFields:
    name: str
    type: str
    config: Any
    uid: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    allowed_ips: Sequence[str] | None = None  # CIDRs requests may come from; None: anywhere
    rate_limit: int | None = None  # requests per second, with a burst of the same size
    # Which of allowed_ips and rate_limit the caller did not give: a replace keeps them as they
    # are (the svix SDK, which knows neither, must not clear them by updating a source).
    unchanged: frozenset[str] = frozenset()


def check_rate_limit(value: int | None, where: list[str]) -> int | None:
    if value is not None and not 1 <= value <= MAX_RATE_LIMIT:
        raise Invalid(where, f"{where[-1]} must be between 1 and {MAX_RATE_LIMIT} requests per second, or null")
    return value


def _values(ctx: Context, fields: SourceFields) -> dict[str, Any]:
    config = ingest_config.check(fields.type, fields.config)
    values: dict[str, Any] = {
        "name": fields.name,
        "uid": fields.uid,
        "type": fields.type,
        "config": _box(ctx).seal(json.dumps(config)),
        "metadata": dict(fields.metadata),
        "response": fields.response,
    }
    return {**values, **_door_values(fields.allowed_ips, fields.rate_limit, fields.unchanged)}


def _door_values(
    allowed_ips: Sequence[str] | None, rate_limit: int | None, unchanged: frozenset[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "allowed_ips" not in unchanged:
        allowed = None
        if allowed_ips is not None:
            try:
                allowed = list(parse_networks(allowed_ips))
            except ValueError as exc:
                raise Invalid(["body", "allowedIps"], f"allowedIps {exc}") from None
        values["allowed_ips"] = allowed
    if "rate_limit" not in unchanged:
        values["rate_limit"] = check_rate_limit(rate_limit, ["body", "rateLimit"])
    return values


PATCHABLE = frozenset({"name", "uid", "metadata", "type", "config", "response", "allowed_ips", "rate_limit"})


async def patch(ctx: Context, key: str, changes: Mapping[str, Any]) -> Source:
    """Change only the fields in ``changes`` (``PATCHABLE``; None removes the uid, the response,
    the allow-list or the rate limit). A new type is checked with the new config, or with the
    current one when no config is given."""
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise Invalid(["body", min(unknown)], f"{min(unknown)} is not a field of a source")
    if "name" in changes and not changes["name"]:
        raise Invalid(["body", "name"], "name cannot be null: give the new name")
    if "type" in changes and changes["type"] is None:
        raise Invalid(["body", "type"], "type cannot be null: give the new type")
    if "config" in changes and changes["config"] is None:
        raise Invalid(["body", "config"], "config cannot be null: give the whole config ({} for none)")
    values: dict[str, Any] = {name: changes[name] for name in ("name", "uid", "response") if name in changes}
    if "metadata" in changes:
        values["metadata"] = dict(changes["metadata"] or {})
    door = frozenset({"allowed_ips", "rate_limit"} - set(changes))
    values.update(_door_values(changes.get("allowed_ips"), changes.get("rate_limit"), door))
    async with ctx.db.write() as conn:
        source = await store.get_source(conn, key)
        if "type" in changes or "config" in changes:
            source_type = changes.get("type") or source.type
            config = changes["config"] if "config" in changes else config_of(ctx, source)
            values["type"] = source_type
            values["config"] = _box(ctx).seal(json.dumps(ingest_config.check(source_type, config)))
        if not values:
            return source
        return await store.update_source(conn, source.id, values)


async def _create(ctx: Context, conn: Conn, fields: SourceFields) -> Source:
    values = _values(ctx, fields)
    app = await app_store.create(
        conn, {"name": f"ingest source {fields.name}", "uid": None, "metadata": {}, "internal": True}
    )
    token = _new_token()
    now = now_ms()
    values.update(
        id=new_id("src", now),
        app_id=app.id,
        token_hash=_hash(token),
        token=_box(ctx).seal(token),
        created_at=now,
        updated_at=now,
    )
    return await store.create_source(conn, values)


@dataclass(frozen=True, slots=True)
class Destination:
    """A destination made with its source: an endpoint's fields, and its secret (None: one of
    ``key_type`` is generated) and headers."""

    fields: dict[str, Any]
    secret: str | None = None
    key_type: str = "hmac"
    headers: Mapping[str, str] | None = None


def _destination_values(ctx: Context, destination: Destination, index: int) -> dict[str, Any]:
    """The endpoint row's values, checked as ``endpoint_service.create`` checks them; Invalid names
    ``destinations[index]``'s field."""
    try:
        return endpoint_service.new_values(
            ctx,
            destination.fields,
            secret=destination.secret,
            key_type=destination.key_type,
            headers=destination.headers,
        )
    except Invalid as exc:
        raise Invalid(["body", "destinations", str(index), *exc.field[1:]], str(exc)) from None


async def create(ctx: Context, fields: SourceFields, destinations: Sequence[Destination] = ()) -> Source:
    """Create the source and its destinations, all or nothing: every destination is checked
    before anything is written, and all are written in one transaction."""
    prepared = [_destination_values(ctx, d, i) for i, d in enumerate(destinations)]
    async with ctx.db.write() as conn:
        source = await _create(ctx, conn, fields)
        for values in prepared:
            await endpoint_service.insert(conn, source.app_id, values)
    return source


async def get(ctx: Context, key: str) -> Source:
    async with ctx.db.read() as conn:
        return await store.get_source(conn, key)


async def page(ctx: Context, *, limit: int, iterator: str | None, descending: bool) -> Page[Source]:
    async with ctx.db.read() as conn:
        return await store.page_sources(conn, limit=limit, iterator=iterator, descending=descending)


async def upsert(ctx: Context, key: str, fields: SourceFields) -> tuple[Source, bool]:
    """Replace the source's fields, or create it with ``key`` as its uid. Returns it and
    whether it was created."""
    async with ctx.db.write() as conn:
        existing = await store.find_source(conn, key)
        if existing is None:
            uid = fields.uid or key
            return await _create(ctx, conn, SourceFields(**{**_as_dict(fields), "uid": uid})), True
        values = _values(ctx, fields)
        if fields.uid is None:
            values.pop("uid")
        return await store.update_source(conn, existing.id, values), False


def _as_dict(fields: SourceFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in SourceFields.__dataclass_fields__}


async def delete(ctx: Context, key: str) -> None:
    async with ctx.db.write() as conn:
        source = await store.get_source(conn, key)
        await store.delete_source(conn, source.id)
        await app_store.remove(conn, source.app_id)


async def rotate_token(ctx: Context, key: str) -> Source:
    """A new ingest URL; the old one keeps working for 24 hours."""
    token = _new_token()
    now = now_ms()
    async with ctx.db.write() as conn:
        source = await store.get_source(conn, key)
        old = _box(ctx).open(source.token)
        return await store.update_source(
            conn,
            source.id,
            {
                "token_hash": _hash(token),
                "token": _box(ctx).seal(token),
                "old_token_hash": _hash(old),
                "old_token_expires_at": now + TOKEN_GRACE_MS,
            },
        )


async def app_of(ctx: Context, key: str) -> applications.OwnerKey:
    """The internal application whose endpoints are the source's destinations, as the key its
    owner writes to them with (the ordinary API may only read them)."""
    return applications.OwnerKey((await get(ctx, key)).app_id)


# -- receiving -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    """What the sender gets back."""

    status_code: int
    content_type: str
    body: bytes
    request_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _json_answer(
    status: int, body: dict[str, Any], request_id: str | None = None, headers: tuple[tuple[str, str], ...] = ()
) -> Answer:
    return Answer(status, "application/json", json.dumps(body).encode(), request_id, headers)


def _accepted_answer(source: Source, request_id: str, duplicate: bool) -> Answer:
    custom = source.response
    if custom:
        return Answer(
            int(custom.get("statusCode") or 200),
            str(custom.get("contentType") or "text/plain"),
            str(custom.get("body") or "").encode(),
            request_id,
        )
    body: dict[str, Any] = {"id": request_id, "status": rules.DUPLICATE if duplicate else rules.ACCEPTED}
    return _json_answer(200, body, request_id)


def _new_message(source: Source, request: CapturedRequest, check: ingest_config.Check) -> messages.NewMessage:
    return messages.NewMessage(
        app_id=source.app_id,
        event_type=rules.event_type(source.type, request),
        payload=request.body,
        content_type=request.content_type or "application/octet-stream",
        headers=rules.forwarded_headers(request, drop=check.private_headers),
        forward_path=rules.forward_path(request),
    )


def _route(
    endpoints: Sequence[Mapping[str, Any]], source: Source, request: CapturedRequest, new: messages.NewMessage
) -> list[Mapping[str, Any]]:
    """The destinations (of ``endpoints``, the source's enabled ones) that take a received
    request, live or replayed: event types and channels as for any message, then the
    destinations' payload filters, as on publish."""
    doc = payload_filters.document(new.event_type, None, rules.filter_payload(source.type, request))
    return [e for e in messages.matching_endpoints(endpoints, new) if payload_filters.accepts(e["filter"], doc)]


async def _fan_out(
    conn: Conn,
    source: Source,
    request: CapturedRequest,
    check: ingest_config.Check,
    live: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[Message, list[str]]:
    """The request's message, with a delivery for each destination that takes it (``_route``; of
    ``live``, the source's enabled destinations, read here when not given), and their ids."""
    new = _new_message(source, request, check)
    if live is None:
        live = await messages.live_endpoints(conn, source.app_id)
    routed = _route(live, source, request, new)
    targets = [e["id"] for e in routed]
    fifo = {e["id"] for e in routed if e["fifo"]}
    message, _ = await messages.create(conn, new, endpoint_ids=targets, fifo_endpoints=fifo)
    return message, targets


@dataclass(frozen=True, slots=True)
class _Taken:
    answer: Answer
    status: str | None = None  # None: a handshake, answered and not stored
    cause: str | None = None
    # The endpoints an accepted request's deliveries go to, when known: its wake-up names them,
    # so that an engine whose endpoints are all at their cap is not woken for nothing.
    targets: Sequence[str] | None = None


async def receive(ctx: Context, token: str, request: CapturedRequest, url: str) -> Answer:
    """Verify, deduplicate, store and fan out one request to an ingest URL. ``url`` is the
    URL the sender signed (the public URL of this request)."""
    # The usual request (verified, then accepted or a duplicate) is stored together with
    # those that arrive at the same time; anything else in a transaction of its own.
    taken = await _batches(ctx.db)(_Arrival(ctx, token, request, url))
    if taken is None:
        try:
            taken = await _take(ctx, token, request, url)
        except Conflict:
            # A concurrent copy took the dedup key between our check and our insert (PostgreSQL):
            # once more, and this time the key is there.
            taken = await _take(ctx, token, request, url)
    if taken.status is not None:
        metrics.ingest(taken.status, taken.cause)
    if taken.status == rules.ACCEPTED and (taken.targets is None or taken.targets):
        ctx.wake(taken.targets or ())
    return taken.answer


# Requests from outside the allow-list, or past the rate limit: stored to be seen, never forwarded
# (the sender of a rate-limited one was told to send it again).
_REFUSED_AT_DOOR = frozenset({rules.IP_NOT_ALLOWED, rules.RATE_LIMITED})


@dataclass(frozen=True, slots=True)
class _Refusal:
    status_code: int
    cause: str
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


async def _refused_at_door(conn: Conn, source: Source, request: CapturedRequest, now: int) -> _Refusal | None:
    """The source's allow-list, then its rate limit (a refused address spends none of it).
    The rate limit's state is the source row's, locked: it holds across processes."""
    if source.allowed_ips is not None and not allowed_from(request.client, source.allowed_ips):
        detail = f"this source does not accept requests from {request.client or 'an unknown address'}"
        return _Refusal(403, rules.IP_NOT_ALLOWED, {"code": rules.IP_NOT_ALLOWED, "detail": detail})
    if source.rate_limit is not None:
        verdict = take_one(await ratelimits.lock_tat(conn, "source", source.id), now, source.rate_limit)
        if verdict.retry_after_ms is not None:
            wait = max(1, math.ceil(verdict.retry_after_ms / 1000))
            detail = f"more than {source.rate_limit} requests per second; retry in {wait} s"
            body = {"code": rules.RATE_LIMITED, "detail": detail}
            return _Refusal(429, rules.RATE_LIMITED, body, (("Retry-After", str(wait)),))
        await ratelimits.set_tat(conn, "source", source.id, verdict.tat)
    return None


async def _take(ctx: Context, token: str, request: CapturedRequest, url: str) -> _Taken:
    """One transaction: find the source, verify, and store the request with what became of it
    (an accepted one with its message and deliveries)."""
    now = now_ms()
    request_id = new_id("req", request.received_at)
    async with ctx.db.write() as conn:
        source = await store.source_by_token(conn, _hash(token), now)
        if source is None:
            raise NotFound("source")
        row: dict[str, Any] = {"id": request_id, "source_id": source.id, "cause": None, "msg_id": None}
        refused = await _refused_at_door(conn, source, request, now)
        if refused is not None:
            cause = refused.cause
            await store.add_request(conn, {**row, "status": rules.REJECTED, "cause": cause, "dedup_key": None}, request)
            answer = _json_answer(refused.status_code, refused.body, request_id, refused.headers)
            return _Taken(answer, rules.REJECTED, cause)
        if request.method not in rules.ACCEPTED_METHODS:
            cause = rules.UNSUPPORTED_METHOD
            await store.add_request(conn, {**row, "status": rules.REJECTED, "cause": cause, "dedup_key": None}, request)
            detail = f"{request.method} is not accepted; send POST, PUT or PATCH"
            answer = _json_answer(405, {"code": cause, "detail": detail}, request_id, (("Allow", rules.ALLOW),))
            return _Taken(answer, rules.REJECTED, cause)
        check = ingest_config.verifier(source.type, config_of(ctx, source))
        try:
            check.run(list(request.headers), request.body, url, request.method, None)
        except (ingest_config.WebhookVerificationError, ValueError) as exc:
            # ValueError: text a verifier could not use (a UnicodeError); raised, it failed
            # every request batched with this one.
            cause = f"{rules.VERIFICATION_FAILED}: {exc}"
            await store.add_request(conn, {**row, "status": rules.REJECTED, "cause": cause, "dedup_key": None}, request)
            answer = _json_answer(401, {"code": rules.VERIFICATION_FAILED, "detail": str(exc)}, request_id)
            return _Taken(answer, rules.REJECTED, rules.VERIFICATION_FAILED)
        shake = rules.handshake(source.type, request, check.secret)
        if shake is not None:
            return _Taken(Answer(200, shake.content_type, shake.body))
        row["dedup_key"] = key = rules.dedup_key(source.type, request)
        window_ms = int(ctx.settings.ingest_dedup_hours * 3_600_000)
        if window_ms > 0 and await store.seen(conn, source.id, key, now) is not None:
            await store.add_request(conn, {**row, "status": rules.DUPLICATE}, request)
            return _Taken(_accepted_answer(source, request_id, duplicate=True), rules.DUPLICATE)
        message, _ = await _fan_out(conn, source, request, check)
        await store.add_request(conn, {**row, "status": rules.ACCEPTED, "msg_id": message.id}, request)
        if window_ms > 0:
            await store.remember(conn, source.id, key, request_id, now, now + window_ms)
    return _Taken(_accepted_answer(source, request_id, duplicate=False), rules.ACCEPTED)


# -- receiving together --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Arrival:
    """A request waiting for its batch."""

    ctx: Context
    token: str
    request: CapturedRequest
    url: str


@dataclass(frozen=True, slots=True)
class _Ready:
    """A request of the batch that passed its source's checks, with its message and the
    endpoints that take it."""

    source: Source
    request: CapturedRequest
    key: str
    new: messages.NewMessage
    targets: list[str]


def _checked(
    ctx: Context, source: Source | None, arrival: _Arrival, checks: dict[str, ingest_config.Check]
) -> tuple[ingest_config.Check, str] | None:
    """The source's check and the request's dedup key, if the request passes every check
    and is not a handshake; None when it needs a transaction of its own (``_take`` answers
    it): no such source, refused at the door, rate limited, a wrong method or signature."""
    request = arrival.request
    if source is None or source.rate_limit is not None or request.method not in rules.ACCEPTED_METHODS:
        return None
    if source.allowed_ips is not None and not allowed_from(request.client, source.allowed_ips):
        return None
    check = checks.get(source.id)
    if check is None:
        check = checks[source.id] = ingest_config.verifier(source.type, config_of(ctx, source))
    try:
        check.run(list(request.headers), request.body, arrival.url, request.method, None)
    except (ingest_config.WebhookVerificationError, ValueError):
        return None
    if rules.handshake(source.type, request, check.secret) is not None:
        return None
    return check, rules.dedup_key(source.type, request)


async def _ready(ctx: Context, conn: Conn, batch: Sequence[_Arrival], now: int) -> list[_Ready | None]:
    """Each request's source (one read per token), checks, message and targets (one read of
    endpoints per application); None for those ``_take`` answers alone (see ``_checked``),
    and for those with an endpoint that delivers in order."""
    sources = {token: await store.source_by_token(conn, _hash(token), now) for token in {a.token for a in batch}}
    checks: dict[str, ingest_config.Check] = {}
    endpoints: dict[str, list[Mapping[str, Any]]] = {}
    ready: list[_Ready | None] = []
    for arrival in batch:
        source = sources[arrival.token]
        checked = _checked(ctx, source, arrival, checks)
        if source is None or checked is None:
            ready.append(None)
            continue
        check, key = checked
        if source.app_id not in endpoints:
            endpoints[source.app_id] = await messages.live_endpoints(conn, source.app_id)
        new = _new_message(source, arrival.request, check)
        routed = _route(endpoints[source.app_id], source, arrival.request, new)
        if any(e["fifo"] for e in routed):
            ready.append(None)
            continue
        ready.append(_Ready(source, arrival.request, key, new, [e["id"] for e in routed]))
    return ready


async def _take_together(batch: list[_Arrival]) -> list[_Taken | None]:
    """One transaction for the batch: what ``_take`` does for each request that passes its
    checks (accepted, or a duplicate of one within the window or earlier in the batch),
    with one statement for each step instead of one per request; None for the others."""
    ctx = batch[0].ctx
    now = now_ms()
    window_ms = int(ctx.settings.ingest_dedup_hours * 3_600_000)
    taken: list[_Taken | None] = [None] * len(batch)
    try:
        async with ctx.db.write() as conn:
            ready = await _ready(ctx, conn, batch, now)
            keys = {(r.source.id, r.key) for r in ready if r is not None}
            seen = await store.seen_many(conn, keys, now) if window_ms > 0 and keys else set()
            accepted: list[tuple[int, _Ready, str]] = []
            duplicates: list[tuple[int, _Ready, str]] = []
            for i, one in enumerate(ready):
                if one is None:
                    continue
                request_id = new_id("req", one.request.received_at)
                pair = (one.source.id, one.key)
                (duplicates if window_ms > 0 and pair in seen else accepted).append((i, one, request_id))
                seen.add(pair)
            stored = await messages.create_many(conn, [(r.new, r.targets) for _, r, _ in accepted], woken_here=True)
            rows = [
                ({**_row(r, request_id), "status": rules.ACCEPTED, "msg_id": message.id}, r.request)
                for (_, r, request_id), (message, _) in zip(accepted, stored, strict=True)
            ]
            rows += [({**_row(r, request_id), "status": rules.DUPLICATE}, r.request) for _, r, request_id in duplicates]
            await store.add_requests(conn, rows)
            if window_ms > 0:
                entries = [(r.source.id, r.key, request_id, now + window_ms) for _, r, request_id in accepted]
                await store.remember_many(conn, entries, now)
    except Conflict:
        # Another process took one of the keys meanwhile (PostgreSQL): each alone, as before.
        return [None] * len(batch)
    for i, r, request_id in accepted:
        taken[i] = _Taken(_accepted_answer(r.source, request_id, duplicate=False), rules.ACCEPTED, targets=r.targets)
    for i, r, request_id in duplicates:
        taken[i] = _Taken(_accepted_answer(r.source, request_id, duplicate=True), rules.DUPLICATE)
    return taken


def _row(ready: _Ready, request_id: str) -> dict[str, Any]:
    return {"id": request_id, "source_id": ready.source.id, "cause": None, "msg_id": None, "dedup_key": ready.key}


# Requests that arrive while a batch is being stored wait, and are stored together next (as
# publishes are, services/publishing.py): on PostgreSQL one transaction of a few statements
# for all of them, instead of one of about ten round trips each.
_BATCHES: "weakref.WeakKeyDictionary[Database, Coalesced[_Arrival, _Taken | None]]" = weakref.WeakKeyDictionary()


def _batches(db: Database) -> Coalesced[_Arrival, _Taken | None]:
    """This database handle's batches: one per server process."""
    found = _BATCHES.get(db)
    if found is None:
        found = _BATCHES[db] = Coalesced(_take_together)
    return found


# -- received requests ---------------------------------------------------------
async def requests(
    ctx: Context,
    key: str,
    *,
    status: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    iterator: str | None,
) -> Page[Received]:
    if status is not None and status not in rules.STATUSES:
        raise Invalid(["query", "status"], f"status must be one of {', '.join(rules.STATUSES)}")
    source = await get(ctx, key)
    async with ctx.db.read() as conn:
        return await store.page_requests(
            conn, source.id, status=status, since=since, until=until, limit=limit, iterator=iterator
        )


async def request(ctx: Context, key: str, request_id: str) -> Received:
    source = await get(ctx, key)
    async with ctx.db.read() as conn:
        return await store.get_request(conn, source.id, request_id)


@dataclass(frozen=True, slots=True)
class Replayed:
    forwarded: int = 0  # requests sent (again) to at least one destination
    unrouted: int = 0  # requests that pass, but that no destination takes now
    rejected: int = 0  # requests that still fail verification
    causes: tuple[str, ...] = ()


def _signed_url(ctx: Context, source: Source, request: CapturedRequest) -> str:
    query = f"?{request.query}" if request.query else ""
    return f"{ingest_url(ctx, source)}{request.path}{query}"


# How a request that passes verification, but is not to be forwarded, says why.
_NOT_AGAIN = "not forwarded: "


async def _replay(
    ctx: Context, conn: Conn, source: Source, received: Received, live: Sequence[Mapping[str, Any]]
) -> int | str:
    """Forward one stored request again: the number of destinations it went to, or why not
    when it still fails verification. Either way it goes to the destinations that take it now,
    as a request arriving now would (``_route``). An accepted request goes again as its message;
    another is verified again with the source's current config (at the time it was received)
    and forwarded if it passes, unless it is a provider's URL check or an event forwarded since
    (``_NOT_AGAIN``)."""
    now = now_ms()
    req = received.request
    check = ingest_config.verifier(source.type, config_of(ctx, source))
    if received.msg_id is not None:
        new = _new_message(source, req, check)
        routed = _route(live, source, req, new)
        for endpoint in routed:
            await queue.enqueue_manual(conn, received.msg_id, endpoint["id"], source.app_id, now)
        return len(routed)
    if received.cause in _REFUSED_AT_DOOR:
        return f"{received.cause}: refused at the door, it is never forwarded"
    try:
        check.run(list(req.headers), req.body, _signed_url(ctx, source, req), req.method, req.received_at / 1000)
    except ingest_config.WebhookVerificationError as exc:
        return f"{rules.VERIFICATION_FAILED}: {exc}"
    if req.method not in rules.ACCEPTED_METHODS:
        return rules.UNSUPPORTED_METHOD
    if rules.handshake(source.type, req, check.secret) is not None:
        return f"{_NOT_AGAIN}a provider's URL check, answered to it and never forwarded"
    # The provider retries what was refused (Stripe for three days): once this copy is forwarded,
    # its next one is a duplicate. A copy of the same event (the provider's event id says so; a
    # body's hash only that it looks the same) forwarded meanwhile makes this one the duplicate.
    key = rules.dedup_key(source.type, req)
    window_ms = int(ctx.settings.ingest_dedup_hours * 3_600_000)
    first = await store.seen(conn, source.id, key, now) if window_ms > 0 else None
    if first is not None and rules.event_id(source.type, req) is not None:
        return f"{_NOT_AGAIN}{rules.DUPLICATE}: the provider sent this event again since, and {first} forwarded it"
    message, targets = await _fan_out(conn, source, req, check, live)
    await store.mark_accepted(conn, received.id, message.id)
    if window_ms > 0 and first is None:
        await store.remember(conn, source.id, key, received.id, now, now + window_ms)
    return len(targets)


async def replay(ctx: Context, key: str, request_id: str) -> None:
    """Forward one stored request again; Conflict when it still fails verification, or is not to
    be forwarded (a URL check, an event forwarded since)."""
    source = await get(ctx, key)
    async with ctx.db.write() as conn:
        received = await store.get_request(conn, source.id, request_id)
        done = await _replay(ctx, conn, source, received, await messages.live_endpoints(conn, source.app_id))
    if isinstance(done, str):
        raise Conflict(done if done.startswith(_NOT_AGAIN) else f"the request still fails: {done}")
    ctx.wake()


async def replay_range(ctx: Context, key: str, since: int, until: int) -> Replayed:
    """Forward again every request received in [since, until): at most MAX_RANGE at once.
    Duplicates and requests refused at the door (allow-list, rate limit) are left out."""
    if until <= since:
        raise Invalid(["body", "until"], "until must be after since")
    source = await get(ctx, key)
    async with ctx.db.write() as conn:
        found = await store.requests_between(conn, source.id, since, until, limit=MAX_RANGE + 1)
        found = [r for r in found if r.status != rules.DUPLICATE and r.cause not in _REFUSED_AT_DOOR]
        if len(found) > MAX_RANGE:
            raise Invalid(["body", "since"], f"more than {MAX_RANGE} requests in this range: replay a shorter one")
        live = await messages.live_endpoints(conn, source.app_id)  # once: the range is one transaction
        outcomes = [await _replay(ctx, conn, source, received, live) for received in found]
    ctx.wake()
    causes = tuple(o for o in outcomes if isinstance(o, str))
    forwarded = sum(1 for o in outcomes if isinstance(o, int) and o > 0)
    unrouted = len(outcomes) - len(causes) - forwarded
    return Replayed(forwarded=forwarded, unrouted=unrouted, rejected=len(causes), causes=causes)
