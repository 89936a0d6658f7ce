"""The svix SDK methods of issue 15's resources that no other test calls, against a real server:
each answers with the documented shape."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    ApplicationPatch,
    BackgroundTaskListOptions,
    EndpointIn,
    EndpointPatch,
    EventTypeIn,
    EventTypePatch,
    EventTypeUpsertIn,
    MessageIn,
    RecoverIn,
    ReplayIn,
)
from svix.api.event_type import EventTypeDeleteOptions, EventTypeListOptions
from svix.exceptions import HttpError
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, wait_until

WAIT = 60.0


def test_remaining_sdk_methods(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    assert svix.health.get() is None

    # application
    app = svix.application.get_or_create(ApplicationIn(name="Acme", uid="acme"))
    assert svix.application.get_or_create(ApplicationIn(name="Other name", uid="acme")).id == app.id
    assert svix.application.patch(app.id, ApplicationPatch(name="Acme Inc")).name == "Acme Inc"
    made = svix.application.upsert("temp", ApplicationIn(name="Temp"))
    assert made.uid == "temp" and svix.application.upsert("temp", ApplicationIn(name="Temp 2")).id == made.id
    svix.application.delete("temp")
    with pytest.raises(HttpError) as err:
        svix.application.get("temp")
    assert err.value.status_code == 404

    # event_type
    svix.event_type.create(EventTypeIn(name="a.b", description="first"))
    upserted = svix.event_type.upsert("c.d", EventTypeUpsertIn(description="made by PUT"))
    assert upserted.name == "c.d"
    assert svix.event_type.patch("c.d", EventTypePatch(description="patched")).description == "patched"
    assert {e.name for e in svix.event_type.list(EventTypeListOptions()).data} == {"a.b", "c.d"}
    svix.event_type.delete("c.d")
    assert svix.event_type.get("c.d").archived
    svix.event_type.delete("c.d", EventTypeDeleteOptions(expunge=True))
    with pytest.raises(HttpError):
        svix.event_type.get("c.d")

    # endpoint
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url(), uid="main"))
    assert svix.endpoint.get(app.id, "main").id == ep.id
    assert svix.endpoint.patch(app.id, ep.id, EndpointPatch(description="patched")).description == "patched"
    receiver.respond = lambda _r: Reply(status=500)
    msg = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 1}))

    def failed() -> Any:
        return [a for a in svix.message_attempt.list_by_msg(app.id, msg.id).data if a.status == 2]

    attempt = wait_until(failed, WAIT)[0]
    assert svix.message_attempt.get(app.id, msg.id, attempt.id).id == attempt.id
    stats = svix.endpoint.get_stats(app.id, ep.id)
    assert stats.success == 0
    since = datetime.now(UTC) - timedelta(hours=1)
    wait_until(lambda: svix.message_attempt.list_attempted_messages(app.id, ep.id).data[0].status == 2, WAIT)
    receiver.respond = lambda _r: Reply()
    recovered = svix.endpoint.recover(app.id, ep.id, RecoverIn(since=since))
    wait_until(lambda: svix.background_task.get(recovered.id).status == "finished", WAIT)
    wait_until(lambda: svix.message_attempt.list_attempted_messages(app.id, ep.id).data[0].status == 0, WAIT)
    replay = svix.endpoint.replay_missing(app.id, ep.id, ReplayIn(since=since))
    wait_until(lambda: svix.background_task.get(replay.id).status == "finished", WAIT)
    destinations = svix.message_attempt.list_attempted_destinations(app.id, msg.id).data
    assert [d.id for d in destinations] == [ep.id]
    kinds = {t.task for t in svix.background_task.list(BackgroundTaskListOptions()).data}
    assert {"endpoint.recover", "endpoint.replay"} <= {str(k) for k in kinds}

    # expunging: one attempt's response, one message's payload, then all of them
    svix.message_attempt.expunge_content(app.id, msg.id, attempt.id)
    assert svix.message_attempt.get(app.id, msg.id, attempt.id).response == ""
    svix.message.expunge_content(app.id, msg.id)
    assert svix.message.get(app.id, msg.id).payload == {}
    other = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 2}))
    purge = svix.message.expunge_all_contents(app.id)
    assert str(purge.status) == "finished" and str(purge.task) == "application.purge_content"
    assert svix.message.get(app.id, other.id).payload == {}
    assert svix.background_task.get(purge.id).data["messagesPurged"] == 1

    svix.endpoint.delete(app.id, ep.id)
    with pytest.raises(HttpError) as err:
        svix.endpoint.get(app.id, ep.id)
    assert err.value.status_code == 404
