"""The periodic cleaner: retention of payloads, attempts and idempotency keys; expired capture URLs."""

import asyncio
import contextlib

import structlog

from hookline.config import Settings
from hookline.store import inspect, retention
from hookline.store.database import Database, now_ms

log = structlog.get_logger("hookline.maintenance")


async def clean_once(db: Database, settings: Settings) -> retention.Pruned | None:
    """One pass, unless another process holds the cleaner lock (then None)."""
    async with db.write() as conn:
        if not await retention.take_cleaner_lock(conn):
            return None
        pruned = await retention.clean(conn, now_ms(), int(settings.attempt_retention_days * 86_400_000))
        await inspect.purge_expired(conn, now_ms())
        return pruned


class Cleaner:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="hookline-cleaner")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                pruned = await clean_once(self.db, self.settings)
                if pruned and (pruned.payloads_expunged or pruned.attempts_deleted):
                    log.info("retention", expunged=pruned.payloads_expunged, pruned=pruned.attempts_deleted)
            except Exception as exc:  # the cleaner must never take the process down
                log.warning("retention pass failed", error=str(exc))
            await asyncio.sleep(self.settings.cleaner_interval)
