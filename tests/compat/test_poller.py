"""svix ``message.poller.*`` against a real server: pull an endpoint's messages, durable cursors."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    AppPortalAccessIn,
    EndpointIn,
    MessageIn,
    MessagePollerConsumerPollOptions,
    MessagePollerPollOptions,
    PollingEndpointConsumerSeekIn,
)
from svix.exceptions import HttpError, HTTPValidationError
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until


def _sdk(url: str, token: str = ADMIN_TOKEN) -> Svix:
    return Svix(token, SvixOptions(server_url=url))


def _publish(svix: Svix) -> tuple[str, str, list[str]]:
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme")).id
    # A polling sink: an endpoint that nothing is pushed to (disabled), with filters.
    sink = svix.endpoint.create(
        app, EndpointIn(url="http://127.0.0.1:9/never", uid="poll", disabled=True, event_types=["order.paid"])
    ).id
    ids = [
        svix.message.create(app, MessageIn(event_type="order.paid", payload={"n": 1})).id,
        svix.message.create(app, MessageIn(event_type="order.refunded", payload={"n": 2})).id,
        svix.message.create(app, MessageIn(event_type="order.paid", payload={"n": 3}, channels=["eu"])).id,
    ]
    return app, sink, ids


def test_poll_uses_the_endpoint_filters_and_the_query_filters(hookline, receiver: Receiver) -> None:
    svix = _sdk(hookline.url)
    app, sink, (m1, _m2, m3) = _publish(svix)
    polled = lambda: svix.message.poller.poll(app, "poll").data  # noqa: E731
    everything = wait_until(lambda: len(polled()) == 2 and polled(), what="settled messages")
    assert [m.id for m in everything] == [m1, m3]
    assert everything[0].payload == {"n": 1} and everything[1].channels == ["eu"]

    first = svix.message.poller.poll(app, sink, MessagePollerPollOptions(limit=1))
    assert [m.id for m in first.data] == [m1] and not first.done
    rest = svix.message.poller.poll(app, sink, MessagePollerPollOptions(iterator=first.iterator))
    assert [m.id for m in rest.data] == [m3] and rest.done
    assert svix.message.poller.poll(app, sink, MessagePollerPollOptions(iterator=rest.iterator)).data == []

    assert [m.id for m in svix.message.poller.poll(app, sink, MessagePollerPollOptions(channel="eu")).data] == [m3]
    typed = svix.message.poller.poll(app, sink, MessagePollerPollOptions(event_type="order.refunded"))
    assert typed.data == []  # the endpoint does not take order.refunded: the query only narrows
    future = datetime.now(UTC) + timedelta(hours=1)
    assert svix.message.poller.poll(app, sink, MessagePollerPollOptions(after=future)).data == []
    from_m3 = svix.message.poller.poll(app, sink, MessagePollerPollOptions(after=everything[1].timestamp))
    assert [m.id for m in from_m3.data] == [m3]

    with pytest.raises(HTTPValidationError) as invalid:
        svix.message.poller.poll(app, sink, MessagePollerPollOptions(iterator="bogus"))
    assert invalid.value.detail[0].loc == ["query", "iterator"]
    with pytest.raises(HTTPValidationError) as invalid:
        svix.message.poller.poll(app, sink, MessagePollerPollOptions(iterator=m1, after=future))
    assert invalid.value.detail[0].loc == ["query", "after"]

    # The application's own token may poll; another application's may not see it.
    own = svix.authentication.app_portal_access(app, AppPortalAccessIn()).token
    assert [m.id for m in _sdk(hookline.url, own).message.poller.poll(app, sink).data] == [m1, m3]
    other_app = svix.application.create(ApplicationIn(name="Other")).id
    other = svix.authentication.app_portal_access(other_app, AppPortalAccessIn()).token
    with pytest.raises(HttpError) as err:
        _sdk(hookline.url, other).message.poller.poll(app, sink)
    assert err.value.status_code == 404
    assert receiver.requests == []


def test_consumer_cursor_survives_a_restart_and_seeks(hookline_factory) -> None:
    with hookline_factory() as hl:
        svix = _sdk(hl.url)
        app, sink, (m1, _m2, m3) = _publish(svix)
        time.sleep(1.1)  # past the settle delay (services/poller.py SETTLE_MS): all three are visible
        one = MessagePollerConsumerPollOptions(limit=1)
        assert [m.id for m in svix.message.poller.consumer_poll(app, sink, "worker-1", one).data] == [m1]
        assert [m.id for m in svix.message.poller.consumer_poll(app, sink, "worker-2", one).data] == [m1]

    with hookline_factory() as hl:
        svix = _sdk(hl.url)
        resumed = svix.message.poller.consumer_poll(app, sink, "worker-1")
        assert [m.id for m in resumed.data] == [m3]
        assert resumed.done
        assert svix.message.poller.consumer_poll(app, sink, "worker-1").data == []

        # Seek back to the start: the consumer reads everything again.
        sought = svix.message.poller.consumer_seek(
            app, sink, "worker-1", PollingEndpointConsumerSeekIn(after=datetime.now(UTC) - timedelta(hours=1))
        )
        assert sought.iterator
        assert [m.id for m in svix.message.poller.consumer_poll(app, sink, "worker-1").data] == [m1, m3]
        # worker-2 kept its own place; an explicit iterator overrides the stored one.
        assert [m.id for m in svix.message.poller.consumer_poll(app, sink, "worker-2").data] == [m3]
        again = MessagePollerConsumerPollOptions(iterator=m1)
        assert [m.id for m in svix.message.poller.consumer_poll(app, sink, "worker-2", again).data] == [m3]
        with pytest.raises(HttpError) as err:
            svix.message.poller.consumer_poll(app, "no-such-endpoint", "worker-1")
        assert err.value.status_code == 404
