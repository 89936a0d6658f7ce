"""The whole outbound flow driven by the unmodified ``svix`` SDK."""

import json
import time

import standardwebhooks
from svix import Svix, SvixOptions
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EndpointSecretRotateIn,
    EventTypeIn,
    MessageAttemptListByEndpointOptions,
    MessageIn,
)
from svix.webhooks import Webhook as SvixWebhook
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until


def _verify_both(secret: str, headers: dict[str, str], body: bytes) -> None:
    standardwebhooks.Webhook(secret).verify(body, headers)
    SvixWebhook(secret).verify(body, headers)


def test_svix_sdk_drives_the_whole_flow(hookline, receiver: Receiver) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    assert app.id.startswith("app_")
    svix.event_type.create(EventTypeIn(name="invoice.paid", description="An invoice was paid"))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=receiver.url(), event_types=["invoice.paid"]))
    secret = svix.endpoint.get_secret(app.id, endpoint.id).key
    assert secret.startswith("whsec_")

    msg = svix.message.create("acme", MessageIn(event_type="invoice.paid", payload={"amount": 42}))
    assert msg.id.startswith("msg_")
    svix.message.create("acme", MessageIn(event_type="other.event", payload={"ignored": True}))

    first = receiver.wait_for(1)[0]
    assert first.headers["webhook-id"] == msg.id
    assert json.loads(first.body) == {"amount": 42}
    _verify_both(secret, first.headers, first.body)

    # Only the subscribed event type was delivered.
    time.sleep(0.3)
    assert len(receiver.requests) == 1

    messages = svix.message.list(app.id)
    assert [m.event_type for m in messages.data] == ["other.event", "invoice.paid"]
    attempts = wait_until(
        lambda: svix.message_attempt.list_by_endpoint(app.id, endpoint.id, MessageAttemptListByEndpointOptions()).data
    )
    assert attempts[0].response_status_code == 200
    assert attempts[0].msg_id == msg.id

    # Rotate: during the grace period both the old and the new secret verify.
    svix.endpoint.rotate_secret(app.id, endpoint.id, EndpointSecretRotateIn())
    new_secret = svix.endpoint.get_secret(app.id, endpoint.id).key
    assert new_secret != secret
    svix.message_attempt.resend(app.id, msg.id, endpoint.id)
    resent = receiver.wait_for(2)[1]
    assert resent.headers["webhook-id"] == msg.id
    assert len(resent.headers["webhook-signature"].split(" ")) == 2
    _verify_both(secret, resent.headers, resent.body)
    _verify_both(new_secret, resent.headers, resent.body)

    manual = wait_until(
        lambda: [
            a
            for a in svix.message_attempt.list_by_endpoint(
                app.id, endpoint.id, MessageAttemptListByEndpointOptions()
            ).data
            if a.trigger_type == 1
        ]
    )
    assert manual[0].status == 0
