"""Stored first responses for POSTs that carry an ``idempotency-key``."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

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


async def claim_many(conn: Conn, key_hashes: Sequence[str], now: int) -> dict[str, Stored]:
    """Reserve each of ``key_hashes`` (distinct) for its request, in one statement; return the
    earlier entries of those that were taken already. A stale entry (expired, or pending and
    abandoned) is taken over."""
    if not key_hashes:
        return {}
    insert = postgresql.insert(idem) if conn.dialect.name == "postgresql" else sqlite.insert(idem)
    abandoned = (idem.c.state == "pending") & (idem.c.created_at < now - ABANDONED_MS)
    stale = (idem.c.created_at < now - TTL_MS) | abandoned
    statement = (
        insert.values([{"key_hash": key, "state": "pending", "created_at": now} for key in key_hashes])
        .on_conflict_do_update(
            index_elements=[idem.c.key_hash],
            set_={"state": "pending", "status_code": None, "body": None, "created_at": now},
            where=stale,
        )
        .returning(idem.c.key_hash)
    )
    reserved = set((await conn.execute(statement)).scalars())
    taken = [key for key in key_hashes if key not in reserved]
    if not taken:
        return {}
    rows = (await conn.execute(select(idem).where(idem.c.key_hash.in_(taken)))).mappings()
    earlier = {row["key_hash"]: Stored(row["state"], row["status_code"], row["body"]) for row in rows}
    # Gone since the insert (its request failed and freed it): still someone else's turn.
    return {key: earlier.get(key, Stored("pending", None, None)) for key in taken}


async def settle_many(conn: Conn, done: Sequence[tuple[str, int, bytes]], released: Sequence[str]) -> None:
    """Store the responses to replay (key, status, body), and free the keys of ``released``
    (requests that did not succeed, so the client may retry them)."""
    if done:
        statement = (
            update(idem)
            .where(idem.c.key_hash == bindparam("k"))
            .values(state="done", status_code=bindparam("s"), body=bindparam("b"))
        )
        await conn.execute(statement, [{"k": key, "s": status, "b": body} for key, status, body in done])
    if released:
        await conn.execute(delete(idem).where(idem.c.key_hash.in_(released)))


async def prune(conn: Conn, now: int) -> int:
    result = await conn.execute(delete(idem).where(idem.c.created_at < now - TTL_MS))
    return int(result.rowcount or 0)
