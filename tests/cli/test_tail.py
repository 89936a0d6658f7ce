"""``hookline tail``: attempts printed as they happen."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from tests.cli.conftest import Cli
from tests.support import servers
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, free_port, run_hookline, wait_until

from hookline import Client
from hookline.cli.tail import LAG, Tail
from hookline.client import Attempt

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def attempt(number: int, at: datetime) -> Attempt:
    return Attempt.from_json(
        {
            "id": f"atmpt_{number:04d}",
            "msgId": "msg_1",
            "endpointId": "ep_1",
            "url": "http://x",
            "response": "",
            "responseStatusCode": 200,
            "responseDurationMs": 1,
            "status": 0,
            "statusText": "success",
            "triggerType": 0,
            "attemptNumber": 1,
            "error": None,
            "timestamp": at.isoformat(),
        }
    )


def test_tail_state_prints_each_attempt_once_and_looks_back_a_little() -> None:
    state = Tail()
    first, second = attempt(1, T0), attempt(2, T0 + timedelta(seconds=30))
    assert state.absorb([second, first]) == [first, second]
    assert state.after == second.timestamp - LAG
    assert state.absorb([second, first]) == []
    assert set(state.seen) == {second.id}  # older than the window: forgotten
    late = attempt(3, T0 + timedelta(seconds=25))  # recorded late, inside the window
    assert state.absorb([late, second]) == [late]
    assert state.after == second.timestamp - LAG


def test_tail_since_prints_recent_attempts(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    ids = [client.messages.create("acme", "a.b", {"n": n}).id for n in range(2)]
    wait_until(lambda: len(client.attempts.list_by_endpoint("acme", endpoint_id).data) == 2)
    lines = cli.ok("tail", "acme", "--since", "10m", "--count", "2").stdout.splitlines()
    assert lines[0].split() == ["TIME", "STATUS", "CODE", "MS", "#", "MSG", "ENDPOINT", "URL", "ERROR"]
    # Oldest first; two attempts that end in the same millisecond may come either way.
    assert sorted(line.split()[6] for line in lines[1:]) == sorted(ids)
    assert [line.split()[0] for line in lines[1:]] == sorted(line.split()[0] for line in lines[1:])
    assert all(
        line.split()[2:4] == ["success", "200"] and line.split()[8:] == [receiver.url(), "-"] for line in lines[1:]
    ), lines  # seen failing once in CI, on PostgreSQL, under load: these lines say how next time


def test_tail_says_why_an_attempt_failed(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    receiver.respond = lambda _r: Reply(status=500, body=b"boom: the receiver is broken")
    client.messages.create("acme", "a.b", {"n": 1})

    def answered() -> list[Attempt]:
        return [a for a in client.attempts.list_by_endpoint("acme", endpoint_id).data if a.response_status_code]

    wait_until(answered)
    lines = cli.ok("tail", "acme", "--since", "10m", "--max-seconds", "0.5").stdout.splitlines()[1:]
    # Under a loaded CI run an attempt may time out first (no status code): the answered one says why.
    line = next(line for line in lines if line.split()[3] != "-")
    assert line.split()[2:4] == ["fail", "500"]
    assert line.split()[8:] == [receiver.url(), "boom:", "the", "receiver", "is", "broken"]


def test_tail_follows_new_attempts_live(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    old = client.messages.create("acme", "a.b", {"old": True})
    wait_until(lambda: client.attempts.list_by_endpoint("acme", endpoint_id).data)

    def publish_later() -> None:
        time.sleep(0.6)
        client.messages.create("acme", "a.b", {"new": True}, event_id="new-one")

    publisher = threading.Thread(target=publish_later)
    publisher.start()
    started = time.monotonic()
    result = cli.ok(
        "tail", "acme", "--endpoint", endpoint_id, "--interval", "0.1", "--count", "1", "--json", "--max-seconds", "20"
    )
    publisher.join()
    [line] = result.stdout.splitlines()
    printed = json.loads(line)
    assert printed["msgId"] != old.id and printed["endpointId"] == endpoint_id
    assert client.messages.get("acme", "new-one").id == printed["msgId"]
    assert time.monotonic() - started < 20


def test_tail_of_an_unknown_app_prints_only_the_error(cli: Cli) -> None:
    result = cli("tail", "nope", "--max-seconds", "5")
    assert result.exit_code == 1 and result.stdout == "", result.stdout
    assert "application not found" in result.stderr


def test_tail_stops_after_max_seconds(cli: Cli, acme: tuple[Client, str]) -> None:
    started = time.monotonic()
    result = cli.ok("tail", "acme", "--interval", "0.1", "--max-seconds", "0.5")
    assert 0.4 < time.monotonic() - started < 5
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0]]  # the header alone


def test_tail_waits_out_a_server_restart(database_url: str, receiver: Receiver) -> None:
    """A server restart used to end ``tail`` with an error; it now says so once and goes on."""
    port = free_port()
    settings = servers.test_settings(database_url)
    with run_hookline(settings, port=port) as hl, Client(hl.url, ADMIN_TOKEN) as client:
        client.applications.create("Acme", uid="acme")
        endpoint_id = client.endpoints.create("acme", receiver.url()).id
    env = {**os.environ, "HOOKLINE_URL": f"http://127.0.0.1:{port}", "HOOKLINE_TOKEN": ADMIN_TOKEN}
    command = [sys.executable, "-m", "hookline", "tail", "acme", "--interval", "0.2", "--count", "2", "--json"]
    with run_hookline(settings, port=port) as hl, Client(hl.url, ADMIN_TOKEN) as client:
        tail = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)  # tail's first poll: it prints what comes after it
            client.messages.create("acme", "a.b", {"n": 1}, event_id="before")
            wait_until(lambda: client.attempts.list_by_endpoint("acme", endpoint_id).data, 30, "first attempt")
        except BaseException:
            tail.kill()
            raise
    try:
        time.sleep(2)  # down: tail's polls fail
        with run_hookline(settings, port=port) as hl, Client(hl.url, ADMIN_TOKEN) as client:
            client.messages.create("acme", "a.b", {"n": 2}, event_id="after")
            out, err = tail.communicate(timeout=60)
            ids = {client.messages.get("acme", e).id for e in ("before", "after")}
    finally:
        if tail.poll() is None:
            tail.kill()
    assert tail.returncode == 0, err
    assert {json.loads(line)["msgId"] for line in out.splitlines()} == ids
    assert "still trying" in err and "the server answers again" in err and "Traceback" not in err
