"""Endpoint statistics, and the backlog that health and metrics report."""

from hookline.services import endpoints
from hookline.services.context import Context
from hookline.store import stats
from hookline.store.backlog import Backlog, backlog
from hookline.store.stats import Bucket

__all__ = ["Backlog", "Bucket", "attempt_series", "status_counts", "waiting"]


async def status_counts(
    ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None, since_ms: int | None, until_ms: int | None
) -> dict[str, int]:
    """Deliveries to the endpoint created in the window, by status."""
    endpoint = await endpoints.get(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await stats.status_counts(conn, endpoint.id, since_ms, until_ms)


async def attempt_series(
    ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None, since_ms: int, until_ms: int, bucket_ms: int
) -> list[Bucket]:
    endpoint = await endpoints.get(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.read() as conn:
        return await stats.attempt_series(conn, endpoint.id, since_ms, until_ms, bucket_ms)


async def waiting(ctx: Context) -> Backlog:
    """How much delivery work is waiting (unfinished deliveries, the oldest due time)."""
    async with ctx.db.read() as conn:
        return await backlog(conn)
