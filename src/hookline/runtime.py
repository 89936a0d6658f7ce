"""What a hookline process runs besides HTTP: database setup, the delivery
engine and its wake-ups. Shared by ``serve`` (roles all and api) and the
worker-only role."""

import asyncio
import signal
import sys

from hookline.config import Settings
from hookline.delivery.engine import DeliveryEngine
from hookline.delivery.wakeup import PgWakeups
from hookline.domain.signing import generate_secret
from hookline.maintenance import Cleaner
from hookline.store import operational, tasks, tokens
from hookline.store.database import Database
from hookline.store.migrate import migrate, migrated_database
from hookline.store.secrets import SecretBox


async def ensure_admin_token(db: Database, settings: Settings) -> None:
    """On first start without HOOKLINE_ADMIN_TOKEN, make an admin token and print it once."""
    if settings.admin_token:
        return
    async with db.write() as conn:
        if await tokens.has_admin(conn):
            return
        token = await tokens.create(conn, app_id=None, name="admin (generated at first start)")
    print(f"hookline: generated admin token (shown once, keep it safe):\n\n    {token}\n", file=sys.stderr, flush=True)


async def configure_operational_webhooks(db: Database, settings: Settings) -> None:
    url = settings.operational_webhook_url
    if not url:
        return
    secret = settings.operational_webhook_secret or generate_secret()
    sealed = SecretBox.from_settings(settings).seal(secret)
    async with db.write() as conn:
        await operational.configure_from_env(conn, url, settings.operational_webhook_secret, sealed)


async def prepare_database(db: Database, settings: Settings) -> None:
    """One-time setup on a migrated database: admin token, operator webhooks."""
    await ensure_admin_token(db, settings)
    await configure_operational_webhooks(db, settings)


async def prepare(settings: Settings) -> None:
    """One-time setup before any worker starts: schema, admin token, operator webhooks."""
    async with migrated_database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous) as db:
        await prepare_database(db, settings)


class Runtime:
    def __init__(self, settings: Settings, *, deliver: bool, serves_api: bool = True) -> None:
        self.settings = settings
        # Background tasks run in API processes; only those may declare them interrupted.
        self.serves_api = serves_api
        self.db = Database(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            lock_timeout=settings.database_lock_timeout,
        )
        self.engine = DeliveryEngine(self.db, settings) if deliver else None
        self._wakeups: PgWakeups | None = None
        self.cleaner = Cleaner(self.db, settings)

    async def start(self) -> None:
        await migrate(self.db)
        await ensure_admin_token(self.db, self.settings)
        await configure_operational_webhooks(self.db, self.settings)
        if self.serves_api:
            async with self.db.write() as conn:
                await tasks.fail_interrupted(conn)
        self.cleaner.start()
        if self.engine:
            await self.engine.start()
            if self.db.dialect == "postgresql":
                self._wakeups = PgWakeups(self.db.url, self.engine.wake)
                self._wakeups.start()

    async def stop(self) -> None:
        await self.cleaner.stop()
        if self._wakeups:
            await self._wakeups.stop()
        if self.engine:
            await self.engine.stop(grace=self.settings.request_timeout + 1)
        await self.db.close()


async def run_worker(settings: Settings) -> None:
    """A process that only delivers: no HTTP. Stops cleanly on SIGTERM or SIGINT."""
    runtime = Runtime(settings, deliver=True, serves_api=False)
    await runtime.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("hookline worker delivering", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
