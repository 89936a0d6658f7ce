"""Endpoint statistics: status counts (Svix's shape) and a time series for dashboards."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hookline.api.deps import AppId, Auth, Ctx, EndpointId, When, to_ms
from hookline.api.schemas import Model, ms_to_datetime
from hookline.services import stats
from hookline.services.context import now_ms

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint/{endpoint_id}", tags=["Endpoint"])
_BUCKETS = {"minute": 60_000, "hour": 3_600_000}
_DEFAULT_BUCKETS = {"minute": 60, "hour": 24}


class EndpointStats(Model):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int = 0


class SeriesBucket(Model):
    start: datetime
    success: int
    fail: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class EndpointSeries(Model):
    granularity: Literal["minute", "hour"]
    buckets: list[SeriesBucket]


@router.get("/stats", response_model=EndpointStats, operation_id="v1.endpoint.get-stats")
async def endpoint_stats(
    app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx, since: When = None, until: When = None
) -> EndpointStats:
    """Deliveries to the endpoint created in the window, by status."""
    counts = await stats.status_counts(
        ctx, app_id, endpoint_id, tenant=who.app_id, since_ms=to_ms(since), until_ms=to_ms(until)
    )
    return EndpointStats(**counts)


@router.get("/stats/timeseries", response_model=EndpointSeries, operation_id="v1.endpoint.get-stats-timeseries")
async def endpoint_series(
    app_id: AppId,
    endpoint_id: EndpointId,
    who: Auth,
    ctx: Ctx,
    granularity: Annotated[Literal["minute", "hour"], Query()] = "minute",
    since: When = None,
    until: When = None,
) -> EndpointSeries:
    """Attempts per minute or hour: successes, failures and latency percentiles (default: the last
    hour by minute, the last day by hour)."""
    bucket = _BUCKETS[granularity]
    end = to_ms(until) or now_ms()
    start = to_ms(since) or end - _DEFAULT_BUCKETS[granularity] * bucket
    rows = await stats.attempt_series(
        ctx, app_id, endpoint_id, tenant=who.app_id, since_ms=start, until_ms=end, bucket_ms=bucket
    )
    return EndpointSeries(
        granularity=granularity,
        buckets=[
            SeriesBucket(
                start=ms_to_datetime(b.start_ms),
                success=b.success,
                fail=b.fail,
                p50_ms=b.p50_ms,
                p95_ms=b.p95_ms,
                p99_ms=b.p99_ms,
            )
            for b in rows
        ],
    )
