"""/api/v1/event-type: the catalogue of event types."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from hookline.api.deps import Auth, Ctx, IdempotencyKey, Iterator, Limit, Order
from hookline.api.schemas import (
    EventTypeFromOpenApi,
    EventTypeImportOpenApiIn,
    EventTypeImportOpenApiOut,
    EventTypeImportOpenApiOutData,
    EventTypeIn,
    EventTypeOut,
    EventTypePatch,
    EventTypeUpdate,
    ListResponse,
    ms_to_datetime,
)
from hookline.domain.model import EventType
from hookline.errors import Invalid
from hookline.services import event_types

router = APIRouter(prefix="/api/v1/event-type", tags=["Event Type"])
EventTypeName = Annotated[str, Path(pattern=r"^[a-zA-Z0-9\-_.]+$", max_length=256)]


def event_type_out(et: EventType, with_content: bool = True) -> EventTypeOut:
    return EventTypeOut(
        name=et.name,
        description=et.description,
        archived=et.archived,
        deprecated=et.deprecated,
        schemas=et.schemas if with_content else None,
        feature_flag=et.feature_flag,
        feature_flags=[et.feature_flag] if et.feature_flag else [],
        schema_validation=et.schema_validation,
        created_at=ms_to_datetime(et.created_at),
        updated_at=ms_to_datetime(et.updated_at),
    )


def _fields(body: EventTypeUpdate | EventTypePatch, *, exclude_unset: bool = False) -> dict[str, Any]:
    """The stored fields: Svix's ``featureFlags`` (at most one) is hookline's ``featureFlag``;
    ``groupName`` is refused by the schema unless null."""
    fields: dict[str, Any] = body.model_dump(exclude_unset=exclude_unset, exclude={"feature_flags", "group_name"})
    if body.feature_flags is not None:
        flag = body.feature_flags[0] if body.feature_flags else None
        if "feature_flag" in body.model_fields_set and body.feature_flag != flag:
            raise Invalid(["body", "featureFlags"], "featureFlag and featureFlags disagree; send one of them")
        fields["feature_flag"] = flag
    return fields


@router.get("", response_model=ListResponse[EventTypeOut], operation_id="v1.event-type.list")
async def list_event_types(
    who: Auth,
    ctx: Ctx,
    limit: Limit = 50,
    iterator: Iterator = None,
    order: Order = "ascending",
    include_archived: Annotated[bool, Query()] = False,
    with_content: Annotated[bool, Query()] = False,
) -> ListResponse[EventTypeOut]:
    page = await event_types.page(
        ctx, include_archived=include_archived, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return ListResponse(
        data=[event_type_out(r, with_content) for r in page.rows],
        iterator=page.iterator,
        prev_iterator=page.prev_iterator,
        done=page.done,
    )


@router.post("", status_code=201, response_model=EventTypeOut, operation_id="v1.event-type.create")
async def create_event_type(
    body: EventTypeIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> EventTypeOut:
    who.require_admin()
    return event_type_out(await event_types.create(ctx, _fields(body)))


@router.post("/import/openapi", response_model=EventTypeImportOpenApiOut, operation_id="v1.event-type.import-openapi")
async def import_openapi(
    body: EventTypeImportOpenApiIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> EventTypeImportOpenApiOut:
    """Create or update an event type, with its schema as version 1, for each webhook in the
    ``webhooks`` section of an OpenAPI 3.1 document (given as ``spec`` or ``specRaw``)."""
    who.require_admin()
    document = event_types.parse_spec(body.spec, body.spec_raw)
    location = "spec" if body.spec is not None else "specRaw"
    result = await event_types.import_openapi(
        ctx, document, dry_run=body.dry_run, replace_all=body.replace_all, location=location
    )
    to_modify = None
    if body.dry_run:
        wanted = set(result.modified)
        to_modify = [
            EventTypeFromOpenApi(name=f.name, description=f.description, schemas=f.schemas or None)
            for f in result.found
            if f.name in wanted
        ]
    return EventTypeImportOpenApiOut(data=EventTypeImportOpenApiOutData(modified=result.modified, to_modify=to_modify))


@router.get("/{event_type_name}", response_model=EventTypeOut, operation_id="v1.event-type.get")
async def get_event_type(event_type_name: EventTypeName, who: Auth, ctx: Ctx) -> EventTypeOut:
    return event_type_out(await event_types.get(ctx, event_type_name))


@router.put(
    "/{event_type_name}",
    response_model=EventTypeOut,
    operation_id="v1.event-type.update",
    responses={201: {"model": EventTypeOut, "description": "Created"}},
)
async def update_event_type(
    event_type_name: EventTypeName, body: EventTypeUpdate, who: Auth, ctx: Ctx, response: Response
) -> EventTypeOut:
    who.require_admin()
    et, created = await event_types.put(ctx, event_type_name, _fields(body))
    if created:
        response.status_code = 201
    return event_type_out(et)


@router.patch("/{event_type_name}", response_model=EventTypeOut, operation_id="v1.event-type.patch")
async def patch_event_type(event_type_name: EventTypeName, body: EventTypePatch, who: Auth, ctx: Ctx) -> EventTypeOut:
    who.require_admin()
    fields = _fields(body, exclude_unset=True)
    for key in ("description", "archived", "deprecated", "schema_validation"):
        if key in fields and fields[key] is None:
            fields.pop(key)
    return event_type_out(await event_types.patch(ctx, event_type_name, fields))


@router.delete("/{event_type_name}", status_code=204, response_class=Response, operation_id="v1.event-type.delete")
async def delete_event_type(
    event_type_name: EventTypeName, who: Auth, ctx: Ctx, expunge: Annotated[bool, Query()] = False
) -> None:
    """Archive the event type; with ``expunge=true`` delete it for good."""
    who.require_admin()
    await event_types.delete(ctx, event_type_name, expunge=expunge)
