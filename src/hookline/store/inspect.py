"""The inspector's bins and the requests they captured."""

from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from hookline.domain.captured import CapturedRequest, headers_from_json, headers_to_json
from hookline.domain.ids import new_id
from hookline.domain.inspect import Bin, BinResponse, Captured, Signature
from hookline.store import raw
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.pagination import Page, paginate
from hookline.store.tables import Row

bins = t.inspect_bin
reqs = t.inspect_request

# Every request to a capture URL runs these: on the driver (store/raw.py), where through
# SQLAlchemy building and running them cost more than the rest of the request.
_BIN_COLUMNS = tuple(column.name for column in bins.columns)
_BY_TOKEN = raw.Statement(
    f"SELECT {', '.join(_BIN_COLUMNS)} FROM inspect_bin WHERE token = :token AND expires_at > :now"  # noqa: S608
)
_INSERT_REQUEST = raw.Statement.insert("inspect_request", tuple(column.name for column in reqs.columns))
# Keep the newest max_requests: everything older than the max_requests-th newest goes.
_TRIM = raw.Statement(
    "DELETE FROM inspect_request WHERE bin_id = :bin_id AND id <"
    " (SELECT id FROM inspect_request WHERE bin_id = :bin_id ORDER BY id DESC LIMIT 1 OFFSET :skip)"
)


def response_to_json(response: BinResponse) -> dict[str, Any]:
    return {
        "status": response.status,
        "content_type": response.content_type,
        "body": response.body,
        "headers": headers_to_json(response.headers),
        "delay": response.delay,
    }


def response_from_json(value: dict[str, Any]) -> BinResponse:
    return BinResponse(
        status=int(value["status"]),
        content_type=str(value["content_type"]),
        body=str(value["body"]),
        headers=headers_from_json(value.get("headers", [])),
        delay=float(value.get("delay", 0.0)),
    )


def _bin(row: Row) -> Bin:
    return Bin(
        id=row["id"],
        token=row["token"],
        app_id=row["app_id"],
        name=row["name"],
        response=response_from_json(row["response"]),
        max_requests=row["max_requests"],
        expires_at=row["expires_at"],
        verify_provider=row["verify_provider"],
        verify_secret=row["verify_secret"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        rate_limit=row.get("rate_limit"),
    )


def _captured(row: Row) -> Captured:
    sig = row["signature"]
    return Captured(
        id=row["id"],
        bin_id=row["bin_id"],
        request=CapturedRequest(
            method=row["method"],
            path=row["path"],
            query=row["query"],
            headers=headers_from_json(row["headers"]),
            body=bytes(row["body"]),
            client=row["client"],
            received_at=row["received_at"],
        ),
        signature=None if sig is None else Signature(sig["provider"], bool(sig["valid"]), sig.get("reason")),
        response_status=row["response_status"],
        forwarded_at=row["forwarded_at"],
    )


def _owned(owner: str | None) -> Any:
    """Bins the caller may see: an application token sees its application's, the admin all."""
    return True if owner is None else bins.c.app_id == owner


async def create(conn: Conn, values: dict[str, Any]) -> Bin:
    now = now_ms()
    row = {"id": new_id("bin", now), "created_at": now, "updated_at": now, **values}
    await conn.execute(insert(bins).values(row))
    return _bin(row)


async def get(conn: Conn, bin_id: str, *, owner: str | None, now: int) -> Bin:
    """A live bin the caller owns (the admin owns every bin)."""
    query = select(bins).where(bins.c.id == bin_id, bins.c.expires_at > now, _owned(owner))
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFoundError("bin")
    return _bin(row)


async def by_token(conn: Conn, token: str, now: int) -> Bin | None:
    found = await raw.rows(conn, _BY_TOKEN, {"token": token, "now": now}, json=(_BIN_COLUMNS.index("response"),))
    return _bin(dict(zip(_BIN_COLUMNS, found[0], strict=True))) if found else None


async def page(
    conn: Conn, *, owner: str | None, now: int, limit: int, iterator: str | None, descending: bool
) -> Page[Bin]:
    query = select(bins).where(bins.c.expires_at > now, _owned(owner))
    return await paginate(conn, query, bins.c.id, limit=limit, iterator=iterator, descending=descending, record=_bin)


async def update_bin(conn: Conn, bin_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(bins).where(bins.c.id == bin_id).values(updated_at=now_ms(), **values))


async def remove(conn: Conn, bin_id: str) -> None:
    await conn.execute(delete(reqs).where(reqs.c.bin_id == bin_id))
    await conn.execute(delete(bins).where(bins.c.id == bin_id))


async def purge_expired(conn: Conn, now: int, limit: int = 100) -> int:
    """Delete up to ``limit`` expired bins with their requests; how many went."""
    ids = list((await conn.execute(select(bins.c.id).where(bins.c.expires_at <= now).limit(limit))).scalars())
    if ids:
        await conn.execute(delete(reqs).where(reqs.c.bin_id.in_(ids)))
        await conn.execute(delete(bins).where(bins.c.id.in_(ids)))
    return len(ids)


async def add_request(
    conn: Conn, bin_: Bin, request: CapturedRequest, signature: Signature | None, response_status: int | None
) -> Captured:
    """Store a captured request, dropping the bin's oldest beyond its request limit."""
    row = {
        "id": new_id("req", request.received_at),
        "bin_id": bin_.id,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": headers_to_json(request.headers),
        "body": request.body,
        "client": request.client,
        "size": len(request.body),
        "received_at": request.received_at,
        "signature": None
        if signature is None
        else {"provider": signature.provider, "valid": signature.valid, "reason": signature.reason},
        "response_status": response_status,
        "forwarded_at": None,
    }
    encoded = {**row, "headers": raw.json_text(row["headers"]), "signature": raw.json_text(row["signature"])}
    await raw.execute(conn, _INSERT_REQUEST, encoded)
    await raw.execute(conn, _TRIM, {"bin_id": bin_.id, "skip": bin_.max_requests - 1})
    return _captured(row)


async def set_response_status(conn: Conn, request_id: str, status: int) -> None:
    await conn.execute(update(reqs).where(reqs.c.id == request_id).values(response_status=status))


async def get_request(conn: Conn, bin_id: str, request_id: str) -> Captured:
    query = select(reqs).where(reqs.c.bin_id == bin_id, reqs.c.id == request_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFoundError("request")
    return _captured(row)


async def requests_page(
    conn: Conn, bin_id: str, *, limit: int, iterator: str | None, descending: bool
) -> Page[Captured]:
    query = select(reqs).where(reqs.c.bin_id == bin_id)
    return await paginate(
        conn, query, reqs.c.id, limit=limit, iterator=iterator, descending=descending, record=_captured
    )


async def requests_after(
    conn: Conn, bin_id: str, after: str | None, *, pending_only: bool, limit: int
) -> list[Captured]:
    """Requests newer than ``after`` (oldest first); only those no listener has had if ``pending_only``."""
    conditions = [reqs.c.bin_id == bin_id]
    if after:
        conditions.append(reqs.c.id > after)
    if pending_only:
        conditions.append(reqs.c.forwarded_at.is_(None))
    query = select(reqs).where(and_(*conditions)).order_by(reqs.c.id).limit(limit)
    return [_captured(r) for r in (await conn.execute(query)).mappings()]


async def newest_id(conn: Conn, bin_id: str) -> str | None:
    query = select(func.max(reqs.c.id)).where(reqs.c.bin_id == bin_id)
    value = (await conn.execute(query)).scalar()
    return None if value is None else str(value)


async def mark_forwarded(conn: Conn, request_id: str, at: int) -> bool:
    """Record that a listener had the request; False if one already had (exactly once)."""
    query = update(reqs).where(reqs.c.id == request_id, reqs.c.forwarded_at.is_(None)).values(forwarded_at=at)
    return bool((await conn.execute(query)).rowcount)


async def delete_requests(conn: Conn, bin_id: str, request_id: str | None = None) -> int:
    query = delete(reqs).where(reqs.c.bin_id == bin_id)
    if request_id is not None:
        query = query.where(reqs.c.id == request_id)
    return int((await conn.execute(query)).rowcount)
