"""What a hookline process runs besides HTTP: database setup, the delivery
engine, the background job runner and their wake-ups. Shared by ``serve``
(roles all and api) and the worker-only role."""

import asyncio
import signal
import sys

from hookline.config import Settings
from hookline.delivery.engine import DeliveryEngine
from hookline.delivery.outbound import GuardedOutbound
from hookline.delivery.wakeup import PgWakeups
from hookline.domain.signing import generate_secret
from hookline.maintenance import Cleaner
from hookline.services import tokens as admin_tokens
from hookline.services.jobs import JobRunner
from hookline.store import operational
from hookline.store.database import WORK_CHANNEL, Database
from hookline.store.migrate import migrate, migrated_database
from hookline.store.secrets import SecretBox
from hookline.store.tasks import JOBS_CHANNEL
from hookline.transform import Sandbox


async def ensure_admin_token(db: Database, settings: Settings) -> None:
    """Without HOOKLINE_ADMIN_TOKEN and any admin token, make one and print it once; with it,
    revoke the one generated at first start (services/tokens.py decides)."""
    result = await admin_tokens.settle_admin_tokens(db, admin_token_configured=bool(settings.admin_token))
    if result.revoked:
        ids = ", ".join(result.revoked)
        print(f"hookline: HOOKLINE_ADMIN_TOKEN is set: revoked the generated admin token ({ids})", file=sys.stderr)
    if result.generated:
        shown = f"hookline: generated admin token (shown once, keep it safe):\n\n    {result.generated}\n"
        print(shown, file=sys.stderr, flush=True)


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
    def __init__(self, settings: Settings, *, deliver: bool) -> None:
        self.settings = settings
        self.db = Database(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            lock_timeout=settings.database_lock_timeout,
            pool_size=settings.database_pool_size,
        )
        # Transformation sandbox processes start on first use and stop with the runtime.
        self.sandbox = Sandbox(size=settings.transform_workers, memory_mb=settings.transform_memory_mb)
        # The engine retries every failed claim and record: it needs no ping before each one.
        self.engine_db = self.db.for_retrying_loops() if deliver else self.db
        self.engine = DeliveryEngine(self.engine_db, settings, sandbox=self.sandbox) if deliver else None
        # Background jobs run where deliveries do: their batches make deliveries due.
        self.jobs = JobRunner(self.db, settings, on_progress=self.engine.wake) if self.engine else None
        self._wakeups: PgWakeups | None = None
        self.cleaner = Cleaner(self.db, settings)
        # Built in start(): aiohttp needs a running event loop. Replays of captured requests.
        self.outbound: GuardedOutbound | None = None

    async def start(self) -> None:
        await migrate(self.db)
        self.outbound = GuardedOutbound(self.settings.allowed_cidrs)
        await ensure_admin_token(self.db, self.settings)
        await configure_operational_webhooks(self.db, self.settings)
        self.cleaner.start()
        if self.engine and self.jobs:
            await self.engine.start()
            self.jobs.start()
            if self.db.dialect == "postgresql":
                self._wakeups = PgWakeups(self.db.url, {WORK_CHANNEL: self.engine.wake, JOBS_CHANNEL: self.jobs.wake})
                self._wakeups.start()

    async def stop(self) -> None:
        await self.cleaner.stop()
        if self.outbound:
            await self.outbound.close()
        if self._wakeups:
            await self._wakeups.stop()
        if self.jobs:
            await self.jobs.stop()
        if self.engine:
            await self.engine.stop(grace=self.settings.request_timeout + 1)
        await self.sandbox.close()
        if self.engine_db is not self.db:
            await self.engine_db.close()
        await self.db.close()


# Allocations between two young collections (CPython's default is 700): 5,000 to 20,000
# measured alike (docs/benchmarks.md), a few megabytes of young objects at most.
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Keep what the server process imported and built at startup out of the cyclic
    garbage collector's way, and let it run less often.

    Under load the collector took 15% to 18% of a server's CPU (docs/benchmarks.md): every
    few thousand allocations it walked hundreds of thousands of objects (modules, classes,
    SQLAlchemy and pydantic metadata) that live as long as the process. ``gc.freeze()``
    moves them out of its generations; a larger first threshold makes young collections
    rarer. Reference counting still frees everything that is not in a cycle at once.
    """
    import gc

    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def exit_with_parent() -> None:
    """In a child of ``serve --workers N``: end (SIGTERM, a clean stop) when the parent dies.

    Without it, a parent killed with SIGKILL leaves its workers running, still claiming
    deliveries and holding the port, with nothing left to stop them.
    """
    import ctypes
    import os

    parent = os.getppid()
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


async def run_worker(settings: Settings) -> None:
    """A process that only delivers: no HTTP. Stops cleanly on SIGTERM or SIGINT."""
    runtime = Runtime(settings, deliver=True)
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
