"""The schema, as SQLAlchemy Core tables. Times are Unix milliseconds (BigInteger)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

# What queries hand back: a Row, or a dict with the same keys.
Row = Mapping[Any, Any]

metadata = MetaData()

application = Table(
    "application",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("uid", String(256), nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("throttle_rate", Integer, nullable=True),
    # GCRA state for throttle_rate (see domain/throttle.py).
    Column("throttle_tat", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # hookline's own applications (operational webhooks): set only by hookline, never by the API.
    Column("internal", Boolean, nullable=False, server_default=false()),
)

event_type = Table(
    "event_type",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("description", Text, nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("deprecated", Boolean, nullable=False, default=False),
    Column("schemas", JSON, nullable=True),
    Column("feature_flag", String(256), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # off | warn | enforce: what a publish whose payload fails its version's schema gets.
    Column("schema_validation", String(8), nullable=False, server_default="off"),
)

endpoint = Table(
    "endpoint",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("uid", String(256), nullable=True),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("event_types", JSON, nullable=True),
    Column("channels", JSON, nullable=True),
    Column("disabled", Boolean, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("throttle_rate", Integer, nullable=True),
    Column("throttle_tat", BigInteger, nullable=True),
    Column("headers", JSON, nullable=False),
    # The current signing secret, and earlier ones still in their grace period:
    # a list of {"key": ..., "expires_at": ms}.
    Column("secret", Text, nullable=False),
    Column("old_secrets", JSON, nullable=False),
    # Start of the current run of exhausted deliveries with no success (auto-disable).
    Column("failing_since", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # A payload filter (domain/filters.py): messages it does not match get no delivery.
    Column("filter", JSON, nullable=True),
    # A JavaScript transformation (hookline.transform) run before each attempt.
    Column("transformation_code", Text, nullable=True),
    Column("transformation_enabled", Boolean, nullable=False, server_default=false()),
    # FIFO order (domain/claim.py FifoPolicy): one delivery at a time per ordering key, in
    # publish order; fifo_next numbers the deliveries made for it.
    Column("fifo", Boolean, nullable=False, server_default=false()),
    Column("fifo_on_exhausted", String(8), nullable=False, server_default="skip"),
    Column("fifo_next", BigInteger, nullable=False, server_default="0"),
    # A source's destination (inbound gateway) that gets a request at its own URL as it is,
    # without the path below the ingest URL and the query (Hookdeck's path_forwarding_disabled).
    Column("path_forwarding_disabled", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("app_id", "uid", name="uq_endpoint_app_uid"),
    Index("ix_endpoint_app", "app_id", "id"),
    Index("ix_endpoint_throttle", "throttle_tat"),
)

message = Table(
    "message",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("event_type", String(256), nullable=False),
    Column("event_id", String(256), nullable=True),
    # The exact bytes every endpoint receives; NULL once expunged.
    Column("payload", LargeBinary, nullable=True),
    Column("channels", JSON, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("payload_expires_at", BigInteger, nullable=False),
    # Set for messages that carry a received request as is (inbound gateway): the body's own
    # Content-Type, and the sender's headers to pass on ([name, value] pairs). NULL: JSON.
    Column("content_type", Text, nullable=True),
    Column("headers", JSON, nullable=True),
    # And what goes after its destinations' URLs: the path below the ingest URL and the query,
    # encoded ("/orders/paid?shop=x"; domain/ingest.py forward_path). NULL: nothing.
    Column("forward_path", Text, nullable=True),
    # Svix's message tags (a JSON list, filtered like channels), and when a scheduled
    # message's deliveries become due (NULL: at once).
    Column("tags", JSON, nullable=True),
    Column("deliver_at", BigInteger, nullable=True),
    # The event type schema version the payload was checked against, and (schemaValidation
    # "warn") why it failed.
    Column("schema_version", String(64), nullable=True),
    Column("schema_warning", Text, nullable=True),
    # Independent FIFO orders on one endpoint, one per key (default: the message's channels).
    Column("ordering_key", String(256), nullable=True),
    UniqueConstraint("app_id", "event_id", name="uq_message_app_event_id"),
    Index("ix_message_app", "app_id", "id"),
)

# One row per (message, endpoint) to deliver: the queue. Status codes are
# domain.model.DeliveryStatus (Svix's MessageStatus: 0 success, 1 pending, 2 fail, 3 sending). A row is due
# when next_attempt_at <= now; finished rows have it NULL. A claim sets it to the
# lease's end, so a row whose worker died becomes due again by itself.
_QUEUED = text("next_attempt_at IS NOT NULL")
_IN_FIFO_QUEUE = text("fifo_key IS NOT NULL")
delivery = Table(
    "delivery",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("msg_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("app_id", String(40), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("locked_until", BigInteger, nullable=True),
    Column("trigger", SmallInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # A delivery to a FIFO endpoint is in its key's queue while fifo_key is set: the head is
    # due (or being sent, or blocking after exhaustion), the rest wait with next_attempt_at
    # NULL and status pending until the head leaves the queue.
    Column("fifo_key", Text, nullable=True),
    Column("fifo_seq", BigInteger, nullable=True),
    # Only rows queued or leased (finished rows leave both indexes rather than move in them):
    # the due rows in due order, and by endpoint (queue.claim).
    Index("ix_delivery_due", "next_attempt_at", sqlite_where=_QUEUED, postgresql_where=_QUEUED),
    Index("ix_delivery_queued", "endpoint_id", "next_attempt_at", sqlite_where=_QUEUED, postgresql_where=_QUEUED),
    Index("ix_delivery_status", "status", "endpoint_id", "msg_id"),
    UniqueConstraint("msg_id", "endpoint_id", name="uq_delivery_msg_endpoint"),
    Index("ix_delivery_endpoint", "endpoint_id", "id"),
    # Only deliveries in a FIFO queue (every query of it names a fifo_key): the others, most
    # of them, are neither written to it when inserted nor, on PostgreSQL, when updated.
    Index(
        "ix_delivery_fifo",
        "endpoint_id",
        "fifo_key",
        "fifo_seq",
        sqlite_where=_IN_FIFO_QUEUE,
        postgresql_where=_IN_FIFO_QUEUE,
    ),
)

# Append-only log of every HTTP attempt.
attempt = Table(
    "attempt",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("delivery_id", String(40), nullable=False),
    Column("msg_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("app_id", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("response_status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("response_duration_ms", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("trigger", SmallInteger, nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # What a transformation made of the request: {"method", "url", "headers", "body"}.
    Column("request", JSON, nullable=True),
    # The headers the attempt was sent with, credentials redacted (NULL before migration 0015).
    Column("request_headers", JSON, nullable=True),
    Index("ix_attempt_endpoint", "endpoint_id", "id"),
    Index("ix_attempt_msg", "msg_id", "id"),
    # The application's attempt log across its endpoints, newest first (the dashboard's Attempts page).
    Index("ix_attempt_app", "app_id", "id"),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("app_id", String(40), nullable=True),
    Column("name", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # How the token was made: generated (printed at first start), cli, api or portal.
    Column("origin", String(16), nullable=False, server_default="cli"),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    # Portal grants (app-portal-access): refuse every write; or only what the capabilities allow.
    Column("read_only", Boolean, nullable=False, server_default=false()),
    Column("capabilities", JSON, nullable=True),
    Column("session_id", String(256), nullable=True),
    # A dashboard session: what it was opened with, which it lasts no longer than: the id of an
    # admin token, or "env:" and a fingerprint of HOOKLINE_ADMIN_TOKEN (services/tokens.py).
    Column("opened_with", String(80), nullable=True),
    # When a request last came with it, to the minute (services/tokens.py: note_use); NULL: never.
    Column("last_used_at", BigInteger, nullable=True),
    Index("ix_api_token_app", "app_id", "session_id"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

# Long operations (recover, replay) are durable jobs: a running row is claimed under a
# lease (locked_until, NULL or past: free to claim) by any process that runs the engine,
# which works it in batches, each committed with its progress (cursor, done of total).
background_task = Table(
    "background_task",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("task", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # What the job works on (its kind's parameters) and how far it got.
    Column("params", JSON, nullable=True),
    Column("cursor", Text, nullable=True),
    Column("locked_until", BigInteger, nullable=True),
    Index("ix_background_task_due", "status", "locked_until"),
)

# Per-application integration keys. The key is an app-scoped API token (``token_id`` in
# api_token); it is also kept here, sealed like endpoint secrets, so it can be shown again.
integration = Table(
    "integration",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("name", Text, nullable=False),
    Column("feature_flags", JSON, nullable=False),
    Column("token_id", String(40), nullable=False),
    Column("key", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_integration_app", "app_id", "id"),
)

# Where each polling consumer stands: the last message id it was handed.
poller_cursor = Table(
    "poller_cursor",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("consumer_id", String(256), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("position", String(64), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# What a finished background task computed (statistics), shown as the task's ``data``.
background_task_result = Table(
    "background_task_result",
    metadata,
    Column("task_id", String(40), primary_key=True),
    Column("data", JSON, nullable=False),
)

# A client certificate an endpoint presents to receivers that demand mutual TLS. The
# private key is sealed like endpoint secrets (encrypted when HOOKLINE_MAIN_SECRET is set).
endpoint_client_cert = Table(
    "endpoint_client_cert",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("cert", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("issuer", Text, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Inbound gateway (services/ingest.py). A source is a URL providers post to; its destinations are
# the endpoints of its own internal application (``app_id``). Tokens are looked up by hash and kept
# sealed for display; ``config`` (the verification secret) is sealed JSON.
ingest_source = Table(
    "ingest_source",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("uid", String(256), nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("type", String(64), nullable=False),
    Column("config", Text, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("response", JSON, nullable=True),
    Column("app_id", String(40), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("token", Text, nullable=False),
    Column("old_token_hash", String(64), nullable=True, index=True),
    Column("old_token_expires_at", BigInteger, nullable=True),
    Column("allowed_ips", JSON, nullable=True),  # CIDRs requests may come from; NULL: anywhere
    Column("rate_limit", Integer, nullable=True),  # requests per second (burst the same); NULL: none
    Column("rate_tat", BigInteger, nullable=True),  # the rate limit's GCRA state (domain/throttle.py)
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Every request an ingest URL took, exactly as sent, with what became of it:
# accepted (``msg_id`` is its message), rejected (``cause``) or duplicate.
ingest_request = Table(
    "ingest_request",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("source_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("cause", Text, nullable=True),
    Column("dedup_key", String(300), nullable=True),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("client", String(64), nullable=True),
    Column("msg_id", String(40), nullable=True),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_ingest_request_source", "source_id", "id"),
)

# The dedup window: one row per (source, provider event id) until ``expires_at``.
ingest_dedup = Table(
    "ingest_dedup",
    metadata,
    Column("source_id", String(40), primary_key=True),
    Column("dedup_key", String(300), primary_key=True),
    Column("request_id", String(40), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# The magic links of app-portal-access: each opens the portal once (``used_at``), and the
# portal session it became is found by ``session_hash``; it lives as long as its token works.
portal_link = Table(
    "portal_link",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("link_hash", String(64), nullable=False),
    Column("token_id", String(40), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Column("session_hash", String(64), nullable=True),
    UniqueConstraint("link_hash", name="uq_portal_link_link_hash"),
    UniqueConstraint("session_hash", name="uq_portal_link_session_hash"),
)

# The inspector's capture URLs ("bins"): ``/i/{token}`` records every request sent to it.
inspect_bin = Table(
    "inspect_bin",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("app_id", String(40), nullable=True),  # the owner; NULL: the admin
    Column("name", Text, nullable=True),
    Column("response", JSON, nullable=False),
    Column("max_requests", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("verify_provider", String(64), nullable=True),
    Column("verify_secret", Text, nullable=True),  # sealed
    Column("rate_limit", Integer, nullable=True),  # requests per second (burst the same); NULL: none
    Column("rate_tat", BigInteger, nullable=True),  # the rate limit's GCRA state (domain/throttle.py)
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_inspect_bin_app", "app_id", "id"),
    Index("ix_inspect_bin_expires", "expires_at"),
)

# Each request a bin captured, exactly as sent. ``forwarded_at``: when a ``hookline listen``
# acknowledged it (NULL: still in the listener's backlog).
inspect_request = Table(
    "inspect_request",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("bin_id", String(40), nullable=False),
    Column("method", String(32), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("client", String(64), nullable=True),
    Column("size", Integer, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("signature", JSON, nullable=True),
    Column("response_status", SmallInteger, nullable=True),
    Column("forwarded_at", BigInteger, nullable=True),
    Index("ix_inspect_request_bin", "bin_id", "id"),
)
