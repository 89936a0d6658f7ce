"""Recover and replay as durable jobs: starting one, and working one batch of it.

``start_*`` is what an entry point calls: it checks the target, counts the work,
and stores a job row (a job runner in any process that runs the engine picks it
up). ``STEPS`` is what the runner calls: one batch after the job's cursor, in the
transaction that also records the job's progress, so a job resumes exactly where
its last committed batch ended.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from hookline.domain.json_text import loads
from hookline.domain.model import BackgroundTask, Endpoint
from hookline.services import payload_filters
from hookline.services.endpoints import refuse_disabled
from hookline.store import endpoints, recovery, tasks
from hookline.store.database import Conn, Database, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.recovery import ReplayFilter

__all__ = ["STEPS", "ReplayFilter", "Step", "get_task", "start_bulk_replay", "start_recover", "start_replay_missing"]

RECOVER = "endpoint.recover"
REPLAY_MISSING = "endpoint.replay"
ENDPOINT_BULK_REPLAY = "endpoint.bulk-replay"
APPLICATION_BULK_REPLAY = "application.bulk-replay"


def listed_kind(stored: str) -> str:
    """The task kind a listing shows: hookline's application-wide bulk replay is listed as the
    kind the svix SDKs know (their BackgroundTaskType enum fails a whole page on any other
    value). Reading the task by id shows its own kind."""
    return ENDPOINT_BULK_REPLAY if stored == APPLICATION_BULK_REPLAY else stored


@dataclass(frozen=True)
class Step:
    done: int  # items this batch sent again
    cursor: str | None  # where the next batch starts
    finished: bool


StepFn = Callable[[Conn, tasks.Job, int, int], Awaitable[Step]]


def _until(until_ms: int | None, now: int) -> int:
    # A job covers what existed when it was asked for: later messages are not its work.
    return now if until_ms is None else min(until_ms, now)


async def start_recover(
    db: Database, app_id: str, endpoint_id: str, since_ms: int, until_ms: int | None
) -> BackgroundTask:
    """Send again every message whose delivery to the endpoint failed in the window. Conflict
    for a disabled endpoint (it would fail them again, sending nothing)."""
    now = now_ms()
    async with db.write() as conn:
        endpoint = await endpoints.get(conn, app_id, endpoint_id)
        refuse_disabled(endpoint)
        until = _until(until_ms, now)
        total = len(await recovery.failed_messages(conn, endpoint, since_ms, until))
        params = {"endpoint_id": endpoint.id, "since_ms": since_ms, "until_ms": until}
        return await tasks.create(conn, app_id, RECOVER, total, params)


async def start_replay_missing(
    db: Database, app_id: str, endpoint_id: str, since_ms: int, until_ms: int | None
) -> BackgroundTask:
    """Send the endpoint the messages of the window it never got and would get now: its event
    types, channels and payload filter match them. Conflict for a disabled endpoint."""
    now = now_ms()
    async with db.write() as conn:
        endpoint = await endpoints.get(conn, app_id, endpoint_id)
        refuse_disabled(endpoint)
        until = _until(until_ms, now)
        total, cursor = 0, None
        while True:  # counted a page at a time: with a payload filter, payloads are read
            found, cursor = await recovery.missing_messages(
                conn, endpoint, since_ms, until, after=cursor, limit=_COUNT_PAGE
            )
            total += len(_wanted(endpoint, found))
            if cursor is None:
                break
        params = {"endpoint_id": endpoint.id, "since_ms": since_ms, "until_ms": until}
        return await tasks.create(conn, app_id, REPLAY_MISSING, total, params)


# Messages read at a time when counting a replay-missing's work.
_COUNT_PAGE = 1000


def _wanted(endpoint: Endpoint, found: Sequence[recovery.Unsent]) -> list[str]:
    """The ids of the messages the endpoint's payload filter takes, as a publish would decide
    (services/publishing.py). A message whose payload is gone, or is not JSON (a request an
    ingest source received as it was), matches no filter."""
    if endpoint.filter is None:
        return [u.id for u in found]
    wanted = []
    for u in found:
        try:
            payload = loads(u.payload) if u.payload is not None else None
        except ValueError:
            payload = None
        if payload is None:
            continue
        if payload_filters.accepts(endpoint.filter, payload_filters.document(u.event_type, u.channels, payload)):
            wanted.append(u.id)
    return wanted


async def start_bulk_replay(db: Database, app_id: str, endpoint_id: str | None, f: ReplayFilter) -> BackgroundTask:
    """Send again the deliveries of the window matching ``f``: to one endpoint (Conflict when
    it is disabled), or (``endpoint_id`` None) to every enabled endpoint of the application."""
    f = ReplayFilter(**{**asdict(f), "until_ms": _until(f.until_ms, now_ms())})
    async with db.write() as conn:
        if endpoint_id is None:
            endpoint_ids = [row.id for row in await endpoints.for_app(conn, app_id) if not row.disabled]
            kind = APPLICATION_BULK_REPLAY
        else:
            endpoint = await endpoints.get(conn, app_id, endpoint_id)
            refuse_disabled(endpoint)
            endpoint_ids = [endpoint.id]
            kind = ENDPOINT_BULK_REPLAY
        pairs, _last = await recovery.matching_deliveries(conn, endpoint_ids, f)
        params = {"endpoint_ids": endpoint_ids, "filter": {**asdict(f), "event_types": _list(f.event_types)}}
        return await tasks.create(conn, app_id, kind, len(pairs), params)


async def get_task(db: Database, task_id: str, app_id: str | None) -> BackgroundTask:
    """A task as its caller may see it: an application's token sees only its own."""
    async with db.read() as conn:
        row = await tasks.get(conn, task_id)
    if row is None or (app_id is not None and row.app_id != app_id):
        raise NotFoundError("background task")
    return row


def _list(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


async def _recover_step(conn: Conn, job: tasks.Job, batch: int, now: int) -> Step:
    assert job.params is not None
    endpoint = await endpoints.get(conn, job.app_id, job.params["endpoint_id"])
    since, until = job.params["since_ms"], job.params["until_ms"]
    msg_ids = await recovery.failed_messages(conn, endpoint, since, until, after=job.cursor, limit=batch)
    if msg_ids:
        await recovery.resend(conn, endpoint, msg_ids, now)
    return Step(len(msg_ids), msg_ids[-1] if msg_ids else job.cursor, not msg_ids)


async def _replay_missing_step(conn: Conn, job: tasks.Job, batch: int, now: int) -> Step:
    assert job.params is not None
    endpoint = await endpoints.get(conn, job.app_id, job.params["endpoint_id"])
    since, until = job.params["since_ms"], job.params["until_ms"]
    found, last = await recovery.missing_messages(conn, endpoint, since, until, after=job.cursor, limit=batch)
    wanted = _wanted(endpoint, found)
    await recovery.send_missing(conn, endpoint, wanted, now)
    return Step(len(wanted), last or job.cursor, last is None)


async def _bulk_replay_step(conn: Conn, job: tasks.Job, batch: int, now: int) -> Step:
    assert job.params is not None
    f = ReplayFilter(**job.params["filter"])
    after = tuple(job.cursor.split(" ", 1)) if job.cursor else None
    pairs, last = await recovery.matching_deliveries(
        conn,
        job.params["endpoint_ids"],
        f,
        after=(after[0], after[1]) if after else None,
        limit=batch,
    )
    if pairs:
        await recovery.replay_pairs(conn, pairs, now)
    return Step(len(pairs), f"{last[0]} {last[1]}" if last else job.cursor, last is None)


STEPS: dict[str, StepFn] = {
    RECOVER: _recover_step,
    REPLAY_MISSING: _replay_missing_step,
    ENDPOINT_BULK_REPLAY: _bulk_replay_step,
    APPLICATION_BULK_REPLAY: _bulk_replay_step,
}
