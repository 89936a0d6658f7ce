"""Delivery statistics for an endpoint: status counts and a time series of attempts."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from hookline.domain.ids import id_floor
from hookline.domain.model import DeliveryStatus
from hookline.store import tables as t
from hookline.store.database import Conn

d, a = t.delivery, t.attempt
STATUS_NAMES = {
    DeliveryStatus.SUCCESS: "success",
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.FAIL: "fail",
    DeliveryStatus.SENDING: "sending",
}


async def status_counts(conn: Conn, endpoint_id: str, since: int | None, until: int | None) -> dict[str, int]:
    """Deliveries to the endpoint created in the window, by current status."""
    query = select(d.c.status, func.count()).where(d.c.endpoint_id == endpoint_id).group_by(d.c.status)
    if since is not None:
        query = query.where(d.c.created_at >= since)
    if until is not None:
        query = query.where(d.c.created_at < until)
    counts = {name: 0 for name in STATUS_NAMES.values()}
    for status, count in (await conn.execute(query)).all():
        counts[STATUS_NAMES[DeliveryStatus(status)]] = int(count)
    return counts


@dataclass(frozen=True)
class Bucket:
    start_ms: int
    success: int
    fail: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def _percentile(values: list[int], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))])


async def attempt_series(conn: Conn, endpoint_id: str, since: int, until: int, bucket_ms: int) -> list[Bucket]:
    """Attempts per bucket (minute or hour): successes, failures and latency percentiles."""
    query = select(a.c.created_at, a.c.status, a.c.response_duration_ms).where(
        a.c.endpoint_id == endpoint_id, a.c.id >= id_floor("atmpt", since), a.c.id < id_floor("atmpt", until)
    )
    grouped: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for created_at, status, duration in (await conn.execute(query)).all():
        grouped[int(created_at) // bucket_ms * bucket_ms].append((int(status), int(duration)))
    buckets = []
    for start in sorted(grouped):
        rows = grouped[start]
        durations = [duration for _, duration in rows]
        buckets.append(
            Bucket(
                start_ms=start,
                success=sum(1 for status, _ in rows if status == DeliveryStatus.SUCCESS),
                fail=sum(1 for status, _ in rows if status != DeliveryStatus.SUCCESS),
                p50_ms=_percentile(durations, 50),
                p95_ms=_percentile(durations, 95),
                p99_ms=_percentile(durations, 99),
            )
        )
    return buckets
