"""Applications (tenants)."""

from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from hookline.domain.ids import new_id
from hookline.domain.model import AppExclusions, Application
from hookline.store import raw, records
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import ConflictError, NotFoundError
from hookline.store.pagination import Page, paginate

app = t.application


# An id wins over a uid that happens to spell it, so that no uid can shadow another application.
_FIND = (
    select(app)
    .where(or_(app.c.id == bindparam("key"), app.c.uid == bindparam("key")))
    .order_by((app.c.id == bindparam("key")).desc())
    .limit(1)
)


# The same, on the driver (every publish runs it; store/raw.py).
_FIND_RAW = raw.Statement(
    "SELECT id, uid, name, metadata, throttle_rate, created_at, updated_at, internal FROM application"
    " WHERE id = :key OR uid = :key ORDER BY CASE WHEN id = :key THEN 0 ELSE 1 END LIMIT 1"
)


async def find(conn: Conn, id_or_uid: str) -> Application | None:
    found = await raw.rows(conn, _FIND_RAW, {"key": id_or_uid}, json=(3,))
    if not found:
        return None
    id_, uid, name, metadata, throttle_rate, created_at, updated_at, internal = found[0]
    return Application(id_, uid, name, metadata, throttle_rate, created_at, updated_at, bool(internal))


async def get(conn: Conn, id_or_uid: str) -> Application:
    found = await find(conn, id_or_uid)
    if found is None:
        raise NotFoundError("application")
    return found


PLAY_URL = "https://play.svix.com/%"


async def page(
    conn: Conn,
    *,
    only: str | None,
    limit: int,
    iterator: str | None,
    descending: bool,
    exclude: AppExclusions | None = None,
) -> Page[Application]:
    """Applications the API lists (never hookline's internal ones); ``only`` narrows to one id."""
    query = select(app).where(app.c.internal.is_(False))
    if only is not None:
        query = query.where(app.c.id == only)
    exclude = exclude or AppExclusions()
    ep = t.endpoint
    owned = select(ep.c.id).where(ep.c.app_id == app.c.id)
    if exclude.no_endpoints:
        query = query.where(exists(owned))
    if exclude.disabled_endpoints:
        query = query.where(~exists(owned.where(ep.c.disabled.is_(True))))
    if exclude.play_endpoints:
        query = query.where(~exists(owned.where(ep.c.url.like(PLAY_URL))))
    return await paginate(
        conn, query, app.c.id, limit=limit, iterator=iterator, descending=descending, record=records.application
    )


async def create(conn: Conn, fields: dict[str, Any]) -> Application:
    now = now_ms()
    values = {"id": new_id("app"), "created_at": now, "updated_at": now, **fields}
    try:
        await conn.execute(insert(app).values(values))
    except IntegrityError as exc:
        raise ConflictError("an application with this uid already exists") from exc
    return await get(conn, values["id"])


async def create_or_find(conn: Conn, fields: dict[str, Any], key: str) -> tuple[Application, bool]:
    """Create an application, or find the one ``key`` (id or uid) names when another has its
    uid: a get-or-create that lost a race to a concurrent one gets what the winner made.
    Returns it and whether it was created; ConflictError when the uid is taken by an
    application ``key`` does not name."""
    now = now_ms()
    values = {"id": new_id("app"), "created_at": now, "updated_at": now, **fields}
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # DO NOTHING rather than catching the violation: on PostgreSQL a failed statement would
    # end the caller's transaction. A concurrent insert of the same uid is waited for, and
    # its row, committed by then, is what the next statement reads.
    if (await conn.execute(dialect_insert(app).values(values).on_conflict_do_nothing())).rowcount:
        return await get(conn, values["id"]), True
    found = await find(conn, key)
    if found is None:
        raise ConflictError("an application with this uid already exists")
    return found, False


async def source_of(conn: Conn, app_id: str) -> str | None:
    """The ingest source an internal application backs, if any."""
    query = select(t.ingest_source.c.id).where(t.ingest_source.c.app_id == app_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def update_fields(conn: Conn, app_id: str, fields: dict[str, Any]) -> Application:
    try:
        await conn.execute(update(app).where(app.c.id == app_id).values(updated_at=now_ms(), **fields))
    except IntegrityError as exc:
        raise ConflictError("an application with this uid already exists") from exc
    return await get(conn, app_id)


async def remove(conn: Conn, app_id: str) -> None:
    """Delete an application with everything that is only its: messages (payloads included),
    their deliveries and attempts, endpoints (and their client certificates), tokens (and the
    portal links they back), integrations, polling cursors, background tasks (and their
    results), capture URLs (and their requests).

    All in the caller's one transaction: a crash never leaves messages behind an application
    that is gone. That may be many rows, but payloads and attempts are bounded by retention
    (HOOKLINE_ATTEMPT_RETENTION_DAYS), each delete below goes through an index (attempts and
    deliveries through their messages' ids), and deleting an application is a rare admin act;
    on SQLite other writers wait for it meanwhile, as for a ``prune``.
    Idempotency keys name no application: a stored answer is forgotten after 12 hours.
    """
    messages = select(t.message.c.id).where(t.message.c.app_id == app_id)
    await conn.execute(delete(t.attempt).where(t.attempt.c.msg_id.in_(messages)))
    await conn.execute(delete(t.delivery).where(t.delivery.c.msg_id.in_(messages)))
    await conn.execute(delete(t.message).where(t.message.c.app_id == app_id))
    # Rows of its endpoints that no message of it explains (none are expected): by endpoint.
    endpoints = select(t.endpoint.c.id).where(t.endpoint.c.app_id == app_id)
    await conn.execute(delete(t.attempt).where(t.attempt.c.endpoint_id.in_(endpoints)))
    await conn.execute(delete(t.delivery).where(t.delivery.c.endpoint_id.in_(endpoints)))
    await conn.execute(delete(t.endpoint_client_cert).where(t.endpoint_client_cert.c.app_id == app_id))
    await conn.execute(delete(t.poller_cursor).where(t.poller_cursor.c.app_id == app_id))
    await conn.execute(delete(t.endpoint).where(t.endpoint.c.app_id == app_id))
    tokens = select(t.api_token.c.id).where(t.api_token.c.app_id == app_id)
    await conn.execute(delete(t.portal_link).where(t.portal_link.c.token_id.in_(tokens)))
    await conn.execute(delete(t.integration).where(t.integration.c.app_id == app_id))
    await conn.execute(delete(t.api_token).where(t.api_token.c.app_id == app_id))
    tasks = select(t.background_task.c.id).where(t.background_task.c.app_id == app_id)
    await conn.execute(delete(t.background_task_result).where(t.background_task_result.c.task_id.in_(tasks)))
    await conn.execute(delete(t.background_task).where(t.background_task.c.app_id == app_id))
    bins = select(t.inspect_bin.c.id).where(t.inspect_bin.c.app_id == app_id)
    await conn.execute(delete(t.inspect_request).where(t.inspect_request.c.bin_id.in_(bins)))
    await conn.execute(delete(t.inspect_bin).where(t.inspect_bin.c.app_id == app_id))
    await conn.execute(delete(app).where(app.c.id == app_id))
