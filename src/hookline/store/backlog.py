"""How much delivery work is waiting: for metrics and health."""

from dataclasses import dataclass

from sqlalchemy import func, select

from hookline.domain.model import OPEN_STATUSES
from hookline.store import tables as t
from hookline.store.database import Conn

d = t.delivery
_UNFINISHED = select(func.count()).where(d.c.status.in_(OPEN_STATUSES))
_OLDEST_DUE = select(func.min(d.c.next_attempt_at)).where(d.c.next_attempt_at.is_not(None))


@dataclass(frozen=True)
class Backlog:
    unfinished: int
    oldest_due_ms: int | None  # the earliest next_attempt_at, due or not


async def backlog(conn: Conn) -> Backlog:
    unfinished = (await conn.execute(_UNFINISHED)).scalar_one()
    oldest = (await conn.execute(_OLDEST_DUE)).scalar_one_or_none()
    return Backlog(int(unfinished), None if oldest is None else int(oldest))
