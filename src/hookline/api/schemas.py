"""Request and response bodies, in Svix's camelCase shape."""

import re
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from hookline.domain.model import ANSWER_HEADER_CHARS, DeliveryStatus, body_refused
from hookline.domain.signing import InvalidSecretError, is_asymmetric, validate_secret
from hookline.domain.urls import MAX_URL_LENGTH, InvalidUrlError, check_endpoint_url

Name = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9\-_.]+$", min_length=1, max_length=256)]
# Svix's uid rule, less uids of only dots: "." and ".." are resolved away in every URL, so an
# application or endpoint with one could never be addressed again.
UID_PATTERN = r"^[a-zA-Z0-9\-_.]*[a-zA-Z0-9\-_][a-zA-Z0-9\-_.]*$"
UID_RULE = "a uid is 1 to 256 of a-z A-Z 0-9 - _ . (not only dots)"
_UID = re.compile(UID_PATTERN)
# What hookline's own ids look like (domain/ids.py): a uid of that shape could be another
# resource's id, and whatever it names is looked up by id first, so it could never be reached.
_ID_SHAPED = re.compile(r"[a-z]+_[0-9A-Za-z]{22}")
ID_SHAPED_RULE = "a uid cannot have the shape of a hookline id (a prefix, _ and 22 letters or digits)"


def _check_uid(value: str) -> str:
    # Said in words: the pattern alone made every form show a regular expression.
    if len(value) > 256 or not _UID.fullmatch(value):
        raise ValueError(UID_RULE)
    if _ID_SHAPED.fullmatch(value):
        raise ValueError(ID_SHAPED_RULE)
    return value


Uid = Annotated[
    str,
    AfterValidator(_check_uid),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 256, "pattern": UID_PATTERN}),
]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9\-_.]+$", min_length=1, max_length=128)]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9\-_./#]+$", min_length=1, max_length=128)]
Rate = Annotated[int, Field(ge=1, le=65535)]
# Text that every database can store: PostgreSQL text cannot hold NUL characters.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
_TEXT = r"^[^\x00]*$"
Metadata = Annotated[
    dict[Text, Text],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": _TEXT},
            "additionalProperties": {"type": "string", "pattern": _TEXT},
        }
    ),
]
# Custom headers are sent as they are: names must be HTTP tokens, values one line.
_HEADER_NAME = r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$"
_HEADER_VALUE = r"^[^\x00\r\n]*$"
HeaderName = Annotated[str, StringConstraints(pattern=_HEADER_NAME, max_length=256)]
HeaderValue = Annotated[str, StringConstraints(pattern=_HEADER_VALUE, max_length=4096)]


def _headers_schema(nullable: bool) -> WithJsonSchema:
    value: dict[str, Any] = {"type": "string", "pattern": _HEADER_VALUE, "maxLength": 4096}
    if nullable:
        value["nullable"] = True
    names = {"pattern": _HEADER_NAME, "maxLength": 256}
    return WithJsonSchema(
        {
            "type": "object",
            "propertyNames": names,
            "additionalProperties": value,
            "description": "Sent with every delivery. Refused (422): headers hookline sets (Content-Type, "
            "Accept-Encoding, Content-Length, User-Agent, Host, Webhook-Id, -Timestamp and -Signature, svix-*), "
            "Content-Encoding, Proxy-Authorization and the connection's own (Connection, Keep-Alive, "
            "Transfer-Encoding, TE, Trailer, Upgrade, Expect).",
        }
    )


def _check_url(value: str) -> str:
    try:
        return check_endpoint_url(value)
    except InvalidUrlError as exc:
        raise ValueError(f"the URL {exc}") from None


def _check_secret(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        validate_secret(value)
    except InvalidSecretError as exc:
        raise ValueError(f"invalid secret: {exc}") from exc
    return value


# The patterns document exactly what the validators accept, so clients (and the
# fuzzer) can tell a valid value from the schema alone.
# Narrower than what domain/urls.py accepts (IDN and IPv6 hosts): every URL it matches is valid.
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_LABEL = r"[A-Za-z0-9\-]{1,63}"
# A host whose last label is a number is an IPv4 address to URL parsers, and only a.b.c.d is
# accepted (domain/urls.py); the pattern asks a little more, a letter first in the last label.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_HOST = r"(" + _OCTET + r"(\." + _OCTET + r"){3}|(" + _LABEL + r"\.)*[A-Za-z][A-Za-z0-9\-]{0,62})"
URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://" + _HOST + r"(:" + _PORT + r")?([/?#][^\s\\\x00-\x1f\x7f-\x9f]*)?$"
KEY_FORMAT = (
    r"^(whsec_)?([A-Za-z0-9+/]{4}){8,24}([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    r"|^whsk_[A-Za-z0-9+/]{86}==$"
)
Url = Annotated[
    str,
    StringConstraints(min_length=1),
    AfterValidator(_check_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": URL_PATTERN, "maxLength": MAX_URL_LENGTH}),
]
Secret = Annotated[
    str | None,
    AfterValidator(_check_secret),
    WithJsonSchema({"type": "string", "nullable": True, "pattern": KEY_FORMAT}),
]


# What hookline answers a sender with (capture URLs, ingest sources): headers HTTP can carry,
# and no body with a status that has none (domain/model.py).
AnswerContentType = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=f"^{ANSWER_HEADER_CHARS}+$")]


def bodyless(status_field: str) -> Any:
    """A ``body`` validator for an answer whose status is the field ``status_field``."""

    def check(cls: Any, value: str, info: ValidationInfo) -> str:
        why = body_refused(info.data.get(status_field), value)
        if why is not None:
            raise ValueError(why)
        return value

    return field_validator("body")(check)


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> datetime:
    # Exact: a float of seconds loses the milliseconds of far dates (9999-12-31T23:59:59.999
    # came back as .998993).
    return _EPOCH + timedelta(milliseconds=ms)


# DeliveryStatus under the name the API documents (Svix's); no docstring: it would enter the OpenAPI document.
class MessageStatus(IntEnum):
    SUCCESS = DeliveryStatus.SUCCESS.value
    PENDING = DeliveryStatus.PENDING.value
    FAIL = DeliveryStatus.FAIL.value
    SENDING = DeliveryStatus.SENDING.value


class StatusCodeClass(IntEnum):
    """Filter attempts by the class of their response's status code (0: no response)."""

    CODE_NONE = 0
    CODE_1XX = 100
    CODE_2XX = 200
    CODE_3XX = 300
    CODE_4XX = 400
    CODE_5XX = 500


StatusText = Literal["success", "pending", "fail", "sending"]
STATUS_TEXT: dict[int, StatusText] = {
    DeliveryStatus.SUCCESS: "success",
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.FAIL: "fail",
    DeliveryStatus.SENDING: "sending",
}

T = TypeVar("T")


class ListResponse(Model, Generic[T]):
    data: list[T]
    iterator: str | None
    prev_iterator: str | None = None
    done: bool


# -- applications ------------------------------------------------------------
class ApplicationIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\x00]+$")]
    uid: Uid | None = None
    metadata: Metadata = Field(default_factory=dict)
    throttle_rate: Rate | None = None


class ApplicationPatch(Model):
    name: Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\x00]+$")] | None = None
    uid: Uid | None = None
    metadata: Metadata | None = None
    throttle_rate: Rate | None = None


class ApplicationOut(Model):
    id: str
    uid: str | None
    name: str
    metadata: Metadata
    throttle_rate: int | None
    created_at: datetime
    updated_at: datetime


# -- event types -------------------------------------------------------------
FeatureFlags = Annotated[
    list[Name] | None,
    Field(max_length=1, description="At most one: a hookline event type has a single feature flag (`featureFlag`)"),
]
GroupName = Annotated[None, Field(description="Refused (422): hookline has no event-type groups")]
SchemaValidation = Literal["off", "warn", "enforce"]
SCHEMA_VALIDATION_DOC = (
    "hookline: what a published payload that fails its schema version gets: off (not checked), "
    "warn (accepted, counted in hookline_schema_warnings and marked in the message's schemaWarning) "
    "or enforce (refused with a 422 giving the JSON pointer and the reason)"
)
SCHEMAS_DOC = 'Versioned JSON Schemas of the payload, {"1": {...}, "2": {...}}; checked against the meta-schema'


class EventTypeUpdate(Model):
    description: Text
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, dict[str, Any]] | None = Field(default=None, description=SCHEMAS_DOC)
    feature_flag: Name | None = None
    feature_flags: FeatureFlags = None
    group_name: GroupName = None
    schema_validation: SchemaValidation = Field(default="off", description=SCHEMA_VALIDATION_DOC)


class EventTypeIn(EventTypeUpdate):
    name: Name


class EventTypePatch(Model):
    description: Text | None = None
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, dict[str, Any]] | None = Field(default=None, description=SCHEMAS_DOC)
    feature_flag: Name | None = None
    feature_flags: FeatureFlags = None
    group_name: GroupName = None
    schema_validation: SchemaValidation | None = Field(default=None, description=SCHEMA_VALIDATION_DOC)


class EventTypeOut(Model):
    name: str
    description: Text
    archived: bool
    deprecated: bool
    schemas: dict[str, dict[str, Any]] | None
    feature_flag: str | None
    feature_flags: list[str] | None = None
    created_at: datetime
    updated_at: datetime
    schema_validation: SchemaValidation = Field(default="off", description=SCHEMA_VALIDATION_DOC)


class EventTypeImportOpenApiIn(Model):
    spec: dict[str, Any] | None = Field(default=None, description="An OpenAPI 3.1 document, parsed")
    spec_raw: str | None = Field(default=None, description="An OpenAPI 3.1 document as JSON or YAML text")
    dry_run: bool = Field(default=False, description="Say what would change without changing it")
    replace_all: bool = Field(default=False, description="Archive the event types the document does not name")


class EventTypeFromOpenApi(Model):
    name: str
    description: str
    schemas: dict[str, dict[str, Any]] | None
    deprecated: bool = False


class EventTypeImportOpenApiOutData(Model):
    modified: list[str]
    to_modify: list[EventTypeFromOpenApi] | None = Field(default=None, alias="to_modify")


class EventTypeImportOpenApiOut(Model):
    data: EventTypeImportOpenApiOutData


# -- endpoints ---------------------------------------------------------------
EventTypes = Annotated[list[Name], Field(min_length=1)]
Channels = Annotated[list[Channel], Field(min_length=1, max_length=10)]
Headers = Annotated[dict[HeaderName, HeaderValue], _headers_schema(nullable=False)]


FILTER_DOC = (
    "hookline: a payload filter (Hookdeck/Outpost syntax) matched against "
    '`{"eventType", "channels", "payload"}`; a message it does not match gets no delivery to this '
    "endpoint. Nested objects are implicit equality; operators $eq $neq $in $nin $gt $gte $lt $lte "
    "$exist $startsWith $endsWith $or $and $not. See docs/policies.md."
)
PayloadFilter = Annotated[
    dict[str, Any] | None,
    Field(description=FILTER_DOC, examples=[{"payload": {"status": "paid", "amount": {"$gte": 100}}}]),
]


FIFO_DOC = (
    "hookline: deliver in publish order, one at a time: message n+1 is not sent until message n "
    "has succeeded or exhausted its retries (per orderingKey, else per channels). See docs/policies.md."
)
FIFO_EXHAUSTED_DOC = (
    "hookline: what an exhausted message does to a FIFO order: skip (the next one goes) or block "
    "(nothing more goes until it is resent, or skipped with POST .../fifo/skip-head)"
)
FifoOnExhausted = Literal["skip", "block"]


class EndpointUpdate(Model):
    url: Url
    description: Text = ""
    uid: Uid | None = None
    event_types: EventTypes | None = Field(
        default=None,
        validation_alias=AliasChoices("eventTypes", "filterTypes", "event_types"),
        serialization_alias="eventTypes",
        description="The event types it receives (the svix JavaScript SDK sends them as `filterTypes`)",
    )
    channels: Channels | None = None
    disabled: bool = False
    metadata: Metadata = Field(default_factory=dict)
    throttle_rate: Rate | None = Field(
        default=None, validation_alias=AliasChoices("throttleRate", "rateLimit", "throttle_rate")
    )
    filter: PayloadFilter = None
    fifo: bool = Field(default=False, description=FIFO_DOC)
    fifo_on_exhausted: FifoOnExhausted = Field(default="skip", description=FIFO_EXHAUSTED_DOC)


KeyType = Literal["hmac", "ed25519"]


def _key_type_matches(key_type: str, info: ValidationInfo, key_field: str) -> str:
    """A keyType given beside a key says which kind to generate when none is given: beside one of
    the other kind it would be silently ignored."""
    key = info.data.get(key_field)
    if key and (key_type == "ed25519") != is_asymmetric(key):
        kind = "an Ed25519 signing key (whsk_)" if is_asymmetric(key) else "an HMAC secret (whsec_)"
        raise ValueError(f"{key_type} does not match the {key_field} given, {kind}: give one or the other")
    return key_type


class EndpointIn(EndpointUpdate):
    secret: Secret = None
    key_type: KeyType = Field(
        default="hmac",
        description="When no secret is given: generate an HMAC secret (v1) or an Ed25519 signing key (v1a)",
    )
    headers: Headers | None = None

    @field_validator("key_type")
    @classmethod
    def _key_type(cls, value: str, info: ValidationInfo) -> str:
        return _key_type_matches(value, info, "secret")


class EndpointPatch(Model):
    url: Url | None = None
    description: Text | None = None
    uid: Uid | None = None
    event_types: EventTypes | None = Field(
        default=None,
        validation_alias=AliasChoices("eventTypes", "filterTypes", "event_types"),
        serialization_alias="eventTypes",
        description="The event types it receives (the svix JavaScript SDK sends them as `filterTypes`)",
    )
    channels: Channels | None = None
    disabled: bool | None = None
    metadata: Metadata | None = None
    throttle_rate: Rate | None = Field(
        default=None, validation_alias=AliasChoices("throttleRate", "rateLimit", "throttle_rate")
    )
    filter: PayloadFilter = None
    fifo: bool | None = Field(default=None, description=FIFO_DOC)
    fifo_on_exhausted: FifoOnExhausted | None = Field(default=None, description=FIFO_EXHAUSTED_DOC)


class EndpointOut(Model):
    id: str
    uid: str | None
    url: str
    description: Text
    event_types: list[str] | None = Field(alias="eventTypes")
    filter_types: list[str] | None = Field(default=None, description="`eventTypes` again (the svix JS SDK reads it)")
    channels: list[str] | None
    disabled: bool
    metadata: Metadata
    throttle_rate: int | None
    filter: PayloadFilter = None
    fifo: bool = Field(default=False, description=FIFO_DOC)
    fifo_on_exhausted: FifoOnExhausted = Field(default="skip", description=FIFO_EXHAUSTED_DOC)
    created_at: datetime
    updated_at: datetime


class EndpointDetailOut(EndpointOut):
    warnings: list[str] = Field(
        default_factory=list,
        description="hookline: why this endpoint, although accepted, may never receive anything "
        "(a private address the SSRF guard refuses, event types not in the catalogue)",
    )


class EndpointSecretOut(Model):
    key: str


class EndpointSecretRotateIn(Model):
    key: Secret = None
    key_type: KeyType = Field(default="hmac", description="When no key is given: the kind of key to generate")
    grace_period_seconds: Annotated[int, Field(ge=0, le=604800)] | None = 86400

    @field_validator("key_type")
    @classmethod
    def _key_type(cls, value: str, info: ValidationInfo) -> str:
        return _key_type_matches(value, info, "key")


class EndpointPublicKeyOut(Model):
    key: str = Field(description="The `whpk_` public key receivers verify `v1a` signatures with")


class ClientCertificateIn(Model):
    cert: str = Field(description="PEM certificate (chain, leaf first) presented to receivers that ask for one")
    key: str = Field(description="Its PEM private key, unencrypted; stored encrypted when HOOKLINE_MAIN_SECRET is set")


class ClientCertificateOut(Model):
    subject: str
    issuer: str
    not_after: datetime
    fingerprint: str = Field(description="SHA-256 of the certificate (DER), hex")


class EndpointHeadersIn(Model):
    headers: Headers


class EndpointHeadersPatchIn(Model):
    headers: Annotated[dict[HeaderName, HeaderValue | None], _headers_schema(nullable=True)]
    delete_headers: Annotated[list[HeaderName], Field(max_length=100)] | None = Field(
        default=None, description="Headers to remove (like a null value in `headers`)"
    )


class EndpointHeadersOut(Model):
    headers: Headers
    sensitive: list[str]


class FifoSkipIn(Model):
    msg_id: Name | None = Field(default=None, description="The blocked message to skip (default: every blocked one)")


class FifoSkipOut(Model):
    skipped: list[str] = Field(description="The ids of the messages skipped")


class EndpointFilterTestIn(Model):
    payload: dict[str, Any]
    event_type: Name | None = Field(default=None, description="The message's event type (default: none)")
    channels: list[Channel] | None = None
    filter: PayloadFilter = Field(
        default=None, description="A filter to try instead of the endpoint's own (not stored)"
    )


class EndpointFilterTestOut(Model):
    matches: bool = Field(description="Whether the filter matches the message (always true with no filter)")
    filter: dict[str, Any] | None = Field(description="The filter that was tried")


# -- transformations ---------------------------------------------------------
TransformationCode = Annotated[
    str,
    Field(
        description="JavaScript defining `function handler(webhook)` (Svix's contract); at most 50 KB",
        examples=["function handler(webhook) {\n  webhook.payload.seen = true;\n  return webhook;\n}"],
    ),
]


class EndpointTransformationOut(Model):
    code: str | None = None
    enabled: bool = False
    variables: dict[str, str] | None = Field(default=None, description="Always null: hookline has no variables")
    updated_at: datetime | None = None


class EndpointTransformationPatch(Model):
    code: TransformationCode | None = None
    enabled: bool | None = None
    variables: dict[str, str] | None = Field(
        default=None, description="Refused when not empty: hookline has no transformation variables"
    )


class EndpointTransformationSimulateIn(Model):
    code: TransformationCode | None = Field(default=None, description="The code to run (default: the endpoint's)")
    event_type: Name
    payload: dict[str, Any]


class TransformationErrorOut(Model):
    kind: str = Field(description="too_large, syntax, exception, timeout, memory, invalid, crashed or unavailable")
    message: str


class EndpointTransformationSimulateOut(Model):
    ok: bool = Field(description="Whether the handler ran and returned a valid webhook")
    method: Literal["POST", "PUT"] | None = None
    url: str | None = None
    payload: Any = None
    headers: dict[str, str] | None = None
    cancel: bool = Field(default=False, description="The handler set webhook.cancel: nothing would be sent")
    error: TransformationErrorOut | None = None


class EventExampleIn(Model):
    event_type: Name = Field(
        description="An event type of the catalogue (422 naming eventType otherwise), or svix.ping, "
        'the built-in test event ({"success": true})'
    )
    example_index: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Which of the event type's schema examples to send (default: the first)"
    )
    payload: dict[str, Any] | None = Field(default=None, description="Send this payload instead of an example")


# -- messages ----------------------------------------------------------------
class MessageIn(Model):
    event_type: Name
    payload: dict[str, Any]
    event_id: Name | None = None
    channels: Annotated[list[Channel], Field(min_length=1, max_length=5)] | None = None
    payload_retention_period: Annotated[int, Field(ge=1, le=3650)] = 90
    payload_retention_hours: Annotated[int, Field(ge=1, le=87600)] | None = Field(
        default=None, description="Keep the payload this many hours (overrides payloadRetentionPeriod)"
    )
    application: ApplicationIn | None = None
    tags: Annotated[list[Tag], Field(min_length=1, max_length=10)] | None = None
    deliver_at: datetime | None = Field(
        default=None, description="Hold the deliveries until this time (at most 30 days ahead); past: at once"
    )
    schema_version: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,8}$")] | None = Field(
        default=None,
        description="hookline: the event type's schema version the payload follows (default: the highest); "
        "checked as the event type's schemaValidation says",
    )
    ordering_key: Name | None = Field(
        default=None,
        description="hookline: on FIFO endpoints, the order this message belongs to (default: its channels)",
    )


class MessageOut(Model):
    id: str
    event_type: str
    event_id: str | None
    payload: dict[str, Any]
    channels: list[str] | None
    timestamp: datetime
    tags: list[str] | None = None
    deliver_at: datetime | None = None
    schema_version: str | None = Field(
        default=None, description="hookline: the event type's schema version the payload was published under"
    )
    schema_warning: str | None = Field(
        default=None,
        description="hookline: where and why the payload fails its schema (event type schemaValidation: warn)",
    )
    ordering_key: str | None = Field(default=None, description="hookline: its FIFO order on FIFO endpoints")


class EndpointMessageOut(MessageOut):
    status: MessageStatus
    status_text: StatusText
    next_attempt: datetime | None = None


class MessageEndpointOut(EndpointOut):
    status: MessageStatus
    status_text: StatusText
    next_attempt: datetime | None = None


# -- attempts ----------------------------------------------------------------
class MessageAttemptOut(Model):
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int
    response_duration_ms: int
    status: MessageStatus
    status_text: StatusText
    trigger_type: Literal[0, 1]
    attempt_number: int
    error: str | None
    timestamp: datetime
    msg: MessageOut | None = None
    request_headers: dict[str, str] | None = Field(
        default=None,
        description="hookline: the headers the attempt was sent with (signature included; credentials "
        "such as Authorization shown as [redacted])",
    )
    transformed_request: dict[str, Any] | None = Field(
        default=None,
        description="hookline: what the endpoint's transformation made of the request "
        "({method, url, headers, payload}, or {cancel: true}); null when no transformation ran",
    )
