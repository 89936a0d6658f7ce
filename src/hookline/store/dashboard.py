"""The dashboard's overview reads: deliveries per bucket across all endpoints, the p95 attempt
latency, the newest applications and the troubled endpoints. All of them only read."""

from dataclasses import dataclass

from sqlalchemy import case, func, select

from hookline.domain.ids import id_floor
from hookline.store import tables as t
from hookline.store.database import Conn

a = t.attempt


@dataclass(frozen=True)
class Series:
    bucket_ms: int
    starts_ms: list[int]  # every bucket in the window, empty ones included
    succeeded: list[int]
    failed: list[int]

    @property
    def total_succeeded(self) -> int:
        return sum(self.succeeded)

    @property
    def total_failed(self) -> int:
        return sum(self.failed)


@dataclass(frozen=True)
class AppSummary:
    id: str
    uid: str | None
    name: str


@dataclass(frozen=True)
class TroubledEndpoint:
    id: str
    app_id: str
    url: str
    disabled: bool
    failing_since_ms: int | None
    recent_failures: int = 0  # failed attempts in the recent window, with no success among them


async def delivery_series(conn: Conn, since_ms: int, until_ms: int, bucket_ms: int) -> Series:
    """Attempts across all endpoints per bucket, split into succeeded and failed.

    Counted in SQL, grouped on ``created_at`` rounded down to the bucket; the id range (ids sort
    by time) keeps the scan on the attempt table's primary key.
    """
    since_ms -= since_ms % bucket_ms
    bucket = a.c.created_at - a.c.created_at % bucket_ms
    query = (
        select(bucket.label("bucket"), func.sum(case((a.c.status == 0, 1), else_=0)), func.count())
        .where(a.c.id >= id_floor("atmpt", since_ms), a.c.id < id_floor("atmpt", until_ms))
        .group_by(bucket)
    )
    counted = {int(b): (int(ok), int(total)) for b, ok, total in (await conn.execute(query)).all()}
    starts = list(range(since_ms, until_ms, bucket_ms))
    return Series(
        bucket_ms=bucket_ms,
        starts_ms=starts,
        succeeded=[counted.get(s, (0, 0))[0] for s in starts],
        failed=[counted.get(s, (0, 0))[1] - counted.get(s, (0, 0))[0] for s in starts],
    )


async def p95_latency_ms(conn: Conn, since_ms: int, until_ms: int) -> int | None:
    """The 95th percentile attempt duration in the window: one count, then one indexed pick."""
    window = (a.c.id >= id_floor("atmpt", since_ms), a.c.id < id_floor("atmpt", until_ms))
    total = int((await conn.execute(select(func.count()).where(*window))).scalar_one())
    if total == 0:
        return None
    rank = min(total - 1, round(0.95 * (total - 1)))
    pick = select(a.c.response_duration_ms).where(*window).order_by(a.c.response_duration_ms).offset(rank).limit(1)
    return int((await conn.execute(pick)).scalar_one())


async def applications(conn: Conn, limit: int) -> tuple[int, list[AppSummary]]:
    """How many applications there are, and the newest ``limit`` of them."""
    app = t.application
    visible = app.c.internal.is_(False)
    count = int((await conn.execute(select(func.count()).where(visible))).scalar_one())
    rows = await conn.execute(
        select(app.c.id, app.c.uid, app.c.name).where(visible).order_by(app.c.id.desc()).limit(limit)
    )
    return count, [AppSummary(r.id, r.uid, r.name) for r in rows.all()]


async def failing_lately(conn: Conn, since_ms: int, limit: int) -> list[TroubledEndpoint]:
    """Endpoints every attempt of which failed since ``since_ms``, the most failures first.

    ``failing_since`` is only set once a delivery exhausts its retries, hours after the first
    failure; until then an endpoint answering 500 to everything showed as healthy. The id range
    keeps the scan to the window's attempts, as the chart's does.
    """
    ep = t.endpoint
    failed = func.count().label("failed")
    recent = (
        select(a.c.endpoint_id, failed)
        .where(a.c.id >= id_floor("atmpt", since_ms))
        .group_by(a.c.endpoint_id)
        .having(func.sum(case((a.c.status == 0, 1), else_=0)) == 0)
        .order_by(failed.desc(), a.c.endpoint_id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(ep.c.id, ep.c.app_id, ep.c.url, ep.c.disabled, ep.c.failing_since, recent.c.failed)
        .join_from(recent, ep, ep.c.id == recent.c.endpoint_id)
        .order_by(recent.c.failed.desc(), ep.c.id)
    )
    rows = (await conn.execute(query)).all()
    return [TroubledEndpoint(r.id, r.app_id, r.url, bool(r.disabled), r.failing_since, int(r.failed)) for r in rows]


async def troubled_endpoints(conn: Conn, limit: int) -> list[TroubledEndpoint]:
    """Endpoints that are disabled or currently failing, the longest-failing first."""
    ep = t.endpoint
    query = (
        select(ep.c.id, ep.c.app_id, ep.c.url, ep.c.disabled, ep.c.failing_since)
        .where(ep.c.disabled.is_(True) | ep.c.failing_since.is_not(None))
        .order_by(ep.c.failing_since.is_(None), ep.c.failing_since, ep.c.id)
        .limit(limit)
    )
    rows = (await conn.execute(query)).all()
    return [TroubledEndpoint(r.id, r.app_id, r.url, bool(r.disabled), r.failing_since) for r in rows]
