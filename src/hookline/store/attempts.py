"""The attempt log: listings by application, endpoint or message, one attempt, expunging a response."""

from sqlalchemy import ColumnElement, func, select, update

from hookline.domain.model import Attempt, AttemptFilter
from hookline.store import records
from hookline.store import tables as t
from hookline.store.database import Conn
from hookline.store.filters import message_conditions
from hookline.store.pagination import Page, paginate

a, m = t.attempt, t.message


def _conditions(f: AttemptFilter) -> list[ColumnElement[bool]]:
    conditions = message_conditions(f.messages, ids=a.c.id, prefix="atmpt")
    if f.status is not None:
        conditions.append(a.c.status == int(f.status))
    if f.status_code_class is not None:
        if f.status_code_class == 0:
            conditions.append(a.c.response_status_code == 0)
        else:
            low = int(f.status_code_class)
            conditions += [a.c.response_status_code >= low, a.c.response_status_code < low + 100]
    return conditions


async def page(
    conn: Conn,
    app_id: str,
    f: AttemptFilter,
    *,
    endpoint_id: str | None = None,
    msg_id: str | None = None,
    limit: int,
    iterator: str | None,
) -> Page[Attempt]:
    """The application's attempts (to any endpoint, to one, of one message, or both), newest first."""
    scope = [a.c.app_id == app_id]
    if endpoint_id is not None:
        scope.append(a.c.endpoint_id == endpoint_id)
    if msg_id is not None:
        scope.append(a.c.msg_id == msg_id)
    query = select(a).select_from(a.join(m, m.c.id == a.c.msg_id)).where(*scope, *_conditions(f))
    return await paginate(conn, query, a.c.id, limit=limit, iterator=iterator, descending=True, record=records.attempt)


def _one(app_id: str, msg_id: str, attempt_id: str) -> list[ColumnElement[bool]]:
    return [a.c.id == attempt_id, a.c.msg_id == msg_id, a.c.app_id == app_id]


async def find(conn: Conn, app_id: str, msg_id: str, attempt_id: str) -> Attempt | None:
    row = (await conn.execute(select(a).where(*_one(app_id, msg_id, attempt_id)))).mappings().first()
    return None if row is None else records.attempt(row)


async def expunge_response(conn: Conn, app_id: str, msg_id: str, attempt_id: str) -> bool:
    """Blank the stored response body; False when there is no such attempt."""
    result = await conn.execute(update(a).where(*_one(app_id, msg_id, attempt_id)).values(response=""))
    return bool(result.rowcount)


async def outcome_counts(conn: Conn, endpoint_id: str, *, since_ms: int | None, until_ms: int | None) -> dict[int, int]:
    """The endpoint's attempts made in ``[since, until)``, counted by status."""
    query = select(a.c.status, func.count()).where(a.c.endpoint_id == endpoint_id)
    if since_ms is not None:
        query = query.where(a.c.created_at >= since_ms)
    if until_ms is not None:
        query = query.where(a.c.created_at < until_ms)
    rows = (await conn.execute(query.group_by(a.c.status))).all()
    return {int(status): int(count) for status, count in rows}
