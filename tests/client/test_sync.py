"""``hookline.Client`` against a real server, on SQLite and PostgreSQL."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until

from hookline import Client, HooklineError
from hookline.client import Application, Attempt, EndpointMessage, Message, MessageEndpoint, Page


@pytest.fixture
def client(hookline) -> Client:
    with Client(hookline.url, ADMIN_TOKEN, timeout=10) as c:
        yield c


def test_applications_create_get_list_delete(client: Client) -> None:
    app = client.applications.create("Acme", uid="acme", metadata={"tier": "gold"})
    assert isinstance(app, Application)
    assert app.id.startswith("app_") and app.uid == "acme" and app.metadata == {"tier": "gold"}
    assert app.created_at.tzinfo is not None
    assert client.applications.get("acme") == app
    again = client.applications.create("Other name", uid="acme", get_if_exists=True)
    assert again.id == app.id
    page = client.applications.list()
    assert isinstance(page, Page) and [a.id for a in page.data] == [app.id] and page.done
    client.applications.delete(app.id)
    with pytest.raises(HooklineError) as caught:
        client.applications.get("acme")
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_iterate_follows_every_page(client: Client) -> None:
    created = [client.applications.create(f"app {i}").id for i in range(7)]
    first = client.applications.list(limit=3)
    assert len(first.data) == 3 and not first.done
    assert [a.id for a in client.iterate(client.applications.list, limit=3)] == created
    newest_first = [a.id for a in client.iterate(client.applications.list, limit=2, order="descending")]
    assert newest_first == created[::-1]


def test_publish_deliver_and_inspect(client: Client, receiver: Receiver) -> None:
    client.applications.create("Acme", uid="acme")
    client.event_types.create("invoice.paid", "An invoice was paid")
    assert [t.name for t in client.event_types.list().data] == ["invoice.paid"]
    endpoint = client.endpoints.create("acme", receiver.url(), event_types=["invoice.paid"], uid="main")
    assert endpoint.event_types == ["invoice.paid"] and client.endpoints.get("acme", "main") == endpoint

    message = client.messages.create("acme", "invoice.paid", {"amount": 42}, event_id="inv-1")
    assert isinstance(message, Message) and message.payload == {"amount": 42} and message.event_id == "inv-1"
    received = receiver.wait_for(1)[0]
    assert received.headers["webhook-id"] == message.id and json.loads(received.body) == {"amount": 42}

    attempts = wait_until(lambda: client.attempts.list_by_endpoint("acme", "main").data)
    first = attempts[0]
    assert isinstance(first, Attempt)
    assert (first.msg_id, first.response_status_code, first.status_text) == (message.id, 200, "success")
    assert client.attempts.list_by_msg("acme", message.id, endpoint_id=endpoint.id).data[0].id == attempts[0].id
    assert client.attempts.list_by_msg("acme", message.id, status=2).data == []

    [sent] = client.messages.list_by_endpoint("acme", endpoint.id).data
    assert isinstance(sent, EndpointMessage) and sent.status_text == "success"
    [destination] = client.messages.destinations("acme", message.id).data
    assert isinstance(destination, MessageEndpoint) and destination.id == endpoint.id
    assert destination.status == 0 and destination.next_attempt is None
    assert client.messages.get("acme", "inv-1").id == message.id
    assert [m.id for m in client.messages.list("acme", event_types=["invoice.paid"]).data] == [message.id]
    assert client.messages.list("acme", after=datetime.now(UTC) + timedelta(minutes=1)).data == []

    client.attempts.resend("acme", message.id, endpoint.id)
    assert receiver.wait_for(2)[1].headers["webhook-id"] == message.id
    manual = wait_until(
        lambda: [a for a in client.attempts.list_by_endpoint("acme", "main").data if a.trigger_type == 1]
    )
    assert manual[0].status_text == "success"


def test_endpoint_secrets(client: Client, receiver: Receiver) -> None:
    client.applications.create("Acme", uid="acme")
    endpoint = client.endpoints.create("acme", receiver.url())
    secret = client.endpoints.get_secret("acme", endpoint.id).key
    assert secret.startswith("whsec_")
    rotated = client.endpoints.rotate_secret("acme", endpoint.id, grace_period_seconds=0)
    assert rotated.key != secret and client.endpoints.get_secret("acme", endpoint.id) == rotated
    chosen = "whsec_" + "A" * 32
    assert client.endpoints.rotate_secret("acme", endpoint.id, key=chosen).key == chosen
    client.endpoints.delete("acme", endpoint.id)
    assert client.endpoints.list("acme").data == []


def test_rotate_secret_to_an_ed25519_key_signs_with_it(client: Client, receiver: Receiver) -> None:
    """rotate_secret had no key_type: an endpoint could not move to an Ed25519 key."""
    client.applications.create("Acme", uid="acme")
    endpoint = client.endpoints.create("acme", receiver.url())
    rotated = client.endpoints.rotate_secret("acme", endpoint.id, key_type="ed25519", grace_period_seconds=0)
    assert rotated.key.startswith("whsk_") and client.endpoints.get_secret("acme", endpoint.id) == rotated
    client.messages.create("acme", "a.b", {"n": 1})
    assert receiver.wait_for(1)[0].headers["webhook-signature"].startswith("v1a,")
    assert client.endpoints.rotate_secret("acme", endpoint.id, key_type="hmac").key.startswith("whsec_")
    with pytest.raises(HooklineError) as caught:
        client.endpoints.rotate_secret("acme", endpoint.id, key="whsec_" + "A" * 32, key_type="ed25519")
    assert caught.value.status == 422 and str(caught.value).startswith("422 validation: keyType:")
    created = client.endpoints.create("acme", receiver.url("/2"), key_type="ed25519")
    assert client.endpoints.get_secret("acme", created.id).key.startswith("whsk_")


def test_patch_with_none_clears_a_field(client: Client) -> None:
    """patch dropped None, so nothing could remove a throttle rate, a uid, the event types,
    channels or filter of an endpoint, or empty its description."""
    app = client.applications.create("Acme", uid="acme", metadata={"tier": "gold"}, throttle_rate=5)
    cleared_app = client.applications.patch(app.id, uid=None, throttle_rate=None, metadata=None)
    assert (cleared_app.uid, cleared_app.throttle_rate, cleared_app.metadata) == (None, None, {})
    assert cleared_app.name == "Acme"  # left out: unchanged
    endpoint = client.endpoints.create(
        app.id, "https://example.com/hook", uid="main", description="billing", event_types=["a.b"],
        channels=["eu"], throttle_rate=7, metadata={"team": "x"}, filter={"payload": {"n": 1}}, fifo=True,
    )  # fmt: skip
    assert endpoint.filter == {"payload": {"n": 1}} and endpoint.fifo is True
    kept = client.endpoints.patch(app.id, "main", fifo_on_exhausted="block")
    assert (kept.event_types, kept.throttle_rate, kept.fifo_on_exhausted) == (["a.b"], 7, "block")
    cleared = client.endpoints.patch(
        app.id, "main", description=None, event_types=None, channels=None, throttle_rate=None,
        metadata=None, filter=None, uid=None, fifo=False,
    )  # fmt: skip
    assert (cleared.description, cleared.event_types, cleared.channels) == ("", None, None)
    assert (cleared.throttle_rate, cleared.metadata, cleared.uid) == (None, {}, None)
    assert cleared.filter is None and cleared.fifo is False
    assert client.endpoints.get(app.id, endpoint.id) == cleared


def test_patch_refuses_none_for_a_field_that_cannot_be_empty(client: Client) -> None:
    app = client.applications.create("Acme")
    endpoint = client.endpoints.create(app.id, "https://example.com/hook")
    refusals: dict[str, Callable[[], object]] = {
        "name": lambda: client.applications.patch(app.id, name=None),  # type: ignore[typeddict-item]
        "url": lambda: client.endpoints.patch(app.id, endpoint.id, url=None),  # type: ignore[typeddict-item]
        "disabled": lambda: client.endpoints.patch(app.id, endpoint.id, disabled=None),  # type: ignore[typeddict-item]
    }
    for field, call in refusals.items():
        with pytest.raises(HooklineError) as caught:
            call()
        assert caught.value.code == "invalid_argument" and str(caught.value).startswith(f"invalid_argument: {field}")
    with pytest.raises(TypeError, match="'event_type'"):
        client.endpoints.patch(app.id, endpoint.id, event_type=["a.b"])  # type: ignore[call-arg]
    assert client.endpoints.get(app.id, endpoint.id) == endpoint


def test_a_misspelt_option_fails_before_anything_is_sent(client: Client) -> None:
    # It used to be left out of the request without a word: an endpoint for every event type.
    app = client.applications.create("Acme")
    misspelt: list[Callable[[], object]] = [
        lambda: client.endpoints.create(app.id, "https://example.com/hook", event_type=["a.b"]),  # type: ignore[call-arg]
        lambda: client.applications.create("Other", throttle=5),  # type: ignore[call-arg]
        lambda: client.messages.create(app.id, "a.b", {}, channel=["eu"]),  # type: ignore[call-arg]
        lambda: client.event_types.create("a.b", archive=True),  # type: ignore[call-arg]
        lambda: client.endpoints.list(app.id, limt=1),  # type: ignore[call-arg]
    ]
    for call in misspelt:
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            call()
    assert client.endpoints.list(app.id).data == []
    assert [a.id for a in client.applications.list().data] == [app.id]
    assert client.messages.list(app.id).data == [] and client.event_types.list().data == []


def test_creating_posts_are_idempotent(client: Client) -> None:
    first = client.applications.create("Acme", idempotency_key="same-key")
    second = client.applications.create("Acme", idempotency_key="same-key")
    assert first.id == second.id
    assert len(client.applications.list().data) == 1
    client.applications.create("Acme")
    client.applications.create("Acme")
    assert len(client.applications.list().data) == 3


def test_validation_errors_are_one_line(client: Client) -> None:
    client.applications.create("Acme", uid="acme")
    with pytest.raises(HooklineError) as caught:
        client.endpoints.create("acme", "not a url")
    error = caught.value
    assert error.status == 422 and error.code == "validation" and isinstance(error.detail, list)
    assert str(error).startswith("422 validation: url:") and "\n" not in str(error)


def test_bad_token(hookline) -> None:
    with Client(hookline.url, "wrong-token") as client, pytest.raises(HooklineError) as caught:
        client.applications.list()
    assert caught.value.status == 401


def test_url_and_token_come_from_the_environment(hookline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_URL", hookline.url + "/")
    monkeypatch.setenv("HOOKLINE_TOKEN", ADMIN_TOKEN)
    with Client() as client:
        assert client.url == hookline.url
        assert client.applications.list().data == []


@pytest.mark.parametrize("bad_id", ["..", ".", "../..", "acme/x", "x?y", "x#y"])
def test_an_id_is_always_one_path_segment(client: Client, bad_id: str) -> None:
    """Deleting endpoint ``..`` of an application used to resolve to the application's own URL,
    and delete the application."""
    app = client.applications.create("Victim", uid="victim")
    endpoint = client.endpoints.create("victim", "https://example.com/hook")
    with pytest.raises(HooklineError) as caught:
        client.endpoints.delete("victim", bad_id)
    assert caught.value.status in (404, 422)  # no such endpoint, or not an id at all
    assert client.applications.get("victim").id == app.id
    assert [e.id for e in client.endpoints.list("victim").data] == [endpoint.id]


def test_an_empty_id_is_refused_before_any_request(client: Client) -> None:
    with pytest.raises(HooklineError) as caught:
        client.endpoints.delete("victim", "")
    assert (caught.value.status, caught.value.code) == (0, "invalid_argument")
