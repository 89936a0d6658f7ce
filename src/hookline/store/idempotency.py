"""Stored first responses for POSTs that carry an ``idempotency-key``."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete

from hookline.store import raw
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


# What a key in use is to another request (409), and to a second request of its batch.
PENDING = Stored("pending", None, None)

# On the driver (store/raw.py): a statement of fixed text whatever the number of keys, where
# SQLAlchemy compiled a new multi-row INSERT for every batch (a third of a keyed publish's CPU).
_STALE = "idempotency.created_at < :expired OR (idempotency.state = 'pending' AND idempotency.created_at < :abandoned)"
_RESERVE = raw.Statement(
    "INSERT INTO idempotency (key_hash, state, created_at) SELECT value, 'pending', :now FROM json_each(:keys)"  # noqa: S608
    " WHERE true ON CONFLICT (key_hash) DO UPDATE SET state = 'pending', status_code = NULL, body = NULL,"
    f" created_at = :now WHERE {_STALE} RETURNING key_hash",
    postgresql="INSERT INTO idempotency (key_hash, state, created_at) SELECT k, 'pending', :now"  # noqa: S608
    " FROM unnest(CAST(:keys AS text[])) AS k ON CONFLICT (key_hash) DO UPDATE SET state = 'pending',"
    f" status_code = NULL, body = NULL, created_at = :now WHERE {_STALE} RETURNING key_hash",
)
_EARLIER = raw.Statement(
    "SELECT key_hash, state, status_code, body FROM idempotency WHERE key_hash IN (SELECT value FROM json_each(:keys))",
    postgresql="SELECT key_hash, state, status_code, body FROM idempotency WHERE key_hash = ANY(:keys)",
)
_DONE = raw.Statement(
    "UPDATE idempotency SET state = 'done', status_code = :status, body = :body WHERE key_hash = :key"
)
_RELEASE = raw.Statement(
    "DELETE FROM idempotency WHERE key_hash IN (SELECT value FROM json_each(:keys))",
    postgresql="DELETE FROM idempotency WHERE key_hash = ANY(:keys)",
)


async def claim_many(conn: Conn, key_hashes: Sequence[str], now: int) -> dict[str, Stored]:
    """Reserve each of ``key_hashes`` (distinct) for its request, in one statement; return the
    earlier entries of those that were taken already. A stale entry (expired, or pending and
    abandoned) is taken over."""
    if not key_hashes:
        return {}
    params = {
        "keys": raw.id_list(conn, key_hashes),
        "now": now,
        "expired": now - TTL_MS,
        "abandoned": now - ABANDONED_MS,
    }
    reserved = {row[0] for row in await raw.rows(conn, _RESERVE, params)}
    taken = [key for key in key_hashes if key not in reserved]
    if not taken:
        return {}
    rows = await raw.rows(conn, _EARLIER, {"keys": raw.id_list(conn, taken)})
    earlier = {key: Stored(state, status, None if body is None else bytes(body)) for key, state, status, body in rows}
    # Gone since the insert (its request failed and freed it): still someone else's turn.
    return {key: earlier.get(key, PENDING) for key in taken}


async def settle_many(conn: Conn, done: Sequence[tuple[str, int, bytes]], released: Sequence[str]) -> None:
    """Store the responses to replay (key, status, body), and free the keys of ``released``
    (requests that did not succeed, so the client may retry them)."""
    await raw.execute_many(conn, _DONE, [{"key": key, "status": status, "body": body} for key, status, body in done])
    if released:
        await raw.execute(conn, _RELEASE, {"keys": raw.id_list(conn, released)})


async def prune(conn: Conn, now: int) -> int:
    result = await conn.execute(delete(idem).where(idem.c.created_at < now - TTL_MS))
    return int(result.rowcount or 0)
