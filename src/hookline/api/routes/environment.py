"""/api/v1/environment: export the whole configuration as one JSON document, or import one.

Beyond Svix (whose document holds event types, settings and connectors), hookline's also
holds ``applications`` with their ``endpoints``, secrets included: a backup, or a move to
another server. Admin tokens only. hookline keeps its settings in ``HOOKLINE_*``
variables, not in the database, so ``settings`` is ``{}`` and ``connectors`` ``[]``;
import refuses anything else in them rather than drop it.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema

from hookline.api.deps import Auth, Conf, Ctx, Db, IdempotencyKey, to_ms
from hookline.api.schemas import (
    KEY_FORMAT,
    Channels,
    EventTypes,
    FifoOnExhausted,
    Headers,
    Metadata,
    Model,
    Name,
    PayloadFilter,
    Rate,
    SchemaValidation,
    Text,
    Uid,
    Url,
    ms_to_datetime,
)
from hookline.domain.model import Application, Endpoint, EventType
from hookline.domain.signing import InvalidSecretError, validate_secret
from hookline.services import environment
from hookline.services.context import now_ms, secret_box

router = APIRouter(prefix="/api/v1/environment", tags=["Environment"])
VERSION = 1


def check_secret(value: str) -> str:
    try:
        validate_secret(value)
    except InvalidSecretError as exc:
        raise ValueError(f"invalid secret: {exc}") from exc
    return value


RequiredSecret = Annotated[str, AfterValidator(check_secret), WithJsonSchema({"type": "string", "pattern": KEY_FORMAT})]
AppIdValue = Annotated[str, Field(pattern=r"^app_[0-9A-Za-z]{22}$")]
EndpointIdValue = Annotated[str, Field(pattern=r"^ep_[0-9A-Za-z]{22}$")]


class OldSecret(Model):
    model_config = ConfigDict(extra="forbid")
    key: RequiredSecret
    expires_at: datetime


class TransformationDoc(Model):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(description="The endpoint's JavaScript handler(webhook)")
    enabled: bool = False


class EndpointDoc(Model):
    model_config = ConfigDict(extra="forbid")
    id: EndpointIdValue
    uid: Uid | None = None
    url: Url
    description: Text = ""
    event_types: EventTypes | None = None
    channels: Channels | None = None
    disabled: bool = False
    metadata: Metadata = Field(default_factory=dict)
    throttle_rate: Rate | None = None
    headers: Headers = Field(default_factory=dict)
    secret: RequiredSecret = Field(description="The signing secret, in the clear: keep this document safe")
    old_secrets: list[OldSecret] = Field(default_factory=list, description="Earlier secrets still in their grace")
    filter: PayloadFilter = None
    fifo: bool = False
    fifo_on_exhausted: FifoOnExhausted = "skip"
    transformation: TransformationDoc | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ApplicationDoc(Model):
    model_config = ConfigDict(extra="forbid")
    id: AppIdValue
    uid: Uid | None = None
    name: Annotated[str, Field(min_length=1, pattern=r"^[^\x00]+$")]
    metadata: Metadata = Field(default_factory=dict)
    throttle_rate: Rate | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    endpoints: list[EndpointDoc] = Field(default_factory=list)


class EventTypeDoc(Model):
    model_config = ConfigDict(extra="forbid")
    name: Name
    description: Text
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: Annotated[list[Name], Field(max_length=1)] | None = Field(
        default=None, description="At most one: hookline event types have a single feature flag"
    )
    group_name: None = Field(default=None, description="Refused: hookline has no event-type groups")
    schema_validation: SchemaValidation = "off"
    created_at: datetime | None = None
    updated_at: datetime | None = None


class EnvironmentIn(Model):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1] | None = None
    created_at: datetime | None = Field(default=None, description="When the document was made; informational")
    event_types: list[EventTypeDoc] | None = None
    # Refused unless empty (422 naming them), rather than accepted and dropped.
    settings: Annotated[dict[str, Any], Field(max_length=0)] | None = Field(
        default=None, description="Must be empty: hookline's settings are HOOKLINE_* variables"
    )
    connectors: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="Must be empty: hookline has no connectors"
    )
    applications: list[ApplicationDoc] | None = None


class EventTypeExport(Model):
    name: str
    description: str
    archived: bool
    deprecated: bool
    schemas: dict[str, dict[str, Any]] | None
    feature_flags: list[str]
    schema_validation: str
    created_at: datetime
    updated_at: datetime


class EndpointExport(Model):
    id: str
    uid: str | None
    url: str
    description: str
    event_types: list[str] | None
    channels: list[str] | None
    disabled: bool
    metadata: dict[str, str]
    throttle_rate: int | None
    headers: dict[str, str]
    secret: str
    old_secrets: list[OldSecret]
    filter: dict[str, Any] | None
    fifo: bool
    fifo_on_exhausted: str
    transformation: TransformationDoc | None
    created_at: datetime
    updated_at: datetime


class ApplicationExport(Model):
    id: str
    uid: str | None
    name: str
    metadata: dict[str, str]
    throttle_rate: int | None
    created_at: datetime
    updated_at: datetime
    endpoints: list[EndpointExport]


class EnvironmentOut(Model):
    version: int
    created_at: datetime
    event_types: list[EventTypeExport]
    settings: dict[str, Any]
    connectors: list[Any]
    applications: list[ApplicationExport]


def _times(row: Application | Endpoint | EventType) -> dict[str, datetime]:
    return {"created_at": ms_to_datetime(row.created_at), "updated_at": ms_to_datetime(row.updated_at)}


def _endpoint_out(row: Endpoint) -> EndpointExport:
    old = [OldSecret(key=s["key"], expires_at=ms_to_datetime(s["expires_at"])) for s in row.old_secrets]
    return EndpointExport(
        id=row.id,
        uid=row.uid,
        url=row.url,
        description=row.description,
        event_types=row.event_types,
        channels=row.channels,
        disabled=row.disabled,
        metadata=row.metadata,
        throttle_rate=row.throttle_rate,
        headers=row.headers,
        secret=row.secret,
        old_secrets=old,
        filter=row.filter,
        fifo=row.fifo,
        fifo_on_exhausted=row.fifo_on_exhausted,
        transformation=(
            None
            if row.transformation_code is None
            else TransformationDoc(code=row.transformation_code, enabled=row.transformation_enabled)
        ),
        **_times(row),
    )


@router.post("/export", response_model=EnvironmentOut, operation_id="v1.environment.export")
async def export_environment(
    who: Auth, db: Db, settings: Conf, idempotency_key: IdempotencyKey = None
) -> EnvironmentOut:
    """Every event type, application and endpoint (with its secrets, in the clear)."""
    who.require_admin()
    snapshot = await environment.export(db, secret_box(settings))
    by_app: dict[str, list[EndpointExport]] = {a.id: [] for a in snapshot.applications}
    for row in snapshot.endpoints:
        by_app[row.app_id].append(_endpoint_out(row))
    types = [
        EventTypeExport(
            name=r.name,
            description=r.description,
            archived=r.archived,
            deprecated=r.deprecated,
            schemas=r.schemas,
            feature_flags=[r.feature_flag] if r.feature_flag else [],
            schema_validation=r.schema_validation,
            **_times(r),
        )
        for r in snapshot.event_types
    ]
    apps = [
        ApplicationExport(
            id=a.id,
            uid=a.uid,
            name=a.name,
            metadata=a.metadata,
            throttle_rate=a.throttle_rate,
            **_times(a),
            endpoints=by_app[a.id],
        )
        for a in snapshot.applications
    ]
    return EnvironmentOut(
        version=VERSION,
        created_at=datetime.now(UTC),
        event_types=types,
        settings={},
        connectors=[],
        applications=apps,
    )


def _stamps(doc: EventTypeDoc | ApplicationDoc | EndpointDoc, now: int) -> dict[str, int]:
    created, updated = to_ms(doc.created_at), to_ms(doc.updated_at)
    # Only a stamp left out is "now": 1970-01-01T00:00:00Z is 0, and kept.
    return {"created_at": now if created is None else created, "updated_at": now if updated is None else updated}


def _event_type_values(doc: EventTypeDoc, now: int) -> dict[str, Any]:
    flag = doc.feature_flags[0] if doc.feature_flags else None
    fields = doc.model_dump(include={"name", "description", "archived", "deprecated", "schemas", "schema_validation"})
    return {**fields, "feature_flag": flag, **_stamps(doc, now)}


def _endpoint_values(app_id: str, doc: EndpointDoc, now: int) -> dict[str, Any]:
    fields = doc.model_dump(exclude={"old_secrets", "created_at", "updated_at", "transformation"})
    old = [{"key": s.key, "expires_at": to_ms(s.expires_at) or 0} for s in doc.old_secrets]
    return {
        **fields,
        "transformation_code": doc.transformation.code if doc.transformation else None,
        "transformation_enabled": bool(doc.transformation and doc.transformation.enabled),
        "app_id": app_id,
        "old_secrets": old,
        "throttle_tat": None,
        "failing_since": None,
        **_stamps(doc, now),
    }


@router.post("/import", status_code=204, response_class=Response, operation_id="v1.environment.import")
async def import_environment(body: EnvironmentIn, who: Auth, ctx: Ctx, idempotency_key: IdempotencyKey = None) -> None:
    """Add or update what the document holds, keeping ids; nothing is deleted."""
    who.require_admin()
    now = now_ms()
    apps, eps = [], []
    for app in body.applications or []:
        apps.append({**app.model_dump(include={"id", "uid", "name", "metadata", "throttle_rate"}), **_stamps(app, now)})
        eps += [_endpoint_values(app.id, e, now) for e in app.endpoints]
    document = environment.Imported(
        event_types=[_event_type_values(t, now) for t in body.event_types or []], applications=apps, endpoints=eps
    )
    await environment.import_(ctx, document)
