"""``hookline send``, ``messages``, ``attempts`` and ``resend``."""

import json
import re
from pathlib import Path

from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import Receiver, Reply, free_port, wait_until

from hookline import Client
from hookline.cli.messaging import newest_first
from hookline.client import Attempt

ATTEMPT_COLUMNS_SHOWN = ("ID", "TIME", "MSG", "ENDPOINT", "STATUS", "CODE", "MS", "TRIGGER", "#", "URL", "ERROR")


def test_send_from_a_file_and_from_stdin(
    cli: Cli, acme: tuple[Client, str], receiver: Receiver, tmp_path: Path
) -> None:
    message_file = tmp_path / "message.json"
    message_file.write_text(json.dumps({"eventType": "invoice.paid", "payload": {"amount": 42}, "eventId": "inv-1"}))
    table = cli.ok("send", "acme", str(message_file)).stdout.splitlines()
    assert table[0].split() == ["ID", "EVENT", "TYPE", "EVENT", "ID", "CREATED"]
    assert table[1].startswith("msg_") and "invoice.paid  inv-1" in table[1]

    sent = cli.json("send", "acme", "--event-type", "order.created", "--channel", "eu", input='{"order": 7}')
    assert sent["eventType"] == "order.created" and sent["payload"] == {"order": 7} and sent["channels"] == ["eu"]

    bodies = [json.loads(r.body) for r in receiver.wait_for(2)]
    assert sorted(bodies, key=str) == [{"amount": 42}, {"order": 7}]


def test_send_rejects_bad_input_as_usage_errors(cli: Cli, acme: tuple[Client, str]) -> None:
    line = assert_one_line_error(cli("send", "acme", input="{not json"), exit_code=2)
    assert "Invalid value for FILE" in line
    line = assert_one_line_error(cli("send", "acme", input='{"payload": {}}'), exit_code=2)
    assert "eventType" in line
    line = assert_one_line_error(cli("send", "acme", "--event-type", "a.b", input="[1]"), exit_code=2)
    assert "must be an object" in line


def test_send_to_an_unknown_app(cli: Cli) -> None:
    line = assert_one_line_error(cli("send", "nope", "--event-type", "a.b", input="{}"))
    assert line == "Error: 404 not_found: application not found"


def test_messages_with_their_delivery_status(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    receiver.respond = lambda r: Reply(status=500 if b"bad" in r.body else 200)
    good = client.messages.create("acme", "invoice.paid", {"ok": True})
    bad = client.messages.create("acme", "invoice.failed", {"bad": True})
    wait_until(lambda: client.messages.destinations("acme", bad.id).data[0].status_text == "fail", 15, "failure")
    wait_until(lambda: client.messages.destinations("acme", good.id).data[0].status_text == "success")

    lines = cli.ok("messages", "acme").stdout.splitlines()
    assert lines[0].split() == ["ID", "EVENT", "TYPE", "CREATED", "STATUS"]
    assert lines[1].startswith(bad.id) and lines[1].endswith("fail")
    assert lines[2].startswith(good.id) and lines[2].endswith("success")

    listed = cli.json("messages", "acme", "--limit", "1")
    assert [m["id"] for m in listed] == [bad.id]
    assert listed[0]["destinations"] == [
        {"endpointId": endpoint_id, "url": receiver.url(), "status": 2, "statusText": "fail", "nextAttempt": None}
    ]
    only_paid = cli.json("messages", "acme", "--event-type", "invoice.paid")
    assert [m["id"] for m in only_paid] == [good.id]

    failed = cli.json("messages", "acme", "--endpoint", endpoint_id, "--status", "fail")
    assert [(m["id"], m["statusText"]) for m in failed] == [(bad.id, "fail")]
    table = cli.ok("messages", "acme", "--endpoint", endpoint_id).stdout
    assert "NEXT ATTEMPT" in table.splitlines()[0] and good.id in table


def test_messages_status_needs_an_endpoint(cli: Cli, acme: tuple[Client, str]) -> None:
    line = assert_one_line_error(cli("messages", "acme", "--status", "fail"), exit_code=2)
    assert "--status needs --endpoint" in line


def test_attempts_and_resend(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    message = client.messages.create("acme", "invoice.paid", {"n": 1})
    receiver.wait_for(1)
    wait_until(lambda: client.attempts.list_by_endpoint("acme", endpoint_id).data)

    lines = cli.ok("attempts", "acme", "--endpoint", endpoint_id).stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "MSG", "ENDPOINT", "STATUS", "CODE", "MS", "TRIGGER", "#", "URL", "ERROR"]
    assert lines[1].startswith("atmpt_") and f"{message.id}  {endpoint_id}  success  200" in lines[1]
    assert "scheduled  1" in lines[1] and lines[1].endswith(f"{receiver.url()}  -")

    resent = cli.ok("resend", "acme", message.id, endpoint_id).stdout.splitlines()
    assert resent[1].split() == [message.id, endpoint_id, "queued"]
    assert receiver.wait_for(2)[1].headers["webhook-id"] == message.id
    wait_until(lambda: len(client.attempts.list_by_msg("acme", message.id).data) == 2)

    by_msg = cli.json("attempts", "acme", "--msg", message.id)
    assert [a["triggerType"] for a in by_msg] == [1, 0]
    assert cli.json("attempts", "acme", "--msg", message.id, "--endpoint", endpoint_id, "--status", "fail") == []
    assert len(cli.json("attempts", "acme", "--msg", message.id, "--limit", "1")) == 1
    assert cli.json("resend", "acme", message.id, endpoint_id) == {
        "queued": True,
        "msgId": message.id,
        "endpointId": endpoint_id,
    }


def test_attempts_of_the_whole_application_newest_first(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    second = client.endpoints.create("acme", receiver.url("/second")).id
    for n in range(3):
        client.messages.create("acme", "a.b", {"n": n})
    receiver.wait_for(6)
    wait_until(lambda: all(len(client.attempts.list_by_endpoint("acme", e).data) == 3 for e in (endpoint_id, second)))

    listed = cli.json("attempts", "acme")
    assert len(listed) == 6 and {a["endpointId"] for a in listed} == {endpoint_id, second}
    assert [(a["timestamp"], a["id"]) for a in listed] == sorted(
        ((a["timestamp"], a["id"]) for a in listed), reverse=True
    )
    newest = cli.json("attempts", "acme", "--limit", "2")
    assert [a["id"] for a in newest] == [a["id"] for a in listed[:2]]
    assert cli.json("attempts", "acme", "--status", "fail") == []
    lines = cli.ok("attempts", "acme").stdout.splitlines()
    assert len(lines) == 7 and lines[0].split()[-2:] == ["URL", "ERROR"]


def test_newest_first_merges_and_cuts() -> None:
    def attempt(number: int, second: int) -> Attempt:
        return Attempt.from_json(
            {
                "id": f"atmpt_{number}",
                "msgId": "msg_1",
                "endpointId": "ep_1",
                "url": "http://x",
                "status": 0,
                "statusText": "success",
                "timestamp": f"2024-05-01T12:00:{second:02d}+00:00",
            }
        )

    a1, a2, a3, b1 = attempt(1, 1), attempt(2, 3), attempt(3, 3), attempt(4, 2)
    assert newest_first([[a3, a2, a1], [b1]], 3) == [a3, a2, b1]
    assert newest_first([], 5) == []


def test_resend_of_an_unknown_message(cli: Cli, acme: tuple[Client, str]) -> None:
    _, endpoint_id = acme
    line = assert_one_line_error(cli("resend", "acme", "msg_nope", endpoint_id))
    assert line.startswith("Error: 404 not_found")


def test_attempts_say_why_they_failed(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    receiver.respond = lambda _r: Reply(status=503, body=b"database down for maintenance; " + b"x" * 200)
    dead_url = f"http://127.0.0.1:{free_port()}/" + "long/" * 20
    dead = client.endpoints.create("acme", dead_url).id
    message = client.messages.create("acme", "a.b", {"n": 1})
    wait_until(lambda: len(client.attempts.list_by_msg("acme", message.id).data) == 2, 15, "two attempts")

    lines = cli.ok("attempts", "acme", "--msg", message.id).stdout.splitlines()
    rows = {cells[3]: cells for cells in (re.split(r" {2,}", line) for line in lines)}
    assert list(rows["ENDPOINT"]) == [*ATTEMPT_COLUMNS_SHOWN]
    answered, refused = rows[endpoint_id], rows[dead]
    assert answered[4:6] == ["fail", "503"] and answered[9] == receiver.url()
    assert answered[10].startswith("database down for maintenance; xxx") and answered[10].endswith("…")
    assert len(answered[10]) == 60
    assert refused[9] == dead_url[:39] + "…"  # a long URL is cut, and the columns after it stay
    error = {a.id: a.error for a in client.attempts.list_by_endpoint("acme", dead).data}[refused[0]]
    assert error and refused[10] == (error if len(error) <= 60 else error[:59] + "…")
    assert all(len(line) < 320 for line in lines)
    assert {a["url"] for a in cli.json("attempts", "acme", "--msg", message.id)} == {receiver.url(), dead_url}


def test_resend_to_a_disabled_endpoint_says_to_enable_it(
    cli: Cli, acme: tuple[Client, str], receiver: Receiver
) -> None:
    client, endpoint_id = acme
    message = client.messages.create("acme", "user.created", {"n": 1})
    receiver.wait_for(1)
    cli.ok("endpoint", "disable", "acme", endpoint_id)
    line = assert_one_line_error(cli("resend", "acme", message.id, endpoint_id))
    assert line.startswith("Error: 409 conflict") and "is disabled: enable it first" in line
