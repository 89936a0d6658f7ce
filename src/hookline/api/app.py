"""The ASGI application: routes, middleware, and the engine's lifecycle."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hookline._version import __version__
from hookline.api import errors
from hookline.api.auth import TokenCache
from hookline.api.docs import install_docs
from hookline.api.middleware import BodyLimitMiddleware, IdempotencyMiddleware
from hookline.api.openapi import ERROR_RESPONSES
from hookline.api.routes import applications, attempts, auth, endpoints, event_types, health, messages
from hookline.config import Settings
from hookline.delivery.engine import DeliveryEngine
from hookline.domain.signing import generate_secret
from hookline.store import operational, tokens
from hookline.store.database import Database
from hookline.store.migrate import migrate
from hookline.store.secrets import SecretBox

# Room for the JSON around a payload that may itself be max_payload_bytes.
_ENVELOPE_BYTES = 64 * 1024


async def configure_operational_webhooks(db: Database, settings: Settings) -> None:
    url = settings.operational_webhook_url
    if not url:
        return
    secret = settings.operational_webhook_secret or generate_secret()
    async with db.write() as conn:
        await operational.configure_from_env(
            conn, url, settings.operational_webhook_secret, SecretBox.from_settings(settings).seal(secret)
        )


async def ensure_admin_token(db: Database, settings: Settings) -> None:
    """On first start without HOOKLINE_ADMIN_TOKEN, make an admin token and print it once."""
    if settings.admin_token:
        return
    async with db.write() as conn:
        if await tokens.has_admin(conn):
            return
        token = await tokens.create(conn, app_id=None, name="admin (generated at first start)")
    print(
        f"hookline: generated admin token (shown once, keep it safe):\n\n    {token}\n",
        file=sys.stderr,
        flush=True,
    )


def create_app(settings: Settings, *, run_engine: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        await migrate(db)
        await ensure_admin_token(db, settings)
        await configure_operational_webhooks(db, settings)
        app.state.db = db
        engine = DeliveryEngine(db, settings) if run_engine else None
        app.state.engine = engine
        if engine:
            await engine.start()
        try:
            yield
        finally:
            if engine:
                await engine.stop(grace=settings.request_timeout + 1)
            await db.close()

    app = FastAPI(
        title="hookline",
        version=__version__,
        description="Self-hosted webhooks. The management API follows Svix's REST shape.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.token_cache = TokenCache()
    errors.install(app)
    for module in (applications, event_types, endpoints, messages, attempts, health, auth):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    install_docs(app)
    app.add_middleware(IdempotencyMiddleware, db_getter=lambda: app.state.db)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_payload_bytes + _ENVELOPE_BYTES, timeout=settings.body_timeout
    )
    return app
