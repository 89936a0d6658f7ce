"""Cross-process wake-ups on PostgreSQL: LISTEN for work that other processes queue.

Publishing sends ``NOTIFY hookline_work`` in its transaction (see
``store.database.notify_work``), and storing a background job ``NOTIFY
hookline_jobs``, so an idle worker on any machine starts within milliseconds
instead of at its next poll. Polling stays as the fallback: a lost notification
costs at most one poll interval.
"""

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from hookline.store.database import pg_connect_args, work_origin

log = structlog.get_logger("hookline.wakeup")


def _dsn(sqlalchemy_url: str) -> str:
    """The engine's URL as a DSN for ``asyncpg.connect``, which reads libpq's ``sslmode`` and takes
    any other query parameter for a server setting (``ssl`` failed every connect that way)."""
    url = make_url(sqlalchemy_url)
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


class PgWakeups:
    def __init__(self, sqlalchemy_url: str, listeners: Mapping[str, Callable[[], None]]) -> None:
        """``listeners``: {channel: what to call when it is notified}."""
        url, self._connect_args = pg_connect_args(sqlalchemy_url)
        self.dsn = _dsn(url)
        self.listeners = dict(listeners)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="hookline-pg-listen")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _notified(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        if payload and payload == work_origin():
            return  # this process's own publishes: it woke its engine itself
        self.listeners[channel]()

    async def _listen_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, **self._connect_args)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("listen connect failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                for channel, on_wake in self.listeners.items():
                    await conn.add_listener(channel, self._notified)
                    on_wake()  # anything queued while we were not listening
                while not lost.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5.0)
                    # A dead server is not always reported: probe it now and then.
                    if not lost.is_set():
                        await conn.execute("SELECT 1")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("listen connection lost", error=str(exc))
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)
