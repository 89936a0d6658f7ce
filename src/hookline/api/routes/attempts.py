"""Attempt logs, and per-message / per-endpoint delivery status."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select, update

from hookline.api.deps import (
    AppId,
    Auth,
    ChannelQuery,
    CsvList,
    Db,
    EndpointId,
    Iterator,
    Limit,
    MsgId,
    When,
    load_app,
    split_csv,
    to_ms,
)
from hookline.api.routes.endpoints import endpoint_out
from hookline.api.routes.messages import channel_filter, message_fields, time_window
from hookline.api.schemas import (
    STATUS_TEXT,
    EndpointMessageOut,
    ListResponse,
    MessageAttemptOut,
    MessageEndpointOut,
    MessageStatus,
    StatusCodeClass,
    ms_to_datetime,
)
from hookline.store import endpoints, messages, tables
from hookline.store.errors import NotFoundError
from hookline.store.pagination import paginate
from hookline.store.tables import Row

router = APIRouter(prefix="/api/v1/app/{app_id}", tags=["Message Attempt"])
a, d, m = tables.attempt, tables.delivery, tables.message
StatusQuery = Annotated[MessageStatus | None, Query()]
CodeClass = Annotated[StatusCodeClass | None, Query(description="0 (no response), 100, 200, 300, 400 or 500")]
AttemptId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]


def attempt_out(row: Row) -> MessageAttemptOut:
    return MessageAttemptOut(
        id=row["id"],
        msg_id=row["msg_id"],
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        response=row["response"],
        response_status_code=row["response_status_code"],
        response_duration_ms=row["response_duration_ms"],
        status=MessageStatus(row["status"]),
        status_text=STATUS_TEXT[row["status"]],
        trigger_type=row["trigger"],
        attempt_number=row["attempt_number"],
        error=row["error"],
        timestamp=ms_to_datetime(row["created_at"]),
    )


def _next_attempt(row: Row) -> Any:
    return ms_to_datetime(row["next_attempt_at"]) if row["status"] == 1 and row["next_attempt_at"] else None


@dataclass
class AttemptFilters:
    """The filters both attempt listings share (query parameters)."""

    limit: Limit = 50
    iterator: Iterator = None
    status: StatusQuery = None
    status_code_class: CodeClass = None
    channel: ChannelQuery = None
    before: When = None
    after: When = None
    with_content: Annotated[bool, Query()] = True
    event_types: CsvList = None

    def conditions(self) -> list[Any]:
        conditions = time_window(a.c.id, "atmpt", to_ms(self.before), to_ms(self.after))
        if self.status is not None:
            conditions.append(a.c.status == int(self.status))
        if self.status_code_class is not None:
            if self.status_code_class == 0:
                conditions.append(a.c.response_status_code == 0)
            else:
                low = int(self.status_code_class)
                conditions += [a.c.response_status_code >= low, a.c.response_status_code < low + 100]
        if self.channel:
            conditions.append(channel_filter(m.c.channels, self.channel))
        types = split_csv(self.event_types)
        if types:
            conditions.append(m.c.event_type.in_(types))
        return conditions


Filters = Annotated[AttemptFilters, Depends()]


async def _attempt_page(db: Any, scope: list[Any], limit: int, iterator: str | None) -> ListResponse[MessageAttemptOut]:
    query = select(a).select_from(a.join(m, m.c.id == a.c.msg_id)).where(*scope)
    async with db.read() as conn:
        page = await paginate(conn, query, a.c.id, limit=limit, iterator=iterator, descending=True)
    return ListResponse(
        data=[attempt_out(r) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.get(
    "/attempt/endpoint/{endpoint_id}",
    response_model=ListResponse[MessageAttemptOut],
    operation_id="v1.message-attempt.list-by-endpoint",
)
async def list_attempts_by_endpoint(
    app_id: AppId, endpoint_id: EndpointId, who: Auth, db: Db, filters: Filters
) -> ListResponse[MessageAttemptOut]:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        ep = await endpoints.get(conn, app["id"], endpoint_id)
    scope = [a.c.endpoint_id == ep["id"], a.c.app_id == app["id"], *filters.conditions()]
    return await _attempt_page(db, scope, filters.limit, filters.iterator)


@router.get(
    "/attempt/msg/{msg_id}",
    response_model=ListResponse[MessageAttemptOut],
    operation_id="v1.message-attempt.list-by-msg",
)
async def list_attempts_by_msg(
    app_id: AppId,
    msg_id: MsgId,
    who: Auth,
    db: Db,
    filters: Filters,
    endpoint_id: Annotated[str | None, Query()] = None,
) -> ListResponse[MessageAttemptOut]:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        msg = await messages.get(conn, app["id"], msg_id)
        ep_id = (await endpoints.get(conn, app["id"], endpoint_id))["id"] if endpoint_id else None
    scope = [a.c.msg_id == msg["id"], a.c.app_id == app["id"], *filters.conditions()]
    if ep_id:
        scope.append(a.c.endpoint_id == ep_id)
    return await _attempt_page(db, scope, filters.limit, filters.iterator)


@router.get(
    "/msg/{msg_id}/attempt/{attempt_id}", response_model=MessageAttemptOut, operation_id="v1.message-attempt.get"
)
async def get_attempt(app_id: AppId, msg_id: MsgId, attempt_id: AttemptId, who: Auth, db: Db) -> MessageAttemptOut:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        msg = await messages.get(conn, app["id"], msg_id)
        query = select(a).where(a.c.id == attempt_id, a.c.msg_id == msg["id"], a.c.app_id == app["id"])
        row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFoundError("message attempt")
    return attempt_out(row)


@router.delete(
    "/msg/{msg_id}/attempt/{attempt_id}/content",
    status_code=204,
    response_class=Response,
    operation_id="v1.message-attempt.expunge-content",
)
async def expunge_attempt_content(app_id: AppId, msg_id: MsgId, attempt_id: AttemptId, who: Auth, db: Db) -> None:
    app = await load_app(db, who, app_id)
    async with db.write() as conn:
        msg = await messages.get(conn, app["id"], msg_id)
        result = await conn.execute(
            update(a).where(a.c.id == attempt_id, a.c.msg_id == msg["id"], a.c.app_id == app["id"]).values(response="")
        )
        if result.rowcount == 0:
            raise NotFoundError("message attempt")


@router.get(
    "/msg/{msg_id}/endpoint",
    response_model=ListResponse[MessageEndpointOut],
    operation_id="v1.message-attempt.list-attempted-destinations",
)
async def list_attempted_destinations(
    app_id: AppId, msg_id: MsgId, who: Auth, db: Db, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[MessageEndpointOut]:
    app = await load_app(db, who, app_id)
    ep = tables.endpoint
    async with db.read() as conn:
        msg = await messages.get(conn, app["id"], msg_id)
        query = (
            select(ep, d.c.status, d.c.next_attempt_at)
            .select_from(d.join(ep, ep.c.id == d.c.endpoint_id))
            .where(d.c.msg_id == msg["id"], d.c.app_id == app["id"])
        )
        page = await paginate(conn, query, ep.c.id, limit=limit, iterator=iterator, descending=False)
    data = [
        MessageEndpointOut(
            **endpoint_out(r).model_dump(by_alias=False),
            status=MessageStatus(r["status"]),
            status_text=STATUS_TEXT[r["status"]],
            next_attempt=_next_attempt(r),
        )
        for r in page.rows
    ]
    return ListResponse(data=data, iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done)


@router.get(
    "/endpoint/{endpoint_id}/msg",
    response_model=ListResponse[EndpointMessageOut],
    operation_id="v1.message-attempt.list-attempted-messages",
)
async def list_attempted_messages(
    app_id: AppId,
    endpoint_id: EndpointId,
    who: Auth,
    db: Db,
    limit: Limit = 50,
    iterator: Iterator = None,
    channel: ChannelQuery = None,
    status: StatusQuery = None,
    before: When = None,
    after: When = None,
    with_content: Annotated[bool, Query()] = True,
    event_types: CsvList = None,
) -> ListResponse[EndpointMessageOut]:
    app = await load_app(db, who, app_id)
    async with db.read() as conn:
        ep = await endpoints.get(conn, app["id"], endpoint_id)
        query = (
            select(m, d.c.status, d.c.next_attempt_at)
            .select_from(d.join(m, m.c.id == d.c.msg_id))
            .where(
                d.c.endpoint_id == ep["id"],
                d.c.app_id == app["id"],
                *time_window(m.c.id, "msg", to_ms(before), to_ms(after)),
            )
        )
        if status is not None:
            query = query.where(d.c.status == int(status))
        if channel:
            query = query.where(channel_filter(m.c.channels, channel))
        types = split_csv(event_types)
        if types:
            query = query.where(m.c.event_type.in_(types))
        page = await paginate(conn, query, m.c.id, limit=limit, iterator=iterator, descending=True)
    data = [
        EndpointMessageOut(
            **message_fields(r, with_content),
            status=MessageStatus(r["status"]),
            status_text=STATUS_TEXT[r["status"]],
            next_attempt=_next_attempt(r),
        )
        for r in page.rows
    ]
    return ListResponse(data=data, iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done)
