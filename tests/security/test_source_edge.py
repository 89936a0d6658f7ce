"""The inbound gateway's doors (issue: security basics at the edge): a source's IP allow-list
(``allowedIps``, the client seen through HOOKLINE_TRUSTED_PROXIES only) and its rate limit
(``rateLimit``, whose state every server on the database shares). Inspector bins get the same
rate limit."""

import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from click.testing import CliRunner
from svix.api import Svix, SvixOptions
from svix.models import IngestSourceIn
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver, wait_until

from hookline.cli import main

_ROOT = "/ingest/api/v1/source"


def _source(admin: httpx.Client, **extra: Any) -> dict[str, Any]:
    resp = admin.post(_ROOT, json={"name": "edge", "type": "generic-webhook", "config": {}, **extra})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _ingest_url(hl: Hookline, source: dict[str, Any]) -> str:
    # The test server listens on a port of its own, not on the public URL's.
    return f"{hl.url}/in/" + source["ingestUrl"].rsplit("/in/", 1)[1]


def _destination(admin: httpx.Client, source_id: str, receiver: Receiver) -> None:
    resp = admin.post(f"{_ROOT}/{source_id}/endpoint", json={"url": receiver.url()})
    assert resp.status_code == 201, resp.text


def _requests(admin: httpx.Client, source_id: str, **params: str) -> list[dict[str, Any]]:
    resp = admin.get(f"{_ROOT}/{source_id}/request", params={"limit": "250", **params})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def test_a_request_from_outside_the_allow_list_is_refused_listed_and_never_forwarded(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as admin:
        source = _source(admin, allowedIps=["10.9.0.0/16"])
        assert source["allowedIps"] == ["10.9.0.0/16"] and source["rateLimit"] is None
        _destination(admin, source["id"], receiver)
        url = _ingest_url(hookline, source)
        refused = httpx.post(url, content=b'{"n": "refused"}', headers={"Content-Type": "application/json"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "ip_not_allowed" and "127.0.0.1" in refused.json()["detail"]
        [listed] = _requests(admin, source["id"])
        assert (listed["status"], listed["cause"], listed["msgId"]) == ("rejected", "ip_not_allowed", None)
        assert listed["client"] == "127.0.0.1"
        # Replaying it is refused too: it is never forwarded.
        replay = admin.post(f"{_ROOT}/{source['id']}/request/{listed['id']}/replay")
        assert replay.status_code == 409 and "ip_not_allowed" in replay.text

        # The svix SDK, which knows no allowedIps, keeps the list when it updates the source.
        svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
        renamed = svix.ingest.source.upsert(source["id"], IngestSourceIn(name="renamed", type="generic-webhook"))
        assert renamed.name == "renamed"
        assert admin.get(f"{_ROOT}/{source['id']}").json()["allowedIps"] == ["10.9.0.0/16"]
        assert svix.ingest.source.get(source["id"]).ingest_url == source["ingestUrl"]

        # Opening the list to 127.0.0.0/8 (PATCH, hookline's addition): the next request goes
        # through, and only it arrives.
        opened = admin.patch(f"{_ROOT}/{source['id']}", json={"allowedIps": ["10.9.0.0/16", "127.0.0.0/8"]})
        assert opened.status_code == 200 and opened.json()["allowedIps"] == ["10.9.0.0/16", "127.0.0.0/8"]
        accepted = httpx.post(url, content=b'{"n": "accepted"}', headers={"Content-Type": "application/json"})
        assert accepted.status_code == 200, accepted.text
        [arrived] = receiver.wait_for(1, timeout=30)
        assert arrived.body == b'{"n": "accepted"}'
        assert 'hookline_ingest_rejected_total{cause="ip_not_allowed"}' in admin.get("/metrics").text

        # Null removes the list; a wrong entry is refused naming the field.
        assert admin.patch(f"{_ROOT}/{source['id']}", json={"allowedIps": None}).json()["allowedIps"] is None
        for bad in (["10.9.1.1/16"], ["not-an-ip"], []):
            resp = admin.patch(f"{_ROOT}/{source['id']}", json={"allowedIps": bad})
            assert resp.status_code == 422 and "allowedIps" in resp.text, (bad, resp.text)
        resp = admin.post(_ROOT, json={"name": "x", "type": "generic-webhook", "allowedIps": ["300.1.1.1"]})
        assert resp.status_code == 422 and "allowedIps" in resp.text
        assert receiver.requests == [arrived]


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(hookline_factory, receiver: Receiver) -> None:
    forwarded = {"Content-Type": "application/json", "X-Forwarded-For": "10.9.1.1"}
    with hookline_factory(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),)) as hl, hl.client() as admin:
        source = _source(admin, allowedIps=["10.9.0.0/16"])
        _destination(admin, source["id"], receiver)
        resp = httpx.post(_ingest_url(hl, source), content=b'{"via": "proxy"}', headers=forwarded)
        assert resp.status_code == 200, resp.text
        assert receiver.wait_for(1, timeout=30)[0].body == b'{"via": "proxy"}'
        [listed] = _requests(admin, source["id"])
        assert (listed["status"], listed["client"]) == ("accepted", "10.9.1.1")
    with hookline_factory() as hl, hl.client() as admin:
        source = _source(admin, allowedIps=["10.9.0.0/16"])
        resp = httpx.post(_ingest_url(hl, source), content=b'{"via": "anyone"}', headers=forwarded)
        assert resp.status_code == 403, resp.text
        [listed] = _requests(admin, source["id"])
        assert (listed["status"], listed["cause"], listed["client"]) == ("rejected", "ip_not_allowed", "127.0.0.1")


def _burst(url: str, start: int, count: int) -> list[tuple[int, httpx.Response]]:
    def send(n: int) -> tuple[int, httpx.Response]:
        body = json.dumps({"n": n}).encode()
        return n, httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=60)

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(send, range(start, start + count)))


def test_a_source_past_its_rate_limit_answers_429_and_loses_or_repeats_nothing(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as admin:
        source = _source(admin, rateLimit=5)
        assert source["rateLimit"] == 5
        _destination(admin, source["id"], receiver)
        url = _ingest_url(hookline, source)
        answers: list[tuple[int, httpx.Response]] = []
        for batch in range(10):  # until the limit shows, however slow the machine is
            answers += _burst(url, batch * 20, 20)
            if any(resp.status_code == 429 for _, resp in answers):
                break
        accepted = {n for n, resp in answers if resp.status_code == 200}
        limited = [resp for _, resp in answers if resp.status_code == 429]
        assert limited and accepted and len(accepted) + len(limited) == len(answers)
        assert all(int(resp.headers["retry-after"]) >= 1 for resp in limited)
        assert limited[0].json()["code"] == "rate_limited" and "5 requests per second" in limited[0].json()["detail"]

        # Every accepted request arrives once; none of the refused ones do.
        wait_until(lambda: len(receiver.requests) >= len(accepted), 60, f"{len(accepted)} deliveries")
        delivered = [json.loads(r.body)["n"] for r in receiver.requests]
        assert sorted(delivered) == sorted(accepted)
        listed = _requests(admin, source["id"], status="rejected")
        assert len(listed) == len(limited) and {r["cause"] for r in listed} == {"rate_limited"}
        assert len(_requests(admin, source["id"], status="accepted")) == len(accepted)
        assert 'hookline_ingest_rejected_total{cause="rate_limited"}' in admin.get("/metrics").text
        assert admin.patch(f"{_ROOT}/{source['id']}", json={"rateLimit": 0}).status_code == 422
        assert admin.patch(f"{_ROOT}/{source['id']}", json={"rateLimit": None}).json()["rateLimit"] is None
        assert sorted(json.loads(r.body)["n"] for r in receiver.requests) == sorted(accepted)


def test_the_rate_limit_is_shared_by_every_server_on_the_database(hookline_factory) -> None:
    """Two servers (apps of their own) on one database: a request admitted by one spends the
    allowance the other sees. A limit kept per process would always admit the other's first."""
    with hookline_factory() as one, hookline_factory(run_engine=False) as two, one.client() as admin:
        for _ in range(5):  # a fresh source each time; a slow machine may let a second pass between
            source = _source(admin, rateLimit=1)
            first = httpx.post(_ingest_url(one, source), content=b"{}", headers={"Content-Type": "application/json"})
            assert first.status_code == 200, first.text
            other = httpx.post(_ingest_url(two, source), content=b"{}", headers={"Content-Type": "application/json"})
            if other.status_code == 429:
                break
            assert other.status_code == 200, other.text
        else:
            raise AssertionError("the second server never saw the first one's use of the limit")


def test_a_bin_past_its_rate_limit_answers_429_and_captures_only_what_it_admitted(hookline: Hookline) -> None:
    with hookline.client() as admin:
        created = admin.post("/api/v1/inspect", json={"rateLimit": 5})
        assert created.status_code == 201 and created.json()["rateLimit"] == 5, created.text
        bin_ = created.json()
        url = f"{hookline.url}/i/" + bin_["url"].rsplit("/i/", 1)[1]
        answers: list[tuple[int, httpx.Response]] = []
        for batch in range(10):
            answers += _burst(url, batch * 20, 20)
            if any(resp.status_code == 429 for _, resp in answers):
                break
        limited = [resp for _, resp in answers if resp.status_code == 429]
        admitted = [resp for _, resp in answers if resp.status_code == 200]
        assert limited and admitted and len(limited) + len(admitted) == len(answers)
        assert all(int(resp.headers["retry-after"]) >= 1 for resp in limited)
        captured = admin.get(f"/api/v1/inspect/{bin_['id']}/request", params={"limit": "250"}).json()["data"]
        assert len(captured) == len(admitted)
        assert "hookline_inspect_rate_limited_total" in admin.get("/metrics").text
        patched = admin.patch(f"/api/v1/inspect/{bin_['id']}", json={"rateLimit": None})
        assert patched.status_code == 200 and patched.json()["rateLimit"] is None
        assert admin.patch(f"/api/v1/inspect/{bin_['id']}", json={"rateLimit": 0}).status_code == 422


def test_the_cli_sets_a_sources_allow_list_and_rate_limit(hookline: Hookline) -> None:
    runner = CliRunner()
    env = {"HOOKLINE_URL": hookline.url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
    args = ["source", "create", "cli", "--allowed-ips", "10.9.0.0/16", "--allowed-ips", "192.0.2.0/24"]
    done = runner.invoke(main, [*args, "--rate-limit", "7", "--json"], env=env)
    assert done.exit_code == 0, done.output
    created = json.loads(done.stdout)
    assert created["allowedIps"] == ["10.9.0.0/16", "192.0.2.0/24"] and created["rateLimit"] == 7
    done = runner.invoke(main, ["source", "show", created["id"]], env=env)
    assert done.exit_code == 0 and "allowed ips: 10.9.0.0/16, 192.0.2.0/24" in done.stdout, done.output
    assert "rate limit: 7 requests/s" in done.stdout
    done = runner.invoke(main, ["source", "update", created["id"], "--any-ip", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["allowedIps"] is None and json.loads(done.stdout)["rateLimit"] == 7
    done = runner.invoke(main, ["source", "update", created["id"], "--no-rate-limit", "--json"], env=env)
    assert done.exit_code == 0 and json.loads(done.stdout)["rateLimit"] is None, done.output
    done = runner.invoke(main, ["source", "update", created["id"], "--allowed-ips", "nope"], env=env)
    assert done.exit_code != 0 and "allowedIps" in done.output
