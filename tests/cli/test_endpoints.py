"""``hookline endpoint create`` and ``update``: every field the endpoint API takes, and removing one."""

import json

import httpx
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import Receiver

FILTER = {"payload": {"amount": {"$gte": 1000}}}


def test_endpoint_create_takes_what_the_api_takes(cli: Cli, receiver: Receiver) -> None:
    """create had no --filter, --fifo, --metadata, --throttle-rate, --header, --key-type or --disabled."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    created = cli.json(
        "endpoint", "create", "acme", receiver.url(), "--uid", "ledger",
        "--filter", json.dumps(FILTER), "--fifo", "--fifo-on-exhausted", "block",
        "--metadata", "team=billing", "--throttle-rate", "7", "--header", "X-Team: billing",
        "--key-type", "ed25519", "--disabled",
    )  # fmt: skip
    assert created["filter"] == FILTER and created["fifo"] is True and created["fifoOnExhausted"] == "block"
    assert created["metadata"] == {"team": "billing"} and created["throttleRate"] == 7 and created["disabled"] is True
    assert cli.json("endpoint", "secret", "acme", "ledger")["key"].startswith("whsk_")
    headers = httpx.get(
        cli.url + "/api/v1/app/acme/endpoint/ledger/headers", headers={"Authorization": f"Bearer {cli.token}"}
    ).json()["headers"]
    assert headers == {"X-Team": "billing"}


def test_endpoint_update_sets_and_removes_restrictions(cli: Cli, receiver: Receiver) -> None:
    """Nothing could remove an endpoint's event types, channels or throttle rate, or set a filter or FIFO."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    cli.ok("endpoint", "create", "acme", receiver.url(), "--uid", "main", "--event-type", "a.b", "--channel", "eu")
    cli.ok("endpoint", "update", "acme", "main", "--throttle-rate", "3")
    changed = cli.json(
        "endpoint", "update", "acme", "main", "--filter", json.dumps(FILTER), "--fifo", "--fifo-on-exhausted", "block"
    )
    assert changed["filter"] == FILTER and changed["fifo"] is True and changed["fifoOnExhausted"] == "block"
    assert changed["eventTypes"] == ["a.b"] and changed["channels"] == ["eu"] and changed["throttleRate"] == 3

    cleared = cli.json(
        "endpoint", "update", "acme", "main",
        "--any-event-type", "--any-channel", "--no-throttle-rate", "--no-filter", "--no-fifo",
    )  # fmt: skip
    assert (cleared["eventTypes"], cleared["channels"], cleared["throttleRate"], cleared["filter"]) == (None,) * 4
    assert cleared["fifo"] is False
    row = cli.ok("endpoint", "list", "acme").stdout.splitlines()[1].split()
    assert row[3:5] == ["all", "all"]


def test_endpoint_update_removes_the_uid_and_the_metadata(cli: Cli, receiver: Receiver) -> None:
    """--uid and --metadata could be replaced, never removed."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    cli.ok("endpoint", "create", "acme", receiver.url(), "--uid", "main", "--metadata", "team=ops")
    cleared = cli.json("endpoint", "update", "acme", "main", "--no-uid", "--no-metadata")
    assert cleared["uid"] is None and cleared["metadata"] == {} and cleared["url"] == receiver.url()
    for given, clear in (("--uid", "--no-uid"), ("--metadata", "--no-metadata")):
        value = "x" if given == "--uid" else "a=b"
        line = assert_one_line_error(cli("endpoint", "update", "acme", cleared["id"], given, value, clear), 2)
        assert f"pass {given} or {clear}, not both" in line


def test_endpoint_options_that_cannot_be_honoured_are_refused(cli: Cli, receiver: Receiver) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    cli.ok("endpoint", "create", "acme", receiver.url(), "--uid", "main")
    both = assert_one_line_error(
        cli("endpoint", "update", "acme", "main", "--event-type", "a.b", "--any-event-type"), exit_code=2
    )
    assert "pass --event-type or --any-event-type, not both" in both
    for first, second in (("--channel", "eu"), ("--throttle-rate", "3"), ("--filter", "{}")):
        clear = {"--channel": "--any-channel", "--throttle-rate": "--no-throttle-rate", "--filter": "--no-filter"}
        line = assert_one_line_error(cli("endpoint", "update", "acme", "main", first, second, clear[first]), 2)
        assert f"pass {first} or {clear[first]}, not both" in line
    not_json = assert_one_line_error(cli("endpoint", "update", "acme", "main", "--filter", "{amount"), exit_code=2)
    assert "'--filter'" in not_json
    not_object = assert_one_line_error(cli("endpoint", "create", "acme", receiver.url(), "--filter", "[1]"), 2)
    assert "'--filter'" in not_object and "JSON object" in not_object
    bad_operator = assert_one_line_error(cli("endpoint", "update", "acme", "main", "--filter", '{"a": {"$nope": 1}}'))
    assert bad_operator.startswith("Error: 422 validation: filter")
    secret_and_kind = assert_one_line_error(
        cli("endpoint", "create", "acme", receiver.url(), "--secret", "whsec_" + "A" * 32, "--key-type", "ed25519"), 2
    )
    assert "pass --secret or --key-type, not both" in secret_and_kind
    header = assert_one_line_error(cli("endpoint", "create", "acme", receiver.url(), "--header", "X-Team"), 2)
    assert "'X-Team' is not NAME: VALUE" in header
    empty = assert_one_line_error(cli("endpoint", "update", "acme", "main", "--event-type", ""))
    assert empty.startswith("Error: 422 validation: eventTypes")
    assert cli.json("endpoint", "list", "acme")[0]["eventTypes"] is None
