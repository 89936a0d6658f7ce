"""``hookline recover`` and ``replay``, and the times they take.

The server routes are being built alongside: the end-to-end tests are skipped,
with the reason, only while the server answers 404 for the route itself.
"""

import json
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import Result
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import ADMIN_TOKEN, Receiver, Reply, wait_until

from hookline import Client
from hookline.cli.options import duration_seconds, parse_duration, parse_when

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_parse_when() -> None:
    assert parse_when("90s", NOW) == NOW - timedelta(seconds=90)
    assert parse_when("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_when("7d", NOW) == NOW - timedelta(days=7)
    assert parse_when("1w", NOW) == NOW - timedelta(weeks=1)
    assert parse_when("2024-04-30T08:00", NOW) == datetime(2024, 4, 30, 8, tzinfo=UTC)
    assert parse_when("2024-04-30T08:00:00+02:00", NOW) == datetime(2024, 4, 30, 6, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_when("yesterday", NOW)


def test_bad_since_is_a_usage_error(cli: Cli) -> None:
    line = assert_one_line_error(cli("recover", "acme", "ep_1", "--since", "yesterday"), exit_code=2)
    assert "'yesterday' is neither an ISO 8601 time nor a duration" in line
    assert "Missing option '--since'" in assert_one_line_error(cli("replay", "acme", "ep_1"), exit_code=2)


def skip_if_route_missing(result: Result) -> None:
    if result.exit_code == 1 and "no such route" in result.stderr:
        pytest.skip(f"background-task routes not on the server yet: {result.stderr.strip()}")


def test_recover_with_progress(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    receiver.respond = lambda _r: Reply(status=500)
    message = client.messages.create("acme", "a.b", {"n": 1})
    wait_until(lambda: client.messages.destinations("acme", message.id).data[0].status_text == "fail", 15, "failure")
    failed_requests = len(receiver.requests)
    receiver.respond = lambda _r: Reply(status=200)

    result = cli("recover", "acme", endpoint_id, "--since", "1h", "--interval", "0.05")
    skip_if_route_missing(result)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "TASK", "STATUS", "DONE", "TOTAL", "UPDATED"]
    assert " finished " in lines[1]
    assert receiver.wait_for(failed_requests + 1)[-1].headers["webhook-id"] == message.id


def test_replay_json_and_no_wait(cli: Cli, acme: tuple[Client, str], receiver: Receiver) -> None:
    client, endpoint_id = acme
    client.endpoints.delete("acme", endpoint_id)
    message = client.messages.create("acme", "a.b", {"n": 1})
    endpoint_id = client.endpoints.create("acme", receiver.url()).id

    result = cli("replay", "acme", endpoint_id, "--since", "1h", "--no-wait", "--json")
    skip_if_route_missing(result)
    assert result.exit_code == 0, result.output
    task = json.loads(result.stdout)
    assert task["id"] and task["status"] in ("running", "finished")
    assert receiver.wait_for(1)[0].headers["webhook-id"] == message.id
    done = cli.json("replay", "acme", endpoint_id, "--since", "1h")
    assert done["status"] == "finished"


def test_durations_for_replay_and_prune_share_one_parser() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration(" 1.5h ") == timedelta(minutes=90)
    assert duration_seconds("30d") == 30 * 86400
    assert duration_seconds("45s") == 45  # prune knew only m, h and d
    assert duration_seconds("1w") == 7 * 86400
    for text in ("soon", "5", "5y", "-5m", ""):
        with pytest.raises(ValueError):
            parse_duration(text)
        with pytest.raises(click.BadParameter, match="use a number and a unit: 90s, 15m, 12h, 30d or 2w"):
            duration_seconds(text)


def test_bulk_replay_of_an_endpoint_and_of_the_application(
    cli: Cli, acme: tuple[Client, str], receiver: Receiver
) -> None:
    client, endpoint_id = acme
    second = client.endpoints.create("acme", receiver.url("/second")).id
    paid = client.messages.create("acme", "invoice.paid", {"n": 1})
    client.messages.create("acme", "invoice.voided", {"n": 2})
    receiver.wait_for(4)
    wait_until(lambda: all(len(client.attempts.list_by_endpoint("acme", e).data) == 2 for e in (endpoint_id, second)))

    task = cli.json("bulk-replay", "acme", endpoint_id, "--since", "1h", "--event-type", "invoice.paid")
    assert (task["task"], task["status"], task["data"]["total"]) == ("endpoint.bulk-replay", "finished", 1)
    again = receiver.wait_for(5)[4]
    assert (again.path, again.headers["webhook-id"]) == ("/hook", paid.id)

    lines = cli.ok("bulk-replay", "acme", "--since", "1h", "--status", "success", "--interval", "0.05").stdout
    [header, row] = lines.splitlines()
    assert header.split() == ["ID", "TASK", "STATUS", "DONE", "TOTAL", "UPDATED"]
    assert row.split()[1:5] == ["application.bulk-replay", "finished", "4", "4"]
    assert len(receiver.wait_for(9)) == 9
    nothing = cli.json("bulk-replay", "acme", "--since", "1h", "--channel", "eu", "--no-wait")
    assert nothing["data"]["total"] == 0


def test_bulk_replay_usage_errors(cli: Cli, acme: tuple[Client, str]) -> None:
    assert "Missing option '--since'" in assert_one_line_error(cli("bulk-replay", "acme"), exit_code=2)
    bad = assert_one_line_error(cli("bulk-replay", "acme", "--since", "1h", "--status", "lost"), exit_code=2)
    assert "Invalid value for '--status'" in bad
    missing = assert_one_line_error(cli("bulk-replay", "acme", "ep_nope", "--since", "1h"))
    assert missing.startswith("Error: 404 not_found")


def test_the_way_back_after_disabling_an_endpoint(hookline_factory, receiver: Receiver) -> None:
    """docs/cli.md: disabling fails a delivery waiting for a retry (as Svix does); after
    `endpoint enable`, `recover --since` resends it and `replay --since` sends what was published
    meanwhile, each once."""
    receiver.respond = lambda _r: Reply(status=500)
    with hookline_factory(retry_schedule=(1.5, 1.5)) as hl, Client(hl.url, ADMIN_TOKEN) as client:
        cli = Cli(hl.url)
        client.applications.create("Acme", uid="acme")
        endpoint_id = client.endpoints.create("acme", receiver.url(), uid="main").id

        def status(msg_id: str) -> str:
            return client.messages.destinations("acme", msg_id).data[0].status_text

        retried = client.messages.create("acme", "a.b", {"n": 1})
        receiver.wait_for(1)
        wait_until(lambda: status(retried.id) == "pending", 10, "a retry to be scheduled")
        cli.ok("endpoint", "disable", "acme", "main")
        published = client.messages.create("acme", "a.b", {"n": 2})
        wait_until(lambda: status(retried.id) == "fail", 10, "the waiting retry to fail")
        assert not client.messages.destinations("acme", published.id).data, "nothing is queued for it"
        assert len(receiver.requests) == 1, "no attempt to a disabled endpoint"

        receiver.respond = lambda _r: Reply(status=200)
        cli.ok("endpoint", "enable", "acme", "main")
        assert cli.json("recover", "acme", "main", "--since", "5m")["data"] == {"done": 1, "total": 1}
        assert cli.json("replay", "acme", "main", "--since", "5m")["data"] == {"done": 1, "total": 1}
        wait_until(lambda: status(retried.id) == status(published.id) == "success", 10, "both delivered")
        sent = [r.headers["webhook-id"] for r in receiver.requests]
        assert sorted(sent) == sorted([retried.id, retried.id, published.id])
        assert len(client.attempts.list_by_endpoint("acme", endpoint_id).data) == 3
