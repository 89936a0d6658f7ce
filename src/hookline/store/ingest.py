"""Inbound gateway persistence: sources, the requests they took, the dedup window."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hookline.domain.captured import CapturedRequest, headers_from_json, headers_to_json
from hookline.domain.ingest import Received, Source
from hookline.store import raw
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.pagination import Page, paginate
from hookline.store.tables import Row

src = t.ingest_source
req = t.ingest_request
dedup = t.ingest_dedup

# Every request to an ingest URL runs these: on the driver (store/raw.py), where through
# SQLAlchemy each cost more Python than the database spent on it.
_SOURCE_COLUMNS = (
    "id",
    "uid",
    "name",
    "type",
    "config",
    "metadata",
    "response",
    "app_id",
    "token",
    "created_at",
    "updated_at",
    "allowed_ips",
    "rate_limit",
)
_SOURCE_JSON = tuple(_SOURCE_COLUMNS.index(c) for c in ("metadata", "response", "allowed_ips"))
_BY_TOKEN = raw.Statement(
    f"SELECT {', '.join(_SOURCE_COLUMNS)} FROM ingest_source"  # noqa: S608 - our own names
    " WHERE token_hash = :hash OR (old_token_hash = :hash AND old_token_expires_at > :now) LIMIT 1"
)
_REQUEST_COLUMNS = tuple(column.name for column in req.columns)
_INSERT_REQUEST = raw.Statement.insert("ingest_request", _REQUEST_COLUMNS)
_SEEN = raw.Statement(
    "SELECT request_id FROM ingest_dedup WHERE source_id = :source_id AND dedup_key = :key AND expires_at > :now"
)
_DELETE_EXPIRED = raw.Statement(
    "DELETE FROM ingest_dedup WHERE source_id = :source_id AND dedup_key = :key AND expires_at <= :now"
)
_INSERT_DEDUP = raw.Statement.insert("ingest_dedup", tuple(column.name for column in dedup.columns))
# PostgreSQL: the keys of a whole batch of requests in one round trip (SQLite has no round
# trips to save: ``seen_many`` asks for each key with ``_SEEN``).
_SEEN_MANY = raw.Statement(
    "SELECT source_id, dedup_key FROM ingest_dedup WHERE (source_id, dedup_key) IN"
    " (SELECT * FROM unnest(CAST(:source_ids AS text[]), CAST(:keys AS text[]))) AND expires_at > :now"
)


def _source(row: Row) -> Source:
    return Source(
        id=row["id"],
        uid=row["uid"],
        name=row["name"],
        type=row["type"],
        config=row["config"],
        metadata=dict(row["metadata"]),
        response=row["response"],
        app_id=row["app_id"],
        token=row["token"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allowed_ips=None if row["allowed_ips"] is None else tuple(row["allowed_ips"]),
        rate_limit=row["rate_limit"],
    )


def _received(row: Row) -> Received:
    return Received(
        id=row["id"],
        source_id=row["source_id"],
        status=row["status"],
        cause=row["cause"],
        dedup_key=row["dedup_key"],
        msg_id=row["msg_id"],
        request=CapturedRequest(
            method=row["method"],
            path=row["path"],
            query=row["query"],
            headers=headers_from_json(row["headers"]),
            body=bytes(row["body"]),
            client=row["client"],
            received_at=row["received_at"],
        ),
    )


async def create_source(conn: Conn, values: dict[str, Any]) -> Source:
    try:
        await conn.execute(insert(src).values(values))
    except IntegrityError as exc:
        raise ConflictError("a source with this uid already exists") from exc
    return await get_source(conn, values["id"])


async def find_source(conn: Conn, key: str) -> Source | None:
    row = (await conn.execute(select(src).where(or_(src.c.id == key, src.c.uid == key)).limit(1))).mappings().first()
    return None if row is None else _source(row)


async def get_source(conn: Conn, key: str) -> Source:
    found = await find_source(conn, key)
    if found is None:
        raise NotFoundError("source")
    return found


async def source_by_token(conn: Conn, token_hash: str, now: int) -> Source | None:
    """The source this ingest token opens: its current token, or the one before it in its grace period."""
    found = await raw.rows(conn, _BY_TOKEN, {"hash": token_hash, "now": now}, json=_SOURCE_JSON)
    return _source(dict(zip(_SOURCE_COLUMNS, found[0], strict=True))) if found else None


async def page_sources(conn: Conn, *, limit: int, iterator: str | None, descending: bool) -> Page[Source]:
    return await paginate(
        conn, select(src), src.c.id, limit=limit, iterator=iterator, descending=descending, record=_source
    )


async def update_source(conn: Conn, source_id: str, values: dict[str, Any]) -> Source:
    try:
        await conn.execute(update(src).where(src.c.id == source_id).values(updated_at=now_ms(), **values))
    except IntegrityError as exc:
        raise ConflictError("a source with this uid already exists") from exc
    return await get_source(conn, source_id)


async def delete_source(conn: Conn, source_id: str) -> None:
    await conn.execute(delete(dedup).where(dedup.c.source_id == source_id))
    await conn.execute(delete(req).where(req.c.source_id == source_id))
    await conn.execute(delete(src).where(src.c.id == source_id))


def source_app_ids() -> Any:
    """A subquery of the internal applications that back sources."""
    return select(src.c.app_id)


async def add_request(conn: Conn, values: dict[str, Any], request: CapturedRequest) -> None:
    await raw.execute(conn, _INSERT_REQUEST, _request_row(values, request))


async def add_requests(conn: Conn, received: Sequence[tuple[dict[str, Any], CapturedRequest]]) -> None:
    """``add_request`` for several requests, in one call to the driver."""
    await raw.execute_many(conn, _INSERT_REQUEST, [_request_row(values, request) for values, request in received])


def _request_row(values: dict[str, Any], request: CapturedRequest) -> dict[str, Any]:
    return {
        "cause": None,
        "dedup_key": None,
        "msg_id": None,
        **values,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": raw.json_text(headers_to_json(request.headers)),
        "body": request.body,
        "client": request.client,
        "received_at": request.received_at,
    }


async def get_request(conn: Conn, source_id: str, request_id: str) -> Received:
    query = select(req).where(req.c.source_id == source_id, req.c.id == request_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFoundError("request")
    return _received(row)


def _request_query(source_id: str, status: str | None, since: int | None, until: int | None) -> Any:
    query = select(req).where(req.c.source_id == source_id)
    if status is not None:
        query = query.where(req.c.status == status)
    if since is not None:
        query = query.where(req.c.received_at >= since)
    if until is not None:
        query = query.where(req.c.received_at < until)
    return query


async def page_requests(
    conn: Conn,
    source_id: str,
    *,
    status: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    iterator: str | None,
) -> Page[Received]:
    """Newest first."""
    query = _request_query(source_id, status, since, until)
    return await paginate(conn, query, req.c.id, limit=limit, iterator=iterator, descending=True, record=_received)


async def requests_between(conn: Conn, source_id: str, since: int, until: int, *, limit: int) -> list[Received]:
    """Oldest first, at most ``limit``."""
    query = _request_query(source_id, None, since, until).order_by(req.c.id).limit(limit)
    return [_received(row) for row in (await conn.execute(query)).mappings()]


async def mark_accepted(conn: Conn, request_id: str, msg_id: str) -> None:
    await conn.execute(update(req).where(req.c.id == request_id).values(status="accepted", cause=None, msg_id=msg_id))


async def seen(conn: Conn, source_id: str, key: str, now: int) -> str | None:
    """The request that first brought ``key`` within the window, if any."""
    found = await raw.rows(conn, _SEEN, {"source_id": source_id, "key": key, "now": now})
    return str(found[0][0]) if found else None


async def seen_many(conn: Conn, keys: Collection[tuple[str, str]], now: int) -> set[tuple[str, str]]:
    """Which of ``keys`` ((source id, dedup key) pairs) are within their window."""
    if conn.dialect.name != "postgresql":
        return {(source_id, key) for source_id, key in keys if await seen(conn, source_id, key, now) is not None}
    params = {"source_ids": [s for s, _ in keys], "keys": [k for _, k in keys], "now": now}
    return {(str(s), str(k)) for s, k in await raw.rows(conn, _SEEN_MANY, params)}


async def remember(conn: Conn, source_id: str, key: str, request_id: str, now: int, expires_at: int) -> None:
    """Open the window for ``key`` (an expired entry is replaced). Raises ConflictError when a
    concurrent request took the key first: the caller's transaction then answers as a duplicate."""
    await remember_many(conn, [(source_id, key, request_id, expires_at)], now)


async def remember_many(conn: Conn, entries: Sequence[tuple[str, str, str, int]], now: int) -> None:
    """``remember`` for several (source id, dedup key, request id, expires at) at once. Raises
    ConflictError when a concurrent request took any of the keys first."""
    expired = [{"source_id": s, "key": k, "now": now} for s, k, _, _ in entries]
    await raw.execute_many(conn, _DELETE_EXPIRED, expired)
    try:
        await raw.execute_many(
            conn,
            _INSERT_DEDUP,
            [{"source_id": s, "dedup_key": k, "request_id": r, "expires_at": e} for s, k, r, e in entries],
        )
    except IntegrityError as exc:
        raise ConflictError("this event is being received concurrently") from exc
