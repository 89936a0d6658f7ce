"""``client.ingest``: sources, their destinations and what they received, against a real server
(SQLite and PostgreSQL) and a real receiver.

The new names are looked up on ``hookline.client`` inside each test, so that without them each
test fails on its own rather than the module failing to import."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.support.api import github_headers
from tests.support.servers import ADMIN_TOKEN, Receiver, wait_until

import hookline.client as hc
from hookline import AsyncClient, Client, HooklineError
from hookline.client import _ingest as ops

DEST_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + "YW5vdGhlci1zZWNyZXQtZm9yLWluZ2VzdC10ZXN0cyE="


@pytest.fixture
def client(hookline) -> Client:
    with Client(hookline.url, ADMIN_TOKEN, timeout=10) as c:
        yield c


def test_sources_create_get_list_patch_update_rotate_delete(client: Client, hookline) -> None:
    answer: Any = {"status_code": 202, "content_type": "application/json", "body": '{"ok": true}'}
    generic = client.ingest.sources.create(
        "Generic",
        "generic-webhook",
        uid="generic",
        metadata={"team": "billing"},
        response=answer,
        allowed_ips=["127.0.0.0/8"],
        rate_limit=50,
    )
    assert isinstance(generic, hc.IngestSource) and generic.id.startswith("src_")
    assert (generic.uid, generic.name, generic.type, generic.config) == ("generic", "Generic", "generic-webhook", {})
    assert generic.metadata == {"team": "billing"} and generic.response == answer
    assert (generic.allowed_ips, generic.rate_limit, generic.awaiting_secret) == (["127.0.0.0/8"], 50, False)
    assert generic.ingest_url.startswith(hookline.url + "/in/") and generic.created_at.tzinfo is not None

    github = client.ingest.sources.create("GitHub", "github", uid="gh", config={"secret": "gh-secret"})
    assert github.type == "github" and github.config == {} and "gh-secret" not in json.dumps(github.raw)
    stripe = client.ingest.sources.create("Stripe", "stripe")  # its secret comes once Stripe has the URL
    assert stripe.awaiting_secret and stripe.uid is None

    assert client.ingest.sources.get("gh") == github
    assert [s.id for s in client.ingest.sources.list().data] == [generic.id, github.id, stripe.id]
    first = client.ingest.sources.list(limit=2, order="descending")
    assert [s.id for s in first.data] == [stripe.id, github.id] and not first.done
    assert [s.id for s in client.iterate(client.ingest.sources.list, limit=1)] == [generic.id, github.id, stripe.id]

    # PATCH: only the given fields; None removes.
    cleared = client.ingest.sources.patch(
        "generic", name="Renamed", response=None, allowed_ips=None, rate_limit=None, metadata=None
    )
    assert (cleared.name, cleared.uid, cleared.response, cleared.allowed_ips) == ("Renamed", "generic", None, None)
    assert (cleared.rate_limit, cleared.metadata) == (None, {})
    assert client.ingest.sources.patch(generic.id, uid=None).uid is None
    given = client.ingest.sources.patch(stripe.id, config={"secret": "whsec_c3RyaXBl"}, rate_limit=7)
    assert not given.awaiting_secret and given.rate_limit == 7

    # PUT: replaces, keeps the uid, and the rate limit unless given.
    replaced = client.ingest.sources.update("gh", "GitHub main", "github", config={"secret": "new"})
    assert (replaced.id, replaced.uid, replaced.name) == (github.id, "gh", "GitHub main")
    client.ingest.sources.patch("gh", rate_limit=9)
    assert client.ingest.sources.update("gh", "GitHub main", "github").rate_limit == 9
    assert client.ingest.sources.update("gh", "GitHub main", "github", rate_limit=None).rate_limit is None
    made = client.ingest.sources.update("fresh", "Fresh", "generic-webhook")
    assert made.uid == "fresh" and made.id not in {generic.id, github.id, stripe.id}

    rotated = client.ingest.sources.rotate_token("gh")
    assert rotated.startswith(hookline.url + "/in/") and rotated != github.ingest_url
    assert client.ingest.sources.get("gh").ingest_url == rotated

    client.ingest.sources.delete("gh")
    with pytest.raises(HooklineError) as caught:
        client.ingest.sources.get("gh")
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_destinations_forward_and_requests_are_listed_and_replayed(
    client: Client, hookline, receiver: Receiver
) -> None:
    source = client.ingest.sources.create("Orders", "generic-webhook", uid="orders")
    destination = client.ingest.destinations.create(
        "orders", receiver.url(), uid="main", secret=DEST_SECRET, description="the shop", metadata={"k": "v"}
    )
    assert isinstance(destination, hc.IngestDestination) and destination.id.startswith("ep_")
    assert (destination.uid, destination.url, destination.description) == ("main", receiver.url(), "the shop")
    assert destination.path_forwarding_disabled is False and destination.metadata == {"k": "v"}
    assert client.ingest.destinations.get("orders", "main") == destination
    assert [d.id for d in client.ingest.destinations.list(source.id).data] == [destination.id]
    assert client.ingest.destinations.get_secret("orders", "main").key == DEST_SECRET

    body = b'{"order": 1, "total": "9.50"}'
    sent = httpx.post(source.ingest_url + "/paid?shop=x", content=body, headers={"Content-Type": "application/json"})
    assert sent.status_code == 200, sent.text
    got = receiver.wait_for(1)[0]
    assert got.body == body and got.path == "/hook/paid?shop=x"

    [received] = wait_until(lambda: client.ingest.requests.list("orders").data)
    assert isinstance(received, hc.IngestRequest)
    assert (received.status, received.method, received.path, received.query) == ("accepted", "POST", "/paid", "shop=x")
    assert received.msg_id and received.size == len(body) and received.cause is None
    assert received.received_at.tzinfo is not None
    detail = client.ingest.requests.get("orders", received.id)
    assert isinstance(detail, hc.IngestRequestDetail) and detail.id == received.id
    assert detail.content == body and detail.body == body.decode()
    assert ("content-type", "application/json") in [(k.lower(), v) for k, v in detail.headers]
    assert client.ingest.requests.list("orders", status="rejected").data == []
    assert client.ingest.requests.list("orders", status="accepted").data == [received]
    assert client.ingest.requests.list("orders", since=datetime.now(UTC) + timedelta(minutes=1)).data == []
    assert client.ingest.requests.list("orders", until=datetime.now(UTC) - timedelta(minutes=1)).data == []

    client.ingest.requests.replay("orders", received.id)
    assert receiver.wait_for(2)[1].body == body

    # PATCH and PUT: the same destination, at its new URL, without the path below the ingest URL.
    patched = client.ingest.destinations.patch("orders", "main", path_forwarding_disabled=True, description=None)
    assert (patched.id, patched.path_forwarding_disabled, patched.description) == (destination.id, True, "")
    replaced = client.ingest.destinations.update("orders", destination.id, receiver.url("/put"))
    assert (replaced.url, replaced.uid, replaced.path_forwarding_disabled) == (receiver.url("/put"), "main", True)
    assert replaced.metadata == {}
    now = datetime.now(UTC)
    done = client.ingest.requests.replay_range("orders", now - timedelta(minutes=5), now + timedelta(seconds=1))
    assert isinstance(done, hc.IngestReplay)
    assert (done.forwarded, done.unrouted, done.rejected, done.causes) == (1, 0, 0, [])
    assert receiver.wait_for(3)[2].path == "/put"

    client.ingest.destinations.rotate_secret("orders", "main", key=OTHER_SECRET)
    assert client.ingest.destinations.get_secret("orders", "main").key == OTHER_SECRET
    second = client.ingest.destinations.create("orders", receiver.url("/b"), path_forwarding_disabled=True)
    assert second.path_forwarding_disabled is True
    assert client.ingest.destinations.update("orders", "made", receiver.url("/c")).uid == "made"
    client.ingest.destinations.delete("orders", "main")
    listed = client.ingest.destinations.list("orders", order="descending").data
    assert [d.url for d in listed] == [receiver.url("/c"), receiver.url("/b")]


def test_a_source_made_with_destinations_verifies_github_and_replays_once_fixed(
    client: Client, receiver: Receiver
) -> None:
    source = client.ingest.sources.create(
        "GitHub",
        "github",
        config={"secret": "wrong"},
        destinations=[{"url": receiver.url(), "uid": "ci", "secret": DEST_SECRET, "event_types": None}],
    )
    [destination] = client.ingest.destinations.list(source.id).data
    assert destination.uid == "ci" and client.ingest.destinations.get_secret(source.id, "ci").key == DEST_SECRET

    body = b'{"ref": "refs/heads/main"}'
    refused = httpx.post(source.ingest_url, content=body, headers=github_headers("right", body, "d-1"))
    assert refused.status_code == 401
    [rejected] = client.ingest.requests.list(source.id).data
    assert rejected.status == "rejected" and rejected.cause and rejected.cause.startswith("verification_failed")
    assert rejected.msg_id is None
    with pytest.raises(HooklineError) as caught:
        client.ingest.requests.replay(source.id, rejected.id)
    assert (caught.value.status, caught.value.code) == (409, "conflict")
    assert receiver.requests == []

    client.ingest.sources.patch(source.id, config={"secret": "right"})
    client.ingest.requests.replay(source.id, rejected.id)
    got = receiver.wait_for(1)[0]
    assert got.body == body and got.headers["x-github-delivery"] == "d-1"


def test_refused_inputs_raise_hookline_error(client: Client) -> None:
    with pytest.raises(HooklineError) as caught:
        client.ingest.sources.create("x", "adobe-sign")
    assert caught.value.status == 422 and caught.value.code == "validation" and "type" in caught.value.message
    with pytest.raises(HooklineError) as caught:
        client.ingest.sources.create("x", "stripe", config={"secrt": "x"})
    assert caught.value.status == 422 and "secrt" in caught.value.message
    with pytest.raises(HooklineError) as caught:
        client.ingest.destinations.list("missing")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    source = client.ingest.sources.create("x", "generic-webhook")
    with pytest.raises(HooklineError) as caught:
        client.ingest.destinations.create(source.id, "ftp://example.com/hook")
    assert caught.value.status == 422 and caught.value.code == "validation"
    with pytest.raises(HooklineError) as caught:
        now = datetime.now(UTC)
        client.ingest.requests.replay_range(source.id, now, now - timedelta(hours=1))
    assert caught.value.status == 422 and "until" in caught.value.message
    with pytest.raises(HooklineError) as caught:
        client.ingest.requests.get(source.id, "req_missing")
    assert (caught.value.status, caught.value.code) == (404, "not_found")

    # Refused before any request: what the server would not take, or the client would drop.
    with pytest.raises(HooklineError, match=r"^invalid_argument: name cannot be cleared"):
        client.ingest.sources.patch(source.id, name=None)  # type: ignore[arg-type]
    with pytest.raises(HooklineError, match=r"^invalid_argument: response has no 'status'"):
        client.ingest.sources.create("x", "generic-webhook", response={"status": 202})  # type: ignore[arg-type]
    with pytest.raises(HooklineError, match=r"^invalid_argument: a destination has no 'idempotency_key'"):
        bad: Any = [{"url": "https://example.com", "idempotency_key": "k"}]
        client.ingest.sources.create("x", "generic-webhook", destinations=bad)
    with pytest.raises(TypeError, match="rate_limt"):
        client.ingest.sources.patch(source.id, rate_limt=5)  # type: ignore[call-arg]


def test_options_are_sent_under_their_api_names() -> None:
    create = ops.create_source(
        "n",
        "generic-webhook",
        config={"basicAuth": {"username": "u", "password": "p"}},
        response={"status_code": 204},
        allowed_ips=["10.0.0.0/8"],
        rate_limit=3,
        destinations=[{"url": "https://example.com", "event_types": ["a.b"], "path_forwarding_disabled": True}],
        idempotency_key="k-1",
    )
    assert (create.method, create.path, create.headers) == ("POST", "/ingest/api/v1/source", {"idempotency-key": "k-1"})
    assert create.body == {
        "name": "n",
        "type": "generic-webhook",
        "config": {"basicAuth": {"username": "u", "password": "p"}},
        "response": {"statusCode": 204},
        "allowedIps": ["10.0.0.0/8"],
        "rateLimit": 3,
        "destinations": [{"url": "https://example.com", "eventTypes": ["a.b"], "pathForwardingDisabled": True}],
    }
    # A PUT sends allowed_ips and rate_limit only when given, None as null (removed); else they stay.
    assert ops.update_source("s", "n", "github").body == {"name": "n", "type": "github"}
    assert ops.update_source("s", "n", "github", allowed_ips=None).body == {
        "name": "n",
        "type": "github",
        "allowedIps": None,
    }
    put = ops.update_destination("a/b", "..", "https://example.com", uid=None, path_forwarding_disabled=False)
    assert put.path == "/ingest/api/v1/source/a%2Fb/endpoint/%2E%2E"
    assert put.body == {"url": "https://example.com", "uid": None, "pathForwardingDisabled": False}
    patch = ops.patch_source("s", rate_limit=None, response={"body": "ok"}, metadata=None)
    assert patch.body == {"rateLimit": None, "response": {"body": "ok"}, "metadata": {}}
    assert ops.patch_destination("s", "e", path_forwarding_disabled=True, filter=None).body == {
        "pathForwardingDisabled": True,
        "filter": None,
    }
    since = datetime(2024, 5, 1, tzinfo=UTC)
    listing = ops.list_ingest_requests("s", status="rejected", since=since, limit=5)
    assert (listing.path, listing.params) == (
        "/ingest/api/v1/source/s/request",
        {"status": "rejected", "since": "2024-05-01T00:00:00+00:00", "limit": "5"},
    )
    rotate = ops.rotate_destination_secret("s", "e", grace_period_seconds=0, key_type="ed25519")
    assert rotate.path.endswith("/endpoint/e/secret/rotate") and rotate.body == {
        "gracePeriodSeconds": 0,
        "keyType": "ed25519",
    }
    assert ops.rotate_source_token("s").path == "/ingest/api/v1/source/s/token/rotate"
    assert ops.replay_ingest_request("s", "r").path == "/ingest/api/v1/source/s/request/r/replay"


async def test_async_client_round_trip(hookline, receiver: Receiver) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN, timeout=10) as client:
        source = await client.ingest.sources.create("Async", "generic-webhook", uid="async")
        assert isinstance(source, hc.IngestSource) and (await client.ingest.sources.get("async")).id == source.id
        assert [s.id async for s in client.iterate(client.ingest.sources.list)] == [source.id]
        destination = await client.ingest.destinations.create("async", receiver.url(), uid="dest")
        assert (await client.ingest.destinations.get("async", "dest")).id == destination.id
        assert (await client.ingest.destinations.get_secret("async", "dest")).key.startswith("whsec_")

        async with httpx.AsyncClient() as sender:
            sent = await sender.post(source.ingest_url, content=b"hello", headers={"Content-Type": "text/plain"})
        assert sent.status_code == 200
        assert receiver.wait_for(1)[0].body == b"hello"
        [received] = (await client.ingest.requests.list("async")).data
        assert received.status == "accepted"
        assert (await client.ingest.requests.get("async", received.id)).content == b"hello"
        await client.ingest.requests.replay("async", received.id)
        assert receiver.wait_for(2)[1].body == b"hello"
        now = datetime.now(UTC)
        done = await client.ingest.requests.replay_range("async", now - timedelta(minutes=5), now)
        assert (done.forwarded, done.rejected) == (1, 0)
        assert len(receiver.wait_for(3)) == 3

        patched = await client.ingest.destinations.patch("async", "dest", disabled=True)
        assert patched.disabled
        replaced = await client.ingest.destinations.update("async", "dest", receiver.url("/x"), disabled=False)
        assert replaced.url == receiver.url("/x") and not replaced.disabled
        await client.ingest.destinations.rotate_secret("async", "dest", key=DEST_SECRET)
        assert (await client.ingest.destinations.get_secret("async", "dest")).key == DEST_SECRET
        assert (await client.ingest.sources.patch("async", rate_limit=5)).rate_limit == 5
        assert (await client.ingest.sources.update("async", "Async 2", "generic-webhook")).name == "Async 2"
        assert (await client.ingest.sources.rotate_token("async")) != source.ingest_url
        await client.ingest.destinations.delete("async", "dest")
        assert (await client.ingest.destinations.list("async")).data == []
        await client.ingest.sources.delete("async")
        with pytest.raises(HooklineError) as caught:
            await client.ingest.sources.get("async")
        assert (caught.value.status, caught.value.code) == (404, "not_found")
