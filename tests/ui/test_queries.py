"""The dashboard's reads (store.dashboard, services.dashboard) on SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.ui.seed import add_attempts, add_delivery, add_endpoint

from hookline.services.dashboard import Backlog, overview
from hookline.store import applications, dashboard
from hookline.store.database import Database, now_ms
from hookline.store.migrate import migrate

MINUTE = 60_000


async def _read(query: Any, db: Database, *args: Any, **kwargs: Any) -> Any:
    async with db.read() as conn:
        return await query(conn, *args, **kwargs)


async def _backlog(db: Database) -> Backlog:
    return (await overview(db, now_ms() - MINUTE, now_ms(), MINUTE, 1)).backlog


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate(database)
    try:
        yield database
    finally:
        await database.close()


async def test_delivery_series_counts_every_endpoints_attempts_per_minute(db: Database) -> None:
    start = now_ms() // MINUTE * MINUTE - 10 * MINUTE
    await add_attempts(
        db,
        [
            (start - 1, True, 5),  # before the window
            (start, True, 10),
            (start + MINUTE - 1, False, 20),
            (start + 2 * MINUTE + 5, True, 30),
            (start + 2 * MINUTE + 6, False, 40),
            (start + 3 * MINUTE, True, 50),  # the window's end is exclusive
        ],
    )
    await add_attempts(db, [(start + 2 * MINUTE, True, 60)], endpoint_id="ep_other")
    series = await _read(dashboard.delivery_series, db, start + 7, start + 3 * MINUTE, MINUTE)
    assert series.starts_ms == [start, start + MINUTE, start + 2 * MINUTE]  # the empty minute included
    assert series.succeeded == [1, 0, 2]
    assert series.failed == [1, 0, 1]
    assert (series.total_succeeded, series.total_failed) == (3, 2)


async def test_p95_latency_picks_the_95th_percentile_attempt(db: Database) -> None:
    start = now_ms() - 30 * MINUTE
    assert await _read(dashboard.p95_latency_ms, db, start, now_ms()) is None
    await add_attempts(db, [(start + i, True, duration) for i, duration in enumerate(range(100, 0, -1))])
    assert await _read(dashboard.p95_latency_ms, db, start, now_ms()) == 95


async def test_applications_lists_the_newest_and_hides_internal_ones(db: Database) -> None:
    async with db.write() as conn:
        for name in ("first", "second", "third"):
            # Ids order by their millisecond; two made in the same one order at random.
            made_at = now_ms()
            while now_ms() == made_at:
                await asyncio.sleep(0)
            await applications.create(conn, {"name": name, "metadata": {}})
        await applications.create(conn, {"name": "operational", "metadata": {}, "internal": True})
    count, newest = await _read(dashboard.applications, db, limit=2)
    assert count == 3
    assert [a.name for a in newest] == ["third", "second"]


async def test_troubled_endpoints_are_the_disabled_and_failing_ones(db: Database) -> None:
    now = now_ms()
    fields: dict[str, Any] = {"disabled": False, "failing_since": None}
    await add_endpoint(db, "app_a", "https://healthy.example", **fields)
    recent = await add_endpoint(db, "app_a", "https://recent.example", disabled=False, failing_since=now - MINUTE)
    off = await add_endpoint(db, "app_a", "https://off.example", disabled=True, failing_since=None)
    oldest = await add_endpoint(db, "app_b", "https://oldest.example", disabled=True, failing_since=now - 60 * MINUTE)
    found = await _read(dashboard.troubled_endpoints, db, limit=10)
    assert [e.id for e in found] == [oldest, recent, off]
    assert found[0].disabled and found[0].failing_since_ms == now - 60 * MINUTE


async def test_endpoints_whose_recent_attempts_all_failed_are_troubled_before_any_exhausts(db: Database) -> None:
    """An endpoint answering 500 to everything showed as healthy until a delivery exhausted its
    retries (hours later): now its failures of the last 15 minutes list it, the most first."""
    now = now_ms()
    healthy = await add_endpoint(db, "app_a", "https://healthy.example", disabled=False, failing_since=None)
    down = await add_endpoint(db, "app_a", "https://down.example", disabled=False, failing_since=None)
    flaky = await add_endpoint(db, "app_a", "https://flaky.example", disabled=False, failing_since=None)
    off = await add_endpoint(db, "app_b", "https://off.example", disabled=True, failing_since=now - 60 * MINUTE)
    await add_attempts(db, [(now - 20 * MINUTE, False, 1)], endpoint_id=healthy)  # before the window
    await add_attempts(db, [(now - 2 * MINUTE, True, 1)], endpoint_id=healthy)
    await add_attempts(
        db, [(now - 3 * MINUTE, False, 1), (now - MINUTE, False, 1), (now - 5, False, 1)], endpoint_id=down
    )
    await add_attempts(db, [(now - 3 * MINUTE, False, 1), (now - MINUTE, True, 1)], endpoint_id=flaky)
    await add_attempts(db, [(now - MINUTE, False, 1)], endpoint_id=off)
    lately = await _read(dashboard.failing_lately, db, now - 15 * MINUTE, limit=10)
    assert [(e.id, e.recent_failures) for e in lately] == [(down, 3), (off, 1)]
    found = await overview(db, now - MINUTE, now_ms(), MINUTE, 10)
    assert [(e.id, e.recent_failures) for e in found.troubled] == [(off, 1), (down, 3)]
    assert found.troubled[0].disabled and found.troubled[1].failing_since_ms is None


async def test_backlog_reports_how_late_the_oldest_due_delivery_is(db: Database) -> None:
    assert await _backlog(db) == Backlog(unfinished=0, oldest_due_age_ms=None)
    await add_delivery(db, next_attempt_at=now_ms() + 10 * MINUTE)
    assert await _backlog(db) == Backlog(unfinished=1, oldest_due_age_ms=None)  # nothing due yet
    due = now_ms() - 5 * MINUTE
    await add_delivery(db, next_attempt_at=due)
    before = now_ms()
    found = await _backlog(db)
    after = now_ms()
    assert found.unfinished == 2
    assert found.oldest_due_age_ms is not None
    assert before - due <= found.oldest_due_age_ms <= after - due
