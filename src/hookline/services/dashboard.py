"""The operator dashboard's overview: what is waiting, what was delivered, what needs attention."""

from dataclasses import dataclass, replace

from hookline.store import backlog as store_backlog
from hookline.store import dashboard
from hookline.store.dashboard import AppSummary, Series, TroubledEndpoint
from hookline.store.database import Database, now_ms

# How far back an endpoint whose every attempt failed counts as failing, before any delivery to
# it has exhausted its retries (which sets failing_since, hours later).
RECENT_MS = 15 * 60_000


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
        lately = await dashboard.failing_lately(conn, now_ms() - RECENT_MS, list_limit)
    troubled = _merged(troubled, lately, list_limit)
    now = now_ms()
    late = None if found.oldest_due_ms is None or found.oldest_due_ms > now else now - found.oldest_due_ms
    return Overview(Backlog(found.unfinished, late), series, p95, app_count, apps, troubled)


def _merged(troubled: list[TroubledEndpoint], lately: list[TroubledEndpoint], limit: int) -> list[TroubledEndpoint]:
    """The disabled and failing endpoints, each with its recent failures, then the ones only
    failing lately."""
    counts = {e.id: e.recent_failures for e in lately}
    known = {e.id for e in troubled}
    both = [replace(e, recent_failures=counts.get(e.id, 0)) for e in troubled]
    return (both + [e for e in lately if e.id not in known])[:limit]


__all__ = ["AppSummary", "Backlog", "Overview", "Series", "TroubledEndpoint", "overview"]
