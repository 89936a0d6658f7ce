"""Which destinations of a source a received request goes to: each destination's event types and
payload filter decide, for live requests and for replays alike."""

import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from tests.support.api import github_headers
from tests.support.servers import Receiver, wait_until

SECRET = "gh-secret"


def _github_source(admin: httpx.Client, receiver: Receiver) -> dict[str, Any]:
    resp = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {"secret": SECRET}})
    assert resp.status_code == 201, resp.text
    source = dict(resp.json())
    source["ingestUrl"] = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
    destinations = [
        {"url": receiver.url("/github")},
        {"url": receiver.url("/gh-issues"), "eventTypes": ["issues"]},
        {"url": receiver.url("/gh-main"), "filter": {"payload": {"ref": "refs/heads/main"}}},
    ]
    for destination in destinations:
        made = admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json=destination)
        assert made.status_code == 201, made.text
    return source


def _send(source: dict[str, Any], event: str, delivery: str, body: bytes, content_type: str) -> None:
    headers = github_headers(SECRET, body, delivery, event, content_type)
    resp = httpx.post(source["ingestUrl"], content=body, headers=headers)
    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text


def _push(source: dict[str, Any], ref: str, delivery: str) -> None:
    _send(source, "push", delivery, json.dumps({"ref": ref}).encode(), "application/json")


def _received(receiver: Receiver, expected: Counter[str]) -> Counter[str]:
    """What each path got, once at least ``expected`` came and a moment passed for any more."""
    wait_until(lambda: Counter(r.path for r in receiver.requests) >= expected, 20, f"{dict(expected)}")
    time.sleep(1)
    return Counter(r.path for r in receiver.requests)


def test_replays_go_where_live_requests_go(hookline, receiver) -> None:
    with hookline.client() as admin:
        source = _github_source(admin, receiver)
        _push(source, "refs/heads/dev", "d-dev")
        _push(source, "refs/heads/main", "d-main")
        _send(source, "issues", "d-issue", b'{"action":"opened"}', "application/json")
        _send(source, "ping", "d-ping", b'{"zen":"hi"}', "application/json")
        live = Counter({"/github": 4, "/gh-main": 1, "/gh-issues": 1})
        assert _received(receiver, live) == live

        # One request again: the push to dev reaches only the destination without a filter.
        requests = admin.get(f"/ingest/api/v1/source/{source['id']}/request").json()["data"]
        dev = requests[-1]["id"]
        assert admin.post(f"/ingest/api/v1/source/{source['id']}/request/{dev}/replay").status_code == 202
        once = live + Counter({"/github": 1})
        assert _received(receiver, once) == once

        # Every request of a time range again: each one where it went live.
        span = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        out = admin.post(f"/ingest/api/v1/source/{source['id']}/replay", json=span)
        assert out.status_code == 200 and out.json()["forwarded"] == 4 and out.json()["unrouted"] == 0, out.text
        again = once + live
        assert _received(receiver, again) == again
        issues = [json.loads(r.body) for r in receiver.requests if r.path == "/gh-issues"]
        assert issues == [{"action": "opened"}] * 2


def test_a_range_replay_counts_requests_no_destination_takes_as_unrouted(hookline, receiver) -> None:
    with hookline.client() as admin:
        made = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {"secret": SECRET}})
        source = made.json()
        source["ingestUrl"] = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
        issues_only = {"url": receiver.url("/gh-issues"), "eventTypes": ["issues"]}
        assert admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json=issues_only).status_code == 201
        _push(source, "refs/heads/main", "d-push")
        _send(source, "issues", "d-issue", b'{"action":"opened"}', "application/json")
        forged = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-forged", "X-Hub-Signature-256": "sha256=00"}
        assert httpx.post(source["ingestUrl"], content=b"{}", headers=forged).status_code == 401
        assert _received(receiver, Counter({"/gh-issues": 1})) == Counter({"/gh-issues": 1})

        span = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        out = admin.post(f"/ingest/api/v1/source/{source['id']}/replay", json=span)
        assert out.status_code == 200, out.text
        assert {k: out.json()[k] for k in ("forwarded", "unrouted", "rejected")} == {
            "forwarded": 1,
            "unrouted": 1,
            "rejected": 1,
        }
        assert _received(receiver, Counter({"/gh-issues": 2})) == Counter({"/gh-issues": 2})


def test_a_form_encoded_github_push_is_routed_by_its_json_and_forwarded_as_sent(hookline, receiver) -> None:
    """GitHub's webhook content type "form" posts ``payload=<the JSON>``."""
    with hookline.client() as admin:
        source = _github_source(admin, receiver)
        for n, ref in enumerate(["refs/heads/main", "refs/heads/dev"]):
            form = urlencode({"payload": json.dumps({"ref": ref})}).encode()
            _send(source, "push", f"form-{n}", form, "application/x-www-form-urlencoded")
        expected = Counter({"/github": 2, "/gh-main": 1})
        assert _received(receiver, expected) == expected
        (main,) = [r for r in receiver.requests if r.path == "/gh-main"]
        assert main.headers["content-type"] == "application/x-www-form-urlencoded"
        assert main.body == urlencode({"payload": json.dumps({"ref": "refs/heads/main"})}).encode()


def test_a_slack_interactivity_request_is_routed_by_its_json_and_forwarded_as_sent(hookline, receiver) -> None:
    """Slack's interactivity requests (a button clicked, a modal submitted) post ``payload=<the JSON>``;
    its slash commands post their fields."""
    with hookline.client() as admin:
        made = admin.post("/ingest/api/v1/source", json={"name": "sl", "type": "slack", "config": {"secret": SECRET}})
        assert made.status_code == 201, made.text
        source = made.json()
        ingest_url = str(admin.base_url).rstrip("/") + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]
        for destination in [
            {"url": receiver.url("/slack")},
            {"url": receiver.url("/slack-approve"), "filter": {"payload": {"actions": [{"action_id": "approve"}]}}},
            # Slash commands are form posts too; their event type is slash_command, the form picks one.
            {
                "url": receiver.url("/slack-deploy"),
                "eventTypes": ["slash_command"],
                "filter": {"payload": {"command": "/deploy"}},
            },
        ]:
            assert admin.post(f"/ingest/api/v1/source/{source['id']}/endpoint", json=destination).status_code == 201
        forms = [
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": action}]})}).encode()
            for action in ("approve", "deny")
        ]
        forms += [urlencode({"command": command, "text": "prod"}).encode() for command in ("/deploy", "/status")]
        for form in forms:
            ts = str(int(time.time()))
            signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=form)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature,
            }
            resp = httpx.post(ingest_url, content=form, headers=headers)
            assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
        expected = Counter({"/slack": 4, "/slack-approve": 1, "/slack-deploy": 1})
        assert _received(receiver, expected) == expected
        (approve,) = [r for r in receiver.requests if r.path == "/slack-approve"]
        assert approve.headers["content-type"] == "application/x-www-form-urlencoded"
        assert approve.body == forms[0]
        (deploy,) = [r for r in receiver.requests if r.path == "/slack-deploy"]
        assert deploy.body == forms[2]
