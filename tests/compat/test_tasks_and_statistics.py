"""svix ``background_task.list``, ``statistics.*`` and the HEAD health checks against a real server."""

from datetime import UTC, datetime, timedelta

import pytest
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    AppPortalAccessIn,
    AppUsageStatsIn,
    BackgroundTaskListOptions,
    EndpointIn,
    MessageIn,
    RecoverIn,
)
from svix.exceptions import HttpError
from svix.models import BackgroundTaskStatus, BackgroundTaskType, Ordering
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until


def _setup(svix: Svix, receiver: Receiver) -> tuple[str, str]:
    a = svix.application.create(ApplicationIn(name="A", uid="app-a")).id
    b = svix.application.create(ApplicationIn(name="B")).id
    svix.endpoint.create(a, EndpointIn(url=receiver.url(), event_types=["user.signup", "user.deleted"]))
    svix.endpoint.create(b, EndpointIn(url=receiver.url()))
    for _ in range(2):
        svix.message.create(a, MessageIn(event_type="user.signup", payload={}))
    svix.message.create(a, MessageIn(event_type="not.subscribed", payload={}))
    svix.message.create(b, MessageIn(event_type="anything", payload={}))
    return a, b


def test_statistics_are_finished_tasks_with_real_numbers(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    a, b = _setup(svix, receiver)
    now = datetime.now(UTC)
    window = AppUsageStatsIn(since=now - timedelta(hours=1), until=now + timedelta(hours=1))

    started = svix.statistics.aggregate_app_stats(window)
    assert started.task == BackgroundTaskType.APPLICATION_STATS
    assert started.status == BackgroundTaskStatus.FINISHED
    assert started.unresolved_app_ids == []
    listed = svix.background_task.list(BackgroundTaskListOptions(task=BackgroundTaskType.APPLICATION_STATS))
    assert [t.id for t in listed.data] == [started.id]
    stats = {s["appId"]: s for s in listed.data[0].data["appStats"]}
    assert stats[a] == {"appId": a, "appUid": "app-a", "messageDestinations": 2}
    assert stats[b]["messageDestinations"] == 1
    assert svix.background_task.get(started.id).data == listed.data[0].data

    # The window is honoured, and so are appIds (ids or uids; unknown ones are reported).
    later = AppUsageStatsIn(since=now + timedelta(hours=1), until=now + timedelta(hours=2), app_ids=["app-a", "nope"])
    narrowed = svix.statistics.aggregate_app_stats(later)
    assert narrowed.unresolved_app_ids == ["nope"]
    newest = svix.background_task.list(BackgroundTaskListOptions(limit=1)).data[0]
    assert newest.id == narrowed.id
    assert newest.data["appStats"] == [{"appId": a, "appUid": "app-a", "messageDestinations": 0}]
    with pytest.raises(HttpError) as err:
        svix.statistics.aggregate_app_stats(AppUsageStatsIn(since=now, until=now + timedelta(1), app_ids=["nope"]))
    assert err.value.status_code == 404
    assert "appIds" in str(err.value.to_dict())

    aggregated = svix.statistics.aggregate_event_types()
    assert aggregated.task == BackgroundTaskType.EVENT_TYPE_AGGREGATE
    task = svix.background_task.list(BackgroundTaskListOptions(task=BackgroundTaskType.EVENT_TYPE_AGGREGATE)).data[0]
    by_app = {e["appId"]: e for e in task.data["event_types"]}
    assert by_app[a]["explicitlySubscribedEventTypes"] == ["user.deleted", "user.signup"]
    assert by_app[a]["hasCatchAllEndpoint"] is False
    assert by_app[b] == {"appId": b, "explicitlySubscribedEventTypes": [], "hasCatchAllEndpoint": True}
    assert svix.background_task.get(aggregated.id).data["event_types"] == task.data["event_types"]


def test_background_task_list_filters_pages_and_scopes(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    a, b = _setup(svix, receiver)
    endpoint = svix.endpoint.list(a).data[0].id
    recover = svix.endpoint.recover(a, endpoint, RecoverIn(since=datetime.now(UTC) - timedelta(hours=1)))
    wait_until(lambda: svix.background_task.get(recover.id).status != BackgroundTaskStatus.RUNNING)
    svix.statistics.aggregate_event_types()
    svix.statistics.aggregate_event_types()

    everything = svix.background_task.list()
    assert len(everything.data) == 3
    assert [t.task for t in everything.data][-1] == BackgroundTaskType.ENDPOINT_RECOVER  # newest first
    oldest_first = svix.background_task.list(BackgroundTaskListOptions(order=Ordering.ASCENDING))
    assert [t.id for t in oldest_first.data] == [t.id for t in reversed(everything.data)]
    first = svix.background_task.list(BackgroundTaskListOptions(limit=2))
    assert not first.done
    rest = svix.background_task.list(BackgroundTaskListOptions(limit=2, iterator=first.iterator))
    assert [t.id for t in first.data + rest.data] == [t.id for t in everything.data]
    assert rest.done
    failed = svix.background_task.list(BackgroundTaskListOptions(status=BackgroundTaskStatus.FAILED))
    assert failed.data == []
    recovers = svix.background_task.list(BackgroundTaskListOptions(task=BackgroundTaskType.ENDPOINT_RECOVER))
    assert [t.id for t in recovers.data] == [recover.id]
    with hookline.client() as c:
        r = c.get("/api/v1/background-task", params={"task": "sdk.generate"})
    assert r.status_code == 422 and "task" in r.text

    # Listing is for admin tokens; an application's token reads its own application's tasks by id.
    token_a = svix.authentication.app_portal_access(a, AppPortalAccessIn()).token
    token_b = svix.authentication.app_portal_access(b, AppPortalAccessIn()).token
    as_a = Svix(token_a, SvixOptions(server_url=hookline.url))
    with pytest.raises(HttpError) as err:
        as_a.background_task.list()
    assert err.value.status_code == 403
    with pytest.raises(HttpError) as err:
        Svix(token_b, SvixOptions(server_url=hookline.url)).background_task.get(recover.id)
    assert err.value.status_code == 404
    with pytest.raises(HttpError) as err:
        as_a.statistics.aggregate_event_types()
    assert err.value.status_code == 403
    with pytest.raises(HttpError) as err:
        as_a.background_task.get(everything.data[0].id)  # a statistics task: the admin's
    assert err.value.status_code == 404
    assert as_a.background_task.get(recover.id).task == BackgroundTaskType.ENDPOINT_RECOVER


def test_head_health_checks(hookline) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    svix.health.get()
    with hookline.client() as c:
        assert c.head("/api/v1/health").status_code == 204
        ping = c.head("/api/v1/health/ping")
    assert ping.status_code == 204
    assert ping.content == b""
