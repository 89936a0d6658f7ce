"""Typed settings, read from ``HOOKLINE_*`` environment variables."""

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Literal
from urllib.parse import urlsplit

from hookline.domain.retry import DEFAULT_SCHEDULE, parse_schedule

SignatureHeaders = Literal["webhook", "svix", "both"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A HOOKLINE_* variable holds a value hookline cannot use."""


def _networks(text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip())


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(p.strip().rstrip("/") for p in text.split(",") if p.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ValueError(f"{origin!r} is not an origin such as https://crm.example.org")
    return origins


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///hookline.db"
    host: str = "127.0.0.1"
    port: int = 8071
    admin_token: str | None = None
    request_timeout: float = 15.0
    retry_schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    signature_headers: SignatureHeaders = "both"
    allowed_cidrs: tuple[Network, ...] = ()
    lease_seconds: float = 60.0
    poll_interval: float = 1.0
    max_in_flight: int = 200
    endpoint_concurrency: int = 10
    max_payload_bytes: int = 1024 * 1024
    response_body_limit: int = 20_000
    endpoint_https_only: bool = False
    main_secret: str | None = None
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    disable_after_days: float = 5.0
    operational_webhook_url: str | None = None
    operational_webhook_secret: str | None = None
    body_timeout: float = 30.0
    proxy_headers: bool = False
    otel_enabled: bool = False
    attempt_retention_days: float = 90.0
    cleaner_interval: float = 600.0
    # Items a background job (recover, replay) handles per committed batch.
    job_batch_size: int = 500
    log_level: str = "info"
    log_format: Literal["json", "console"] = "json"
    ui_session_hours: float = 12.0
    # Origins allowed to embed the tenant portal (/portal/) in an iframe; none: no framing.
    portal_frame_ancestors: tuple[str, ...] = ()
    max_connections: int = 1000
    head_timeout: float = 30.0
    database_lock_timeout: float = 10.0
    # PostgreSQL: connections the API keeps open (the delivery engine keeps two of its own).
    # No overflow beyond it: a connection opened for a burst and closed after it costs more
    # than waiting for one of these.
    database_pool_size: int = 20
    # Endpoint transformations (hookline.transform): per-run time and memory limits, and
    # how many sandbox processes run them side by side.
    transform_timeout: float = 0.2
    transform_memory_mb: int = 128
    transform_workers: int = 2
    # Where senders reach this server from outside (ingest and capture URLs are built on it);
    # by default the listen address.
    public_url: str | None = None
    # Capture URLs (/i/) on a host of their own: what a bin answers (chosen by whoever made it)
    # then never comes from the dashboard's origin. That host serves nothing else.
    capture_url: str | None = None
    # Raw requests taken by ingest (/in/) and capture (/i/) URLs may be this large.
    capture_max_bytes: int = 10 * 1024 * 1024
    # Serve HTTPS directly (small installs without a reverse proxy): PEM files.
    tls_cert: str | None = None
    tls_key: str | None = None
    # Every delivery goes through this HTTP(S) proxy: one fixed egress address to allow-list.
    delivery_proxy: str | None = None
    # Connections from these networks are proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[Network, ...] = ()
    # Management API requests per second per token (burst of the same size); None: no limit.
    api_rate_limit: int | None = None
    # An ingest source forwards an event id (or body) once within this window; repeats are duplicates.
    ingest_dedup_hours: float = 24.0

    def public_base(self) -> str:
        """The public base URL, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{host}:{self.port}"

    def capture_base(self) -> str:
        """Where capture URLs are, without a trailing slash: HOOKLINE_CAPTURE_URL, else the public base."""
        return self.capture_url.rstrip("/") if self.capture_url else self.public_base()

    def capture_host(self) -> str | None:
        """The host name capture URLs are served on, when they have one of their own."""
        return (urlsplit(self.capture_url).hostname or "").lower() if self.capture_url else None

    def with_overrides(self, **changes: object) -> "Settings":
        clean = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **clean)  # type: ignore[arg-type]


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # nan and inf pass every comparison check, then break a loop
        raise ValueError(f"{text!r} is not a finite number")
    return value


_PARSERS: dict[str, Callable[[str], object]] = {
    "port": int,
    "request_timeout": _finite,
    "retry_schedule": parse_schedule,
    "allowed_cidrs": _networks,
    "lease_seconds": _finite,
    "poll_interval": _finite,
    "max_in_flight": int,
    "endpoint_concurrency": int,
    "max_payload_bytes": int,
    "response_body_limit": int,
    "endpoint_https_only": _bool,
    "disable_after_days": _finite,
    "body_timeout": _finite,
    "proxy_headers": _bool,
    "otel_enabled": _bool,
    "attempt_retention_days": _finite,
    "cleaner_interval": _finite,
    "job_batch_size": int,
    "ui_session_hours": _finite,
    "portal_frame_ancestors": _origins,
    "max_connections": int,
    "head_timeout": _finite,
    "database_lock_timeout": _finite,
    "database_pool_size": int,
    "capture_max_bytes": int,
    "trusted_proxies": _networks,
    "api_rate_limit": int,
    "ingest_dedup_hours": _finite,
    "transform_timeout": _finite,
    "transform_memory_mb": int,
    "transform_workers": int,
}


def _check(settings: Settings) -> Settings:
    if not 0 <= settings.port <= 65535:
        raise ConfigError("HOOKLINE_PORT must be from 0 to 65535")
    # Retention 0 would delete each attempt and received request at the next cleaner pass,
    # before anyone could read it: never what someone setting it meant.
    for name in ("poll_interval", "cleaner_interval", "body_timeout", "disable_after_days", "attempt_retention_days"):
        if not getattr(settings, name) > 0:
            raise ConfigError(f"HOOKLINE_{name.upper()} must be more than 0")
    if settings.response_body_limit < 0:
        raise ConfigError("HOOKLINE_RESPONSE_BODY_LIMIT must be 0 or more")
    for name in ("delivery_proxy", "public_url", "capture_url"):
        url = getattr(settings, name)
        try:
            host = urlsplit(url).hostname if url is not None else "-"
        except ValueError:
            host = None
        if not host:
            raise ConfigError(f"HOOKLINE_{name.upper()} must be an http:// or https:// URL with a host")
    if not 0 < settings.request_timeout <= 30:
        raise ConfigError("HOOKLINE_REQUEST_TIMEOUT must be more than 0 and at most 30 seconds")
    if settings.signature_headers not in ("webhook", "svix", "both"):
        raise ConfigError("HOOKLINE_SIGNATURE_HEADERS must be webhook, svix or both")
    if settings.sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ConfigError("HOOKLINE_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
    if settings.log_format not in ("json", "console"):
        raise ConfigError("HOOKLINE_LOG_FORMAT must be json or console")
    if settings.lease_seconds <= settings.request_timeout:
        raise ConfigError("HOOKLINE_LEASE_SECONDS must be longer than HOOKLINE_REQUEST_TIMEOUT")
    if not 0 < settings.ui_session_hours <= 24 * 30:
        raise ConfigError("HOOKLINE_UI_SESSION_HOURS must be more than 0 and at most 720")
    for name in ("head_timeout", "database_lock_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"HOOKLINE_{name.upper()} must be more than 0 seconds")
    if not 1 <= settings.database_pool_size <= 1000:
        raise ConfigError("HOOKLINE_DATABASE_POOL_SIZE must be between 1 and 1000")
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise ConfigError("HOOKLINE_TLS_CERT and HOOKLINE_TLS_KEY go together: set both or neither")
    for name in ("tls_cert", "tls_key"):
        path = getattr(settings, name)
        if path is not None and not os.path.isfile(path):
            raise ConfigError(f"HOOKLINE_{name.upper()}: no such file: {path}")
    if settings.api_rate_limit is not None and settings.api_rate_limit < 1:
        raise ConfigError("HOOKLINE_API_RATE_LIMIT must be at least 1 (requests per second per token)")
    if settings.delivery_proxy is not None and not settings.delivery_proxy.startswith(("http://", "https://")):
        raise ConfigError("HOOKLINE_DELIVERY_PROXY must be an http:// or https:// URL")
    if settings.ingest_dedup_hours < 0:
        raise ConfigError("HOOKLINE_INGEST_DEDUP_HOURS must be 0 (off) or more")
    for name in ("public_url", "capture_url"):
        url = getattr(settings, name)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"HOOKLINE_{name.upper()} must start with http:// or https://")
    if settings.capture_url is not None:
        if urlsplit(settings.capture_url).query or urlsplit(settings.capture_url).fragment:
            raise ConfigError("HOOKLINE_CAPTURE_URL cannot have a query or a fragment")
        # Browsers share cookies between the ports of one host name: only another name is another site.
        if settings.capture_host() == (urlsplit(settings.public_base()).hostname or "").lower():
            raise ConfigError(
                "HOOKLINE_CAPTURE_URL must be on another host name than the dashboard "
                "(HOOKLINE_PUBLIC_URL, or the listen address): that is what keeps bins' answers off its origin"
            )
    if not 0 < settings.transform_timeout <= 30:
        raise ConfigError("HOOKLINE_TRANSFORM_TIMEOUT must be more than 0 and at most 30 seconds")
    if not 16 <= settings.transform_memory_mb <= 4096:
        raise ConfigError("HOOKLINE_TRANSFORM_MEMORY_MB must be from 16 to 4096")
    for name in (
        "transform_workers",
        "max_in_flight",
        "endpoint_concurrency",
        "max_payload_bytes",
        "job_batch_size",
        "max_connections",
        "capture_max_bytes",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"HOOKLINE_{name.upper()} must be at least 1")
    return settings


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f"HOOKLINE_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        parser = _PARSERS.get(f.name)
        try:
            values[f.name] = parser(raw) if parser else raw
        except ValueError as exc:
            raise ConfigError(f"HOOKLINE_{f.name.upper()}: {exc}") from exc
    if "sqlite_synchronous" in values:
        values["sqlite_synchronous"] = str(values["sqlite_synchronous"]).upper()
    return _check(Settings(**values))  # type: ignore[arg-type]


def check(settings: Settings) -> Settings:
    """Validate settings built in code (tests, CLI overrides)."""
    return _check(settings)
