"""Usage statistics, computed at once and kept as finished background tasks, as Svix shapes them."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hookline.domain.model import BackgroundTask
from hookline.store import task_results, tasks, usage
from hookline.store.database import Conn, Database


class NoAppResolvedError(Exception):
    """None of the requested application ids or uids exists."""


@dataclass(frozen=True)
class StatsTask:
    task: BackgroundTask
    unresolved: list[str]


def _unresolved(requested: Sequence[str] | None, found: Sequence[usage.AppRef]) -> list[str]:
    if requested is None:
        return []
    known = {row.id for row in found} | {row.uid for row in found if row.uid}
    return [value for value in requested if value not in known]


async def app_stats(db: Database, since: int, until: int, app_ids: Sequence[str] | None) -> StatsTask:
    """Message destinations per application in ``[since, until)``, as an ``application.stats`` task."""
    async with db.write() as conn:
        apps = await usage.tenant_apps(conn, app_ids)
        if app_ids is not None and not apps:
            raise NoAppResolvedError
        counts = await usage.destinations(conn, [a.id for a in apps], since, until)
        stats = [{"appId": a.id, "appUid": a.uid, "messageDestinations": counts.get(a.id, 0)} for a in apps]
        task = await _finished(conn, "application.stats", {"appStats": stats})
    return StatsTask(task=task, unresolved=_unresolved(app_ids, apps))


async def event_types(db: Database) -> BackgroundTask:
    """Per application: the event types its endpoints name, and whether one takes every type."""
    async with db.write() as conn:
        apps = await usage.tenant_apps(conn, None)
        per_app: dict[str, tuple[set[str], bool]] = {a.id: (set(), False) for a in apps}
        for row in await usage.subscriptions(conn, list(per_app)):
            named, catch_all = per_app[row.app_id]
            per_app[row.app_id] = (named | set(row.event_types or ()), catch_all or not row.event_types)
        data = [
            {"appId": app_id, "explicitlySubscribedEventTypes": sorted(named), "hasCatchAllEndpoint": catch_all}
            for app_id, (named, catch_all) in per_app.items()
        ]
        return await _finished(conn, "event-type.aggregate", {"event_types": data})


async def _finished(conn: Conn, kind: str, data: dict[str, Any]) -> BackgroundTask:
    row = await tasks.create(conn, task_results.ENVIRONMENT, kind, 1, {}, finished=True)
    await task_results.save(conn, row.id, data)
    return row
