"""The job runner: claims durable jobs under a lease and works them batch by batch.

It runs in every process that runs the delivery engine. A job whose process died
keeps its row, cursor and progress; once its lease runs out, the runner of any
process (the same one restarted, or another) claims it and carries on. Stopping
hands our jobs back at once instead of waiting for their leases to expire.
"""

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from sqlalchemy.exc import DBAPIError

from hookline.config import Settings
from hookline.services.recovery import STEPS
from hookline.store import tasks
from hookline.store.database import Database, DatabaseUnavailableError, now_ms
from hookline.store.tasks import Job, LeaseLostError

log = structlog.get_logger("hookline.jobs")
INTERRUPTED = "interrupted: hookline stopped while this task ran; start it again"
# Jobs one process works at once; the rest wait for a free slot or another process.
CONCURRENCY = 2


class JobRunner:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        on_progress: Callable[[], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.db = db
        self.settings = settings
        self.on_progress = on_progress  # after each batch: its deliveries are due now
        self.clock = clock
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], Job] = {}
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def _lease_ms(self) -> int:
        return int(self.settings.lease_seconds * 1000)

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._claim_loop(), name="hookline-jobs")

    def wake(self) -> None:
        """A job was stored (called after its commit)."""
        self._wake.set()

    async def stop(self) -> None:
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        jobs = dict(self._running)
        for task in jobs:
            task.cancel()  # the batch in progress rolls back
        await asyncio.gather(*jobs, return_exceptions=True)
        for job in jobs.values():
            with contextlib.suppress(Exception):
                async with self.db.write() as conn:
                    await tasks.release(conn, job)

    async def _claim_loop(self) -> None:
        backoff = 0.1
        while True:
            self._wake.clear()
            job = None
            if len(self._running) < CONCURRENCY:
                try:
                    job = await self._claim()
                except Exception as exc:  # database trouble: back off, keep going
                    log.warning("claiming a job failed", error=str(exc), retry_in=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
            if job is not None:
                task = asyncio.create_task(self._run(job), name=f"hookline-job-{job.id}")
                self._running[task] = job
                task.add_done_callback(self._finished)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    async def _claim(self) -> Job | None:
        now = self.clock()
        # Look before taking the write lock: most of the time there is no job at all.
        async with self.db.read() as conn:
            if not await tasks.claimable(conn, now):
                return None
        async with self.db.write() as conn:
            return await tasks.claim(conn, now, self._lease_ms)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()

    async def _run(self, job: Job) -> None:
        step_fn = STEPS.get(job.task)
        log.info("job claimed", task_id=job.id, task=job.task, done=job.done, total=job.total)
        try:
            if job.params is None or step_fn is None:
                # A task from before jobs were durable: it cannot be resumed.
                async with self.db.write() as conn:
                    await tasks.finish(conn, job, tasks.FAILED, INTERRUPTED)
                return
            me = asyncio.current_task()
            assert me is not None
            while True:
                started = self.clock()
                async with self.db.write() as conn:
                    step = await step_fn(conn, job, self.settings.job_batch_size, started)
                    # The new lease counts from now, not from when the batch began.
                    now = self.clock()
                    job = await tasks.advance(conn, job, step.done, step.cursor, now, self._lease_ms)
                    if step.finished:
                        await tasks.finish(conn, job, tasks.FINISHED)
                    self._running[me] = job
                if now - started > self._lease_ms // 2:
                    log.warning("slow job batch: the lease nearly ran out", task_id=job.id, ms=now - started)
                if step.done and self.on_progress:
                    self.on_progress()
                if step.finished:
                    log.info("job finished", task_id=job.id, task=job.task, done=job.done)
                    return
        except LeaseLostError:
            log.warning("job taken over by another process", task_id=job.id)
        except (DBAPIError, DatabaseUnavailableError, OSError) as exc:
            # Not the job's fault: its lease runs out and it resumes from its last batch.
            log.warning("job paused by database trouble", task_id=job.id, error=str(exc))
        except Exception as exc:
            log.exception("job failed", task_id=job.id, task=job.task)
            with contextlib.suppress(DBAPIError, DatabaseUnavailableError, OSError):
                async with self.db.write() as conn:
                    await tasks.finish(conn, job, tasks.FAILED, f"{type(exc).__name__}: {exc}")
