"""Retention: expunge expired payloads, prune old attempts, idempotency keys and received requests."""

from dataclasses import dataclass

from sqlalchemy import delete, text, update

from hookline.store import idempotency, tokens
from hookline.store import tables as t
from hookline.store.database import Conn

# An ended dashboard session or portal grant stays listed (the dashboard's sign-in sessions)
# this long, then goes: every sign-in and portal opening makes one.
SIGN_IN_KEPT_MS = 7 * 86_400_000
# Any constant: on PostgreSQL only one process at a time runs the cleaner.
CLEANER_LOCK = 7_461_003


@dataclass(frozen=True)
class Pruned:
    payloads_expunged: int
    attempts_deleted: int


async def take_cleaner_lock(conn: Conn) -> bool:
    """True when this transaction may clean (always on SQLite: one writer at a time)."""
    if conn.dialect.name != "postgresql":
        return True
    return bool((await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": CLEANER_LOCK})).scalar())


async def expunge_payloads(conn: Conn, now: int, *, created_before: int | None = None) -> int:
    """Drop the payloads whose retention period is over (or all created before a time)."""
    m = t.message
    due = m.c.payload_expires_at < now if created_before is None else m.c.created_at < created_before
    result = await conn.execute(update(m).where(due, m.c.payload.is_not(None)).values(payload=None))
    return int(result.rowcount or 0)


async def prune_attempts(conn: Conn, older_than: int) -> int:
    result = await conn.execute(delete(t.attempt).where(t.attempt.c.created_at < older_than))
    return int(result.rowcount or 0)


async def clean(conn: Conn, now: int, attempt_retention_ms: int) -> Pruned:
    expunged = await expunge_payloads(conn, now)
    pruned = await prune_attempts(conn, now - attempt_retention_ms)
    await idempotency.prune(conn, now)
    await prune_ingest(conn, now, now - attempt_retention_ms)
    await tokens.purge_ended_sign_ins(conn, now - SIGN_IN_KEPT_MS)
    return Pruned(expunged, pruned)


async def prune_ingest(conn: Conn, now: int, older_than: int) -> None:
    """Received requests are kept as long as attempts; dedup entries until their window ends."""
    await conn.execute(delete(t.ingest_dedup).where(t.ingest_dedup.c.expires_at <= now))
    await conn.execute(delete(t.ingest_request).where(t.ingest_request.c.received_at < older_than))
