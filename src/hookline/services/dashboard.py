"""The operator dashboard's overview: what is waiting, what was delivered, what needs attention."""

from dataclasses import dataclass

from hookline.store import backlog as store_backlog
from hookline.store import dashboard
from hookline.store.dashboard import AppSummary, Series, TroubledEndpoint
from hookline.store.database import Database, now_ms


@dataclass(frozen=True)
class Backlog:
    unfinished: int
    oldest_due_age_ms: int | None  # how late the most overdue delivery is; None when nothing is due


@dataclass(frozen=True)
class Overview:
    backlog: Backlog
    series: Series
    p95_ms: int | None
    app_count: int
    apps: list[AppSummary]
    troubled: list[TroubledEndpoint]


async def overview(db: Database, since_ms: int, until_ms: int, bucket_ms: int, list_limit: int) -> Overview:
    async with db.read() as conn:
        found = await store_backlog.backlog(conn)
        series = await dashboard.delivery_series(conn, since_ms, until_ms, bucket_ms)
        p95 = await dashboard.p95_latency_ms(conn, since_ms, until_ms)
        app_count, apps = await dashboard.applications(conn, list_limit)
        troubled = await dashboard.troubled_endpoints(conn, list_limit)
    now = now_ms()
    late = None if found.oldest_due_ms is None or found.oldest_due_ms > now else now - found.oldest_due_ms
    return Overview(Backlog(found.unfinished, late), series, p95, app_count, apps, troubled)


__all__ = ["AppSummary", "Backlog", "Overview", "Series", "TroubledEndpoint", "overview"]
