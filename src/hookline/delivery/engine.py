"""The delivery engine: claim due deliveries, send them, record what happened.

Three kinds of task cooperate: one claimer that leases due rows, one sending
task per claimed delivery (bounded by ``max_in_flight``), and one writer that
records outcomes in batches so a busy engine commits once for many attempts.
"""

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Collection, Sequence

import orjson
import structlog

from hookline import metrics
from hookline.config import Settings
from hookline.delivery import sender
from hookline.delivery.transport import AiohttpTransport, ClientCert, Request, Transport, TransportResult
from hookline.domain import json_text
from hookline.domain.model import redact_headers
from hookline.domain.retry import Plan, plan_after_attempt
from hookline.store import queue
from hookline.store.database import Database, is_outage, now_ms
from hookline.store.secrets import SecretBox, SecretUnavailableError
from hookline.transform import Sandbox, TransformError, TransformResult

log = structlog.get_logger("hookline.engine")
_BATCH = 100
_WRITE_BATCH = 500


def _encode(payload: object) -> bytes:
    """A transformed payload as compact JSON (integers beyond 64 bits take the slow path)."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _outcome(plan: Plan, resp: TransportResult) -> str:
    if plan.succeeded:
        return "success"
    if resp.blocked:
        return "blocked"
    return "failure" if plan.next_attempt_at is not None else "exhausted"


def _refused(event: str, outcome: queue.Outcome, error: Exception) -> None:
    delivery = outcome.delivery
    log.error(event, msg_id=delivery.msg_id, endpoint_id=delivery.endpoint_id, error=str(error))


class DeliveryEngine:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], int] = now_ms,
        transport: Callable[[], Transport] | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._outcomes: asyncio.Queue[queue.Outcome] = asyncio.Queue()
        # Leases whose attempt is over, with the outcome not yet recorded: still leases in the
        # database, so other processes count them, but this one knows nothing is being sent.
        self._finished_leases: set[str] = set()
        # Endpoints the last claim left at their cap, none of whose attempts has ended since.
        self._capped: set[str] = set()
        self._passed_over: set[str] = set()  # wake-ups left alone since the claim began
        self._claiming = False
        # The commit of the last claim's leases, when its deliveries went out before it, with
        # those leases (their outcomes wait for it on PostgreSQL); and whether one failed: then
        # each claim waits for its commit until one succeeds.
        self._leases_commit: tuple[asyncio.Future[None], frozenset[str]] | None = None
        self._confirm_leases = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._full = False  # the claimer waits for a slot: attempts and unrecorded outcomes fill them
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        # Built in start(): the aiohttp transport needs a running event loop.
        self._make_transport = transport or (
            lambda: AiohttpTransport(
                settings.allowed_cidrs, proxy=settings.delivery_proxy, own_capture_base=settings.capture_base()
            )
        )
        self._transport: Transport | None = None
        self.last_claim_at: float | None = None
        self._rng = random.Random()
        self._box = SecretBox.from_settings(settings)
        # Transformations run here; a sandbox given by the runtime is the runtime's to close.
        self._owns_sandbox = sandbox is None
        self._sandbox = sandbox or Sandbox(size=settings.transform_workers, memory_mb=settings.transform_memory_mb)

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._transport = self._make_transport()
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="hookline-claimer"),
            asyncio.create_task(self._write_loop(), name="hookline-writer"),
        ]

    @property
    def _disable_after_ms(self) -> int:
        return int(self.settings.disable_after_days * 86_400_000)

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping and all(not t.done() for t in self._tasks)

    def wake(self, endpoints: Collection[str] = ()) -> None:
        """New work is due now (called after a publish commits), for ``endpoints`` if known.
        Work only for endpoints the last claim left at their cap needs no claim now: the end
        of one of their attempts wakes the claimer. Without that, every claim of a busy
        endpoint was followed by one that found it full."""
        if endpoints and (self._claiming or self._capped.issuperset(endpoints)):
            self._passed_over.update(endpoints)  # decided when the claim under way ends
            return
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming, let in-flight attempts finish within ``grace``, flush outcomes."""
        self._stopping = True
        self._wake.set()
        self._slot_freed.set()
        claimer = self._tasks[0] if self._tasks else None
        if claimer:
            await asyncio.wait([claimer], timeout=grace)
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=grace)
            for task in pending:
                task.cancel()
        # Whatever was cancelled goes back to the queue when its lease expires.
        await self._outcomes.join()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._transport:
            await self._transport.close()
        if self._owns_sandbox:
            await self._sandbox.close()

    # -- claiming ------------------------------------------------------------
    async def _claim_loop(self) -> None:
        backoff = 0.1
        while not self._stopping:
            # An attempt whose outcome waits for the writer still holds its lease: counting it
            # keeps what a crash can send twice within the in-flight limit, and makes a slow
            # database hold back claims instead of letting outcomes pile up in memory.
            free = self.settings.max_in_flight - len(self._in_flight) - len(self._finished_leases)
            if free <= 0:
                self._slot_freed.clear()
                self._full = True
                await self._slot_freed.wait()
                self._full = False
                continue
            want = min(free, _BATCH)
            # Cleared before the claim, not after: an attempt that ends while it runs wakes
            # the next one at once.
            self._wake.clear()
            self._slot_freed.clear()
            self._passed_over.clear()
            self._claiming = True
            now = self.clock()
            try:
                await self._leases_committed()
                # The deliveries go out without waiting for their leases' commit: until it, no
                # other process can claim them (this one holds SQLite's write lock, or on
                # PostgreSQL their endpoints' claim locks), and a lease lost to a crash leaves
                # its delivery due again, as a crash after sending does (at least once). A
                # commit that fails is seen before the next claim, which backs off.
                async with self.db.write_early() as (conn, committed):
                    result = await queue.claim(
                        conn,
                        now,
                        int(self.settings.lease_seconds * 1000),
                        want,
                        endpoint_cap=self.settings.endpoint_concurrency,
                        finished=self._finished_leases,
                    )
                if self._confirm_leases:  # the last commit failed (a full disk): nothing goes out unleased
                    await asyncio.shield(committed)
                    self._confirm_leases = False
                else:
                    self._leases_commit = (committed, frozenset(queue.lease_key(item) for item in result.items))
            except Exception as exc:  # any database trouble: back off, keep going
                self._confirm_leases = True
                self._claiming = False  # the next claim comes after the back-off whatever woke
                metrics.database_error("claim")
                log.warning("claim failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            self.last_claim_at = time.time()
            self._claiming = False
            self._capped = set(result.capped)
            if not self._capped.issuperset(self._passed_over):
                self._wake.set()  # passed over for a cap this claim no longer found
            for item in result.items:
                task = asyncio.create_task(self._deliver(item))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            if len(result.items) == want or (result.more_due and result.items):
                continue
            await self._idle(now, result.wake_at)

    async def _leases_committed(self) -> None:
        """Raise what the commit of the last claim's leases raised, once."""
        if self._leases_commit is not None:
            try:
                await asyncio.shield(self._leases_commit[0])
            except Exception:
                self._leases_commit = None
                raise

    async def _leases_settled(self, batch: Sequence[queue.Outcome]) -> None:
        """Wait for the commit of the leases of these outcomes, if it is still under way.
        Claims run one at a time, each after the one before committed: only the last claim's
        commit can be. What it raised is the claimer's to handle."""
        if self._leases_commit is None:
            return
        commit, leases = self._leases_commit
        if not commit.done() and any(queue.lease_key(o.delivery) in leases for o in batch):
            with contextlib.suppress(Exception):
                await asyncio.shield(commit)

    async def _idle(self, now: int, wake_at: int | None) -> None:
        """Sleep until new work, a throttle opening, a freed endpoint slot, or the poll interval."""
        delay = self.settings.poll_interval
        if wake_at is not None:
            delay = min(delay, max(0.0, (wake_at - now) / 1000))
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._slot_freed.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_freed.set()

    # -- sending -------------------------------------------------------------
    async def _deliver(self, item: queue.Claimed) -> None:
        now = self.clock()
        if item.url is None or item.disabled or item.payload is None:
            # Endpoint gone or disabled, or payload expunged: nothing to send.
            self._settle(queue.Outcome(item, now, "", 0, "", 0, "not sent", False, None))
            return
        assert self._transport is not None
        try:
            secrets = [self._box.open(s) for s in item.secrets]
            client_cert = None
            if item.client_cert is not None:
                client_cert = ClientCert(item.client_cert[0], self._box.open(item.client_cert[1]))
        except SecretUnavailableError as exc:
            self._settle(queue.Outcome(item, now, item.url, 0, "", 0, str(exc), False, None))
            return
        method, url, body, custom = "POST", item.url, item.payload, item.headers
        transformed: dict[str, object] | None = None
        if item.transformation is not None:
            applied = await self._transform(item, item.url, item.payload)
            if isinstance(applied, TransformError):
                self._failed_transform(item, applied)
                return
            if applied.cancel:
                self._cancelled(item)
                return
            method, url, body = applied.method, applied.url, _encode(applied.payload)
            custom = sender.merge_custom(item.headers, applied.headers)
            transformed = {"method": method, "url": url, "headers": applied.headers, "payload": applied.payload}
        headers = sender.request_headers(
            item.msg_id,
            int(time.time()),
            body,
            secrets,
            self.settings.signature_headers,
            custom,
            content_type=item.content_type,
            forwarded=item.forwarded,
        )
        resp = await self._transport.send(
            Request(
                url,
                body,
                headers,
                timeout=self.settings.request_timeout,
                body_limit=self.settings.response_body_limit,
                client_cert=client_cert,
                method=method,
            )
        )
        done = self.clock()
        plan = plan_after_attempt(
            resp.status_code,
            item.attempts + 1,
            self.settings.retry_schedule,
            resp.retry_after,
            done,
            self._rng,
            blocked=resp.blocked,
        )
        metrics.observe_attempt(_outcome(plan, resp), resp.duration_ms / 1000)
        log.info(
            "attempt",
            msg_id=item.msg_id,
            endpoint_id=item.endpoint_id,
            status_code=resp.status_code,
            duration_ms=resp.duration_ms,
            succeeded=plan.succeeded,
            error=resp.error,
        )
        self._settle(
            queue.Outcome(
                delivery=item,
                at_ms=done,
                url=url,
                status_code=resp.status_code,
                response=resp.body,
                duration_ms=resp.duration_ms,
                error=resp.error,
                succeeded=plan.succeeded,
                next_attempt_at=plan.next_attempt_at,
                disable_endpoint=plan.disable_endpoint,
                request=transformed,
                request_headers=redact_headers(headers),
            )
        )

    # -- transformations -------------------------------------------------------
    async def _transform(self, item: queue.Claimed, url: str, payload: bytes) -> TransformResult | TransformError:
        assert item.transformation is not None
        data = json_text.loads(payload)
        webhook = {"method": "POST", "url": url, "payload": data, "eventType": item.event_type, "headers": {}}
        return await self._sandbox.run(
            item.transformation,
            webhook,
            timeout=self.settings.transform_timeout,
            https_only=self.settings.endpoint_https_only,
        )

    def _failed_transform(self, item: queue.Claimed, error: TransformError) -> None:
        """The code failed (exception, time or memory limit...): this attempt fails, nothing
        is sent, and the delivery is retried on the usual schedule."""
        done = self.clock()
        plan = plan_after_attempt(0, item.attempts + 1, self.settings.retry_schedule, None, done, self._rng)
        metrics.observe_attempt("transform_error" if plan.next_attempt_at is not None else "exhausted", 0.0)
        message = f"transformation failed ({error.kind}): {error.message}; nothing was sent"
        log.info("transformation failed", msg_id=item.msg_id, endpoint_id=item.endpoint_id, error=message)
        assert item.url is not None
        self._settle(queue.Outcome(item, done, item.url, 0, "", 0, message, False, plan.next_attempt_at, request=None))

    def _cancelled(self, item: queue.Claimed) -> None:
        """The code set ``webhook.cancel``: the delivery is finished, with nothing sent."""
        done = self.clock()
        metrics.observe_attempt("cancelled", 0.0)
        assert item.url is not None
        why = "cancelled by the endpoint's transformation (webhook.cancel = true); nothing was sent"
        self._settle(queue.Outcome(item, done, item.url, 0, "", 0, why, True, None, request={"cancel": True}))

    # -- recording -----------------------------------------------------------
    def _settle(self, outcome: queue.Outcome) -> None:
        """Hand an attempt's outcome to the recorder. Its endpoint slot is free from now on
        for this process's claims, not only once the outcome is committed: waiting for the
        commit kept each slot about 45 ms longer than the attempt on PostgreSQL."""
        self._finished_leases.add(queue.lease_key(outcome.delivery))
        self._capped.discard(outcome.delivery.endpoint_id)
        self._outcomes.put_nowait(outcome)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._outcomes.get()]
            while len(batch) < _WRITE_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            # An attempt may end before its lease commits (deliveries go out before it). On
            # PostgreSQL its outcome, fenced on the lease, would then find no lease to update,
            # and the delivery would stay leased until the lease ran out, then go out again.
            if not self.db.shares_early_writes:
                await self._leases_settled(batch)
            disabled = await self._record(batch)
            self._finished_leases.difference_update(queue.lease_key(o.delivery) for o in batch)
            if self._full:  # the claimer waits for these leases; otherwise, no extra claim
                self._slot_freed.set()
            for endpoint_id in disabled:
                metrics.endpoint_disabled()
                log.warning("endpoint disabled", endpoint_id=endpoint_id)
            # A failure may be due again at once (Retry-After: 0), and the end of a FIFO
            # delivery makes the next of its queue due: let the claimer look again. A plain
            # success makes nothing due, and its slot was free since the attempt ended.
            if any(not o.succeeded or o.delivery.fifo_key is not None for o in batch):
                self._wake.set()
            for _ in batch:
                self._outcomes.task_done()

    async def _record(self, batch: list[queue.Outcome]) -> list[str]:
        """Record ``batch``; returns the endpoints disabled. When the database is there and
        still refuses the batch, something in one outcome must be at fault (a transformation's
        URL, an answer's text): each is then recorded on its own, and one it refuses again is
        recorded without what came back, so that no outcome holds up all that come after it."""
        done = await self._write(batch)
        if not isinstance(done, Exception):
            return done
        log.warning("the database refused a batch of outcomes; recording them one by one", error=str(done))
        disabled: list[str] = []
        for outcome in batch:
            if len(batch) > 1:
                done = await self._write([outcome])
            if isinstance(done, Exception):
                _refused("the database refused an outcome; it is recorded without its answer", outcome, done)
                done = await self._write([queue.without_answer(outcome, done)])
            if isinstance(done, Exception):
                # Still leased: the delivery goes out again once its lease runs out.
                _refused("an outcome could not be recorded", outcome, done)
                continue
            disabled += done
        return disabled

    async def _write(self, outcomes: list[queue.Outcome]) -> list[str] | Exception:
        """Record ``outcomes`` in one write: the endpoints disabled, or the error with which a
        reachable database refused it twice. While the database is away (gone, busy, full),
        the same write is tried again, for as long as that lasts."""
        # Successes alone are one statement on PostgreSQL: no transaction around it.
        alone = queue.records_alone(outcomes)
        backoff = 0.1
        refused = False
        while True:
            try:
                async with self.db.autocommit() if alone else self.db.write() as conn:
                    return await queue.record(conn, outcomes, disable_after_ms=self._disable_after_ms)
            except Exception as exc:
                metrics.database_error("record")
                if not is_outage(exc) and await self.db.reachable():
                    if refused:
                        return exc
                    refused = True  # once may be a deadlock or a conflict: try again first
                log.warning("recording outcomes failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
