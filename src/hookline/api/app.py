"""The ASGI application: routes, middleware, and the engine's lifecycle."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from inspect import signature
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from hookline import ui
from hookline._version import __version__
from hookline.api import errors
from hookline.api.auth import TokenCache
from hookline.api.docs import install_docs
from hookline.api.edge import (
    CaptureHostMiddleware,
    ClientAddressMiddleware,
    StrictTransportMiddleware,
    TokenRateLimitMiddleware,
)
from hookline.api.fastpath import FastRoute
from hookline.api.middleware import BodyLimitMiddleware, IdempotencyMiddleware, JsonBodyMiddleware
from hookline.api.openapi import ERROR_RESPONSES, include_models
from hookline.api.query import refuse_unknown_query
from hookline.api.routes import (
    applications,
    attempts,
    auth,
    background_tasks,
    capture,
    client_certs,
    endpoints,
    environment,
    event_types,
    health,
    health_head,
    inbound,
    ingest,
    inspect,
    integrations,
    listen,
    messages,
    metrics,
    operational_webhooks,
    poller,
    recovery,
    statistics,
    stats,
    transformations,
)
from hookline.api.schemas import MessageIn
from hookline.config import Settings, load_settings
from hookline.runtime import Runtime
from hookline.services.inspect import LiveHub

# Room for the JSON around a payload that may itself be max_payload_bytes.
_ENVELOPE_BYTES = 64 * 1024
log = structlog.get_logger("hookline.api")


async def _client_gone(request: Request, _exc: Exception) -> Response:
    # Not an error of ours: the client went away mid-body. No one reads the answer.
    log.info("client disconnected before sending the whole request body", path=request.url.path)
    return Response(status_code=400)


def _without_native_telemetry(settings: Settings) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry (0.165 and later) looks for configured providers on every
    request, reading the environment each time; hookline's tracing (HOOKLINE_OTEL_ENABLED) is
    its own, so FastAPI's is turned off unless hookline's is on."""
    if settings.otel_enabled or "telemetry" not in signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(settings: Settings, *, run_engine: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, deliver=run_engine)
        await runtime.start()
        app.state.db = runtime.db
        app.state.engine = runtime.engine
        app.state.jobs = runtime.jobs
        app.state.outbound = runtime.outbound
        app.state.sandbox = runtime.sandbox
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="hookline",
        version=__version__,
        description="Self-hosted webhooks. The management API follows Svix's REST shape.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        **_without_native_telemetry(settings),
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.token_cache = TokenCache()
    app.state.jobs = None
    app.state.outbound = None
    app.state.inspect_hub = LiveHub()
    errors.install(app)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    # The management API's routes refuse query parameters they do not take (api/query.py);
    # probes (health, metrics) and the URLs senders post to take whatever comes.
    strict = [Depends(refuse_unknown_query)]
    # Publishing is the hot route: match it first.
    app.include_router(messages.router, responses=ERROR_RESPONSES, dependencies=strict)
    for module in (applications, event_types, endpoints, attempts, recovery, stats, auth):
        app.include_router(module.router, responses=ERROR_RESPONSES, dependencies=strict)
    for module in (health, metrics):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    # Svix parity (issue 15): resources with routes of their own.
    for module in (
        background_tasks,
        integrations,
        statistics,
        poller,
        environment,
        operational_webhooks,
        client_certs,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES, dependencies=strict)
    app.include_router(health_head.router, responses=ERROR_RESPONSES)
    # Inbound gateway (issue 11): the management API, and the ingest URLs providers post to.
    app.include_router(ingest.router, responses=ERROR_RESPONSES, dependencies=strict)
    app.include_router(inbound.router)
    # The inspector (issue 12): bins under /api/v1/inspect, capture URLs under /i/.
    app.include_router(inspect.router, responses=ERROR_RESPONSES, dependencies=strict)
    app.include_router(listen.router)
    app.router.routes.extend(capture.routes)
    # Delivery policies (issue 14).
    app.include_router(transformations.router, responses=ERROR_RESPONSES, dependencies=strict)
    include_models(app, [MessageIn])
    _answer_hot_routes_first(app)
    ui.install(app)  # the operator dashboard at /ui/
    if settings.otel_enabled:
        from hookline import tracing

        tracing.install(app)
    install_docs(app)
    app.add_middleware(
        IdempotencyMiddleware,
        db_getter=lambda: app.state.db,
        prefixes=API_PREFIXES,
        inline=re.compile(messages.PUBLISH_PATH),
    )
    app.add_middleware(JsonBodyMiddleware, path_prefixes=API_PREFIXES)
    if settings.api_rate_limit is not None:
        app.add_middleware(TokenRateLimitMiddleware, rate=settings.api_rate_limit, prefixes=API_PREFIXES)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_payload_bytes + _ENVELOPE_BYTES,
        timeout=settings.body_timeout,
        raw_prefixes=RAW_PREFIXES,
        raw_max_bytes=settings.capture_max_bytes,
    )
    app.add_middleware(StrictTransportMiddleware)
    capture_host = settings.capture_host()
    if capture_host is not None:
        app.add_middleware(
            CaptureHostMiddleware,
            capture_host=capture_host,
            capture_base=settings.capture_base(),
            public_base=settings.public_base(),
        )
    # Outermost: everything inside sees the client behind the trusted proxies.
    if settings.trusted_proxies:
        app.add_middleware(ClientAddressMiddleware, trusted=settings.trusted_proxies)
    return app


def _answer_hot_routes_first(app: FastAPI) -> None:
    """Publishing, the ingest URLs and the capture URLs skip FastAPI's router (api/fastpath.py);
    they stay registered there (for the OpenAPI document, and odd methods). Added first, so they
    are the innermost middleware: every other one (limits, JSON checks, idempotency, tracing)
    still sees them."""
    routes = [r for router in (messages.router, inbound.router) for r in router.routes if isinstance(r, APIRoute)]

    def route(method: str, path: str) -> APIRoute:
        return next(r for r in routes if r.path == path and method in (r.methods or ()))

    for methods, pattern, endpoint, path in (
        (("POST",), messages.PUBLISH_PATH, messages.create_message, "/api/v1/app/{app_id}/msg"),
        (inbound.METHODS, r"/in/(?P<token>[^/]+)", inbound.receive_root, "/in/{token}"),
        (inbound.METHODS, r"/in/(?P<token>[^/]+)/(?P<path>.*)", inbound.receive_below, "/in/{token}/{path:path}"),
    ):
        app.add_middleware(
            FastRoute,
            methods=methods,
            pattern=pattern,
            endpoint=endpoint,
            route=route(methods[0], path),
            handlers=lambda: app.exception_handlers,
        )
    # Capture URLs take any method: the usual ones here, odd ones through the router (the same
    # handler either way).
    for pattern, captured in zip(
        (r"/i/(?P<token>[^/]+)", r"/i/(?P<token>[^/]+)/(?P<rest>.*)"), capture.routes, strict=True
    ):
        app.add_middleware(
            FastRoute,
            methods=inbound.METHODS,
            pattern=pattern,
            endpoint=capture.capture,
            route=captured,
            handlers=lambda: app.exception_handlers,
        )


# Where senders post whatever they post: ingest (inbound gateway) and capture (inspector) URLs.
RAW_PREFIXES = ("/in/", "/i/")
# The management APIs (what a token calls; bodies must be JSON), never the ingest or capture URLs.
API_PREFIXES = ("/api/", "/ingest/api/")


def app_from_env() -> FastAPI:
    """The app as configured by HOOKLINE_* variables: what ``serve --workers N`` runs."""
    import os

    from hookline.logs import configure_logging
    from hookline.runtime import exit_with_parent, settle_garbage_collector

    exit_with_parent()
    settings = load_settings()
    configure_logging(settings)
    app = create_app(settings, run_engine=os.environ.get("HOOKLINE_ROLE", "all") == "all")
    settle_garbage_collector()
    return app
