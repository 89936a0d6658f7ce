"""Stored first responses for POSTs that carry an ``idempotency-key``."""

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hookline.store import tables as t
from hookline.store.database import Conn

TTL_MS = 12 * 3600 * 1000
# A key still "pending" this long belongs to a request that died with its process
# or lost its database: let the client's retry take it over.
ABANDONED_MS = 60_000
idem = t.idempotency


@dataclass(frozen=True)
class Stored:
    state: str  # "pending" while the first request runs, then "done"
    status_code: int | None
    body: bytes | None


async def claim(conn: Conn, key_hash: str, now: int) -> Stored | None:
    """Reserve ``key_hash`` for this request; return the earlier entry if there is one."""
    stale = (idem.c.created_at < now - TTL_MS) | (
        (idem.c.state == "pending") & (idem.c.created_at < now - ABANDONED_MS)
    )
    await conn.execute(delete(idem).where(idem.c.key_hash == key_hash, stale))
    try:
        async with conn.begin_nested():
            await conn.execute(insert(idem).values(key_hash=key_hash, state="pending", created_at=now))
    except IntegrityError:
        row = (await conn.execute(select(idem).where(idem.c.key_hash == key_hash))).mappings().one()
        return Stored(row["state"], row["status_code"], row["body"])
    return None


async def complete(conn: Conn, key_hash: str, status_code: int, body: bytes) -> None:
    values = {"state": "done", "status_code": status_code, "body": body}
    await conn.execute(update(idem).where(idem.c.key_hash == key_hash).values(values))


async def release(conn: Conn, key_hash: str) -> None:
    """Forget a key whose request did not succeed, so the client may retry it."""
    await conn.execute(delete(idem).where(idem.c.key_hash == key_hash))


async def prune(conn: Conn, now: int) -> int:
    result = await conn.execute(delete(idem).where(idem.c.created_at < now - TTL_MS))
    return int(result.rowcount or 0)
