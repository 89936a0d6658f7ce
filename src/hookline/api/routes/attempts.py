"""Attempt logs, and per-message / per-endpoint delivery status."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from hookline.api.deps import (
    AppId,
    Auth,
    ChannelQuery,
    CsvList,
    Ctx,
    EndpointId,
    Iterator,
    Limit,
    MsgId,
    When,
)
from hookline.api.routes.endpoints import endpoint_out
from hookline.api.routes.messages import TagQuery, message_fields, message_filter
from hookline.api.schemas import (
    STATUS_TEXT,
    EndpointMessageOut,
    ListResponse,
    MessageAttemptOut,
    MessageEndpointOut,
    MessageOut,
    MessageStatus,
    StatusCodeClass,
    ms_to_datetime,
)
from hookline.domain.model import Attempt, AttemptFilter, DeliveryState, DeliveryStatus, Trigger
from hookline.services import listings
from hookline.services.context import Context

router = APIRouter(prefix="/api/v1/app/{app_id}", tags=["Message Attempt"])
StatusQuery = Annotated[MessageStatus | None, Query()]
CodeClass = Annotated[StatusCodeClass | None, Query(description="0 (no response), 100, 200, 300, 400 or 500")]
# Svix's Canceled (4) status, shown only with expanded_statuses: hookline never cancels an
# attempt, so both values give the same statuses.
ExpandedStatuses = Annotated[
    bool, Query(description="Show the Canceled (4) status; hookline never cancels attempts, so this changes nothing")
]
AttemptId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9\-_.]+$")]


def attempt_out(attempt: Attempt) -> MessageAttemptOut:
    return MessageAttemptOut(
        id=attempt.id,
        msg_id=attempt.msg_id,
        endpoint_id=attempt.endpoint_id,
        url=attempt.url,
        response=attempt.response,
        response_status_code=attempt.response_status_code,
        response_duration_ms=attempt.response_duration_ms,
        status=MessageStatus(attempt.status),
        status_text=STATUS_TEXT[attempt.status],
        trigger_type=0 if attempt.trigger == Trigger.SCHEDULED else 1,
        attempt_number=attempt.attempt_number,
        error=attempt.error,
        timestamp=ms_to_datetime(attempt.created_at),
        transformed_request=attempt.request,
        request_headers=attempt.request_headers,
    )


def _next_attempt(state: DeliveryState) -> datetime | None:
    if state.status == DeliveryStatus.PENDING and state.next_attempt_at:
        return ms_to_datetime(state.next_attempt_at)
    return None


def _status(status: MessageStatus | None) -> DeliveryStatus | None:
    return None if status is None else DeliveryStatus(status)


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
    tag: TagQuery = None
    with_msg: Annotated[bool, Query(description="Include each attempt's message as `msg`")] = False
    expanded_statuses: ExpandedStatuses = True

    def to_filter(self) -> AttemptFilter:
        return AttemptFilter(
            status=_status(self.status),
            status_code_class=None if self.status_code_class is None else int(self.status_code_class),
            messages=message_filter(self.channel, self.before, self.after, self.event_types, self.tag),
        )


Filters = Annotated[AttemptFilters, Depends()]


async def _attempt_list(
    ctx: Context, app_id: str, tenant: str | None, filters: AttemptFilters, page: listings.Page[Attempt]
) -> ListResponse[MessageAttemptOut]:
    data = [attempt_out(r) for r in page.rows]
    if filters.with_msg:
        found = await listings.messages_of(ctx, app_id, page.rows, tenant=tenant)
        for out in data:
            msg = found.get(out.msg_id)
            out.msg = None if msg is None else MessageOut(**message_fields(msg, filters.with_content))
    return ListResponse(
        data=data,
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
    app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx, filters: Filters
) -> ListResponse[MessageAttemptOut]:
    page = await listings.attempts_of_endpoint(
        ctx,
        app_id,
        endpoint_id,
        filters.to_filter(),
        tenant=who.app_id,
        limit=filters.limit,
        iterator=filters.iterator,
    )
    return await _attempt_list(ctx, app_id, who.app_id, filters, page)


@router.get(
    "/attempt/msg/{msg_id}",
    response_model=ListResponse[MessageAttemptOut],
    operation_id="v1.message-attempt.list-by-msg",
)
async def list_attempts_by_msg(
    app_id: AppId,
    msg_id: MsgId,
    who: Auth,
    ctx: Ctx,
    filters: Filters,
    endpoint_id: Annotated[str | None, Query()] = None,
) -> ListResponse[MessageAttemptOut]:
    page = await listings.attempts_of_message(
        ctx,
        app_id,
        msg_id,
        filters.to_filter(),
        endpoint_key=endpoint_id,
        tenant=who.app_id,
        limit=filters.limit,
        iterator=filters.iterator,
    )
    return await _attempt_list(ctx, app_id, who.app_id, filters, page)


@router.get(
    "/msg/{msg_id}/attempt/{attempt_id}", response_model=MessageAttemptOut, operation_id="v1.message-attempt.get"
)
async def get_attempt(
    app_id: AppId,
    msg_id: MsgId,
    attempt_id: AttemptId,
    who: Auth,
    ctx: Ctx,
    expanded_statuses: ExpandedStatuses = True,
) -> MessageAttemptOut:
    return attempt_out(await listings.attempt(ctx, app_id, msg_id, attempt_id, tenant=who.app_id))


@router.delete(
    "/msg/{msg_id}/attempt/{attempt_id}/content",
    status_code=204,
    response_class=Response,
    operation_id="v1.message-attempt.expunge-content",
)
async def expunge_attempt_content(app_id: AppId, msg_id: MsgId, attempt_id: AttemptId, who: Auth, ctx: Ctx) -> None:
    await listings.expunge_attempt(ctx, app_id, msg_id, attempt_id, tenant=who.app_id)


@router.get(
    "/msg/{msg_id}/endpoint",
    response_model=ListResponse[MessageEndpointOut],
    operation_id="v1.message-attempt.list-attempted-destinations",
)
async def list_attempted_destinations(
    app_id: AppId, msg_id: MsgId, who: Auth, ctx: Ctx, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[MessageEndpointOut]:
    page = await listings.destinations(ctx, app_id, msg_id, tenant=who.app_id, limit=limit, iterator=iterator)
    data = [
        MessageEndpointOut(
            **endpoint_out(r.endpoint).model_dump(by_alias=False),
            status=MessageStatus(r.state.status),
            status_text=STATUS_TEXT[r.state.status],
            next_attempt=_next_attempt(r.state),
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
    ctx: Ctx,
    limit: Limit = 50,
    iterator: Iterator = None,
    channel: ChannelQuery = None,
    status: StatusQuery = None,
    before: When = None,
    after: When = None,
    with_content: Annotated[bool, Query()] = True,
    event_types: CsvList = None,
    tag: TagQuery = None,
    expanded_statuses: ExpandedStatuses = True,
) -> ListResponse[EndpointMessageOut]:
    page = await listings.messages_of_endpoint(
        ctx,
        app_id,
        endpoint_id,
        message_filter(channel, before, after, event_types, tag),
        status=_status(status),
        tenant=who.app_id,
        limit=limit,
        iterator=iterator,
    )
    data = [
        EndpointMessageOut(
            **message_fields(r.message, with_content),
            status=MessageStatus(r.state.status),
            status_text=STATUS_TEXT[r.state.status],
            next_attempt=_next_attempt(r.state),
        )
        for r in page.rows
    ]
    return ListResponse(data=data, iterator=page.iterator, prev_iterator=page.prev_iterator, done=page.done)
