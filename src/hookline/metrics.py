"""Prometheus metrics, all named ``hookline_*``.

Counters and the latency histogram are updated where things happen; the backlog
gauges are read from the database when ``/metrics`` is scraped, so every process
reports the same, true number.
"""

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter("hookline_deliveries", "Delivery attempts by outcome", ["outcome"])
ATTEMPT_SECONDS = Histogram(
    "hookline_attempt_duration_seconds",
    "Time from sending a webhook to its response (or failure)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
MESSAGES_ACCEPTED = Counter("hookline_messages_accepted", "Messages accepted by the API")
ENDPOINTS_DISABLED = Counter("hookline_endpoints_disabled", "Endpoints disabled (410 Gone or failing too long)")
SCHEMA_WARNINGS = Counter(
    "hookline_schema_warnings", "Messages accepted although their payload fails its schema (warn)", ["event_type"]
)
DATABASE_ERRORS = Counter("hookline_database_errors", "Database operations that failed", ["where"])
INGEST_RECEIVED = Counter("hookline_ingest_received", "Requests the ingest URLs accepted and forwarded")
INGEST_REJECTED = Counter("hookline_ingest_rejected", "Requests the ingest URLs refused, by cause", ["cause"])
INGEST_DUPLICATES = Counter("hookline_ingest_duplicates", "Requests the ingest URLs took as duplicates")
INSPECT_RATE_LIMITED = Counter(
    "hookline_inspect_rate_limited", "Requests capture URLs refused (429, not captured): past the bin's rate limit"
)
BACKLOG = Gauge("hookline_backlog", "Deliveries not finished yet (pending or being sent)")
OLDEST_DUE_SECONDS = Gauge("hookline_oldest_due_age_seconds", "How long the oldest due delivery has waited")


def observe_attempt(outcome: str, seconds: float) -> None:
    """``outcome``: success, failure (will retry), exhausted (gave up) or blocked (SSRF)."""
    DELIVERIES.labels(outcome=outcome).inc()
    ATTEMPT_SECONDS.observe(seconds)


def message_accepted(count: int = 1) -> None:
    MESSAGES_ACCEPTED.inc(count)


def ingest(status: str, cause: str | None = None) -> None:
    """``status``: accepted, rejected (with its ``cause``) or duplicate."""
    if status == "accepted":
        INGEST_RECEIVED.inc()
    elif status == "duplicate":
        INGEST_DUPLICATES.inc()
    else:
        INGEST_REJECTED.labels(cause=cause or "unknown").inc()


def inspect_rate_limited() -> None:
    INSPECT_RATE_LIMITED.inc()


def endpoint_disabled() -> None:
    ENDPOINTS_DISABLED.inc()


def database_error(where: str) -> None:
    DATABASE_ERRORS.labels(where=where).inc()


def schema_warning(event_type: str) -> None:
    SCHEMA_WARNINGS.labels(event_type=event_type).inc()
