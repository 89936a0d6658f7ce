"""``hookline app``, ``endpoint`` and ``event-type``."""

import re

from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import Receiver


def test_app_create_and_list(cli: Cli) -> None:
    created = cli.ok("app", "create", "Acme Inc", "--uid", "acme").stdout.splitlines()
    assert created[0].split() == ["ID", "UID", "NAME", "CREATED"]
    assert created[1].startswith("app_") and " acme " in created[1] and "Acme Inc" in created[1]
    cli.ok("app", "create", "Other")
    listed = cli.json("app", "list")
    assert [a["name"] for a in listed] == ["Acme Inc", "Other"] and listed[0]["uid"] == "acme"
    assert len(cli.json("app", "list", "--limit", "1")) == 1
    again = cli.json("app", "create", "Renamed", "--uid", "acme", "--get-if-exists")
    assert again["id"] == listed[0]["id"] and again["name"] == "Acme Inc"


def test_app_create_usage_error(cli: Cli) -> None:
    line = assert_one_line_error(cli("app", "create", "Acme", "--get-if-exists"), exit_code=2)
    assert "--get-if-exists needs --uid" in line


def test_endpoint_create_list_secret_rotate(cli: Cli, receiver: Receiver) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    table = cli.ok(
        "endpoint", "create", "acme", receiver.url(), "--event-type", "a.b", "--event-type", "c.d", "--uid", "main"
    ).stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "UID", "URL"]
    assert receiver.url() in table and "a.b, c.d" in table
    [endpoint] = cli.json("endpoint", "list", "acme")
    assert endpoint["uid"] == "main" and endpoint["eventTypes"] == ["a.b", "c.d"]
    secret = cli.json("endpoint", "secret", "acme", "main")["key"]
    assert secret.startswith("whsec_")
    rotated = cli.ok("endpoint", "rotate-secret", "acme", "main", "--grace-period", "0").stdout.splitlines()
    assert rotated[0] == "KEY" and rotated[1].startswith("whsec_") and rotated[1] != secret
    assert cli.json("endpoint", "secret", "acme", "main")["key"] == rotated[1]


def test_endpoint_rotate_secret_to_another_key_type(cli: Cli, receiver: Receiver) -> None:
    """rotate-secret had no --key-type: an endpoint could not move to an Ed25519 key, or back."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    cli.ok("endpoint", "create", "acme", receiver.url(), "--uid", "main")
    signing_key = cli.json("endpoint", "rotate-secret", "acme", "main", "--key-type", "ed25519")
    assert signing_key["key"].startswith("whsk_")
    assert cli.json("endpoint", "secret", "acme", "main") == signing_key
    cli.ok("send", "acme", "--event-type", "a.b", input='{"n": 1}')
    # The old HMAC secret keeps signing through the grace period, beside the new key.
    signatures = receiver.wait_for(1)[0].headers["webhook-signature"].split(" ")
    assert sorted(s.split(",")[0] for s in signatures) == ["v1", "v1a"]
    assert cli.json("endpoint", "rotate-secret", "acme", "main", "--key-type", "hmac")["key"].startswith("whsec_")
    line = assert_one_line_error(
        cli("endpoint", "rotate-secret", "acme", "main", "--key", "whsec_" + "A" * 32, "--key-type", "hmac"), 2
    )
    assert "pass --key or --key-type, not both" in line
    bad = assert_one_line_error(cli("endpoint", "rotate-secret", "acme", "main", "--key-type", "rsa"), 2)
    assert "'--key-type'" in bad and "'rsa' is not one of 'hmac', 'ed25519'" in bad


def test_endpoint_create_rejected_by_the_server(cli: Cli) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    line = assert_one_line_error(cli("endpoint", "create", "acme", "ftp://nope"))
    assert line.startswith("Error: 422 validation: url:")


def test_event_types(cli: Cli) -> None:
    created = cli.ok("event-type", "create", "invoice.paid", "--description", "An invoice was paid").stdout
    assert created.splitlines()[1].startswith("invoice.paid  An invoice was paid  no")
    cli.ok("event-type", "create", "invoice.voided")
    assert [t["name"] for t in cli.json("event-type", "list")] == ["invoice.paid", "invoice.voided"]
    line = assert_one_line_error(cli("event-type", "create", "invoice.paid"))
    assert line.startswith("Error: 409 conflict")


def test_app_update_changes_only_what_is_given(cli: Cli) -> None:
    created = cli.json("app", "create", "Acme", "--uid", "acme")
    updated = cli.json("app", "update", "acme", "--name", "Acme Inc", "--metadata", "tier=gold", "--throttle-rate", "5")
    assert (updated["id"], updated["uid"], updated["name"]) == (created["id"], "acme", "Acme Inc")
    assert updated["metadata"] == {"tier": "gold"} and updated["throttleRate"] == 5
    table = cli.ok("app", "update", "acme", "--uid", "acme-inc").stdout.splitlines()
    assert table[1].split()[:2] == [created["id"], "acme-inc"]
    assert cli.json("app", "list")[0]["name"] == "Acme Inc"


def test_app_update_removes_the_throttle_rate(cli: Cli) -> None:
    """app update could set a throttle rate but never remove one."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    assert cli.json("app", "update", "acme", "--throttle-rate", "5")["throttleRate"] == 5
    removed = cli.json("app", "update", "acme", "--no-throttle-rate")
    assert removed["throttleRate"] is None and removed["name"] == "Acme"
    assert cli.json("app", "list")[0]["throttleRate"] is None
    both = assert_one_line_error(cli("app", "update", "acme", "--throttle-rate", "5", "--no-throttle-rate"), 2)
    assert "pass --throttle-rate or --no-throttle-rate, not both" in both
    assert "--no-throttle-rate" in cli.ok("app", "update", "--help").stdout


def test_app_update_removes_the_uid_and_the_metadata(cli: Cli) -> None:
    """--uid and --metadata could be replaced, never removed."""
    made = cli.json("app", "create", "Acme", "--uid", "acme")
    cli.ok("app", "update", "acme", "--metadata", "tier=gold")
    cleared = cli.json("app", "update", "acme", "--no-uid", "--no-metadata")
    assert cleared["uid"] is None and cleared["metadata"] == {} and cleared["name"] == "Acme"
    assert cli.json("app", "list")[0]["id"] == made["id"]
    both = assert_one_line_error(cli("app", "update", made["id"], "--uid", "x", "--no-uid"), 2)
    assert "pass --uid or --no-uid, not both" in both
    both = assert_one_line_error(cli("app", "update", made["id"], "--metadata", "a=b", "--no-metadata"), 2)
    assert "pass --metadata or --no-metadata, not both" in both


def test_app_update_usage_errors(cli: Cli) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    nothing = assert_one_line_error(cli("app", "update", "acme"), exit_code=2)
    assert "nothing to change: pass at least one of --name" in nothing
    bad = assert_one_line_error(cli("app", "update", "acme", "--metadata", "tier"), exit_code=2)
    assert "'tier' is not KEY=VALUE" in bad
    assert assert_one_line_error(cli("app", "update", "nope", "--name", "x")).startswith("Error: 404 not_found")


def test_app_delete_asks_first(cli: Cli) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    refused = cli("app", "delete", "acme", input="n\n")
    assert refused.exit_code == 1 and "Delete application acme" in refused.stderr
    assert len(cli.json("app", "list")) == 1
    assert cli.json("app", "delete", "acme", "--yes") == {"deleted": True, "id": "acme"}
    assert cli.json("app", "list") == []
    assert assert_one_line_error(cli("app", "delete", "acme", "--yes")).startswith("Error: 404 not_found")


def test_app_disable_and_enable_switch_every_endpoint(cli: Cli, receiver: Receiver) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    first = cli.json("endpoint", "create", "acme", receiver.url("/1"))["id"]
    second = cli.json("endpoint", "create", "acme", receiver.url("/2"))["id"]
    cli.ok("endpoint", "disable", "acme", second)
    assert [e["id"] for e in cli.json("app", "disable", "acme")] == [first]  # the ones it changed
    assert [e["disabled"] for e in cli.json("endpoint", "list", "acme")] == [True, True]
    enabled = cli.ok("app", "enable", "acme").stdout.splitlines()
    assert len(enabled) == 3 and all(line.split()[-3] == "no" for line in enabled[1:])
    assert [e["disabled"] for e in cli.json("endpoint", "list", "acme")] == [False, False]


def test_endpoint_update_disable_enable_delete(cli: Cli, receiver: Receiver) -> None:
    cli.ok("app", "create", "Acme", "--uid", "acme")
    created = cli.json("endpoint", "create", "acme", receiver.url(), "--uid", "main", "--description", "old")
    changed = cli.json(
        "endpoint",
        "update",
        "acme",
        "main",
        "--endpoint-url",
        receiver.url("/v2"),
        "--event-type",
        "a.b",
        "--channel",
        "eu",
    )
    assert changed["id"] == created["id"] and changed["url"] == receiver.url("/v2")
    assert changed["eventTypes"] == ["a.b"] and changed["channels"] == ["eu"] and changed["description"] == "old"
    assert cli.json("endpoint", "update", "acme", "main", "--throttle-rate", "3")["throttleRate"] == 3

    disabled = cli.ok("endpoint", "disable", "acme", "main").stdout.splitlines()
    assert disabled[1].split()[:2] == [created["id"], "main"] and " yes " in disabled[1]
    assert cli.json("endpoint", "enable", "acme", "main")["disabled"] is False

    assert "nothing to change" in assert_one_line_error(cli("endpoint", "update", "acme", "main"), exit_code=2)
    bad_url = assert_one_line_error(cli("endpoint", "update", "acme", "main", "--endpoint-url", "ftp://nope"))
    assert bad_url.startswith("Error: 422 validation: url:")

    assert cli("endpoint", "delete", "acme", "main", input="n\n").exit_code == 1
    assert cli.json("endpoint", "delete", "acme", "main", "--yes") == {"deleted": True, "id": "main"}
    assert cli.json("endpoint", "list", "acme") == []


def test_endpoint_list_says_what_each_endpoint_is_subscribed_to(cli: Cli, receiver: Receiver) -> None:
    """An endpoint on one channel was listed as EVENT TYPES all, with no channels column."""
    cli.ok("app", "create", "Acme", "--uid", "acme")
    cli.ok("endpoint", "create", "acme", receiver.url("/every"), "--uid", "every")
    cli.ok("endpoint", "create", "acme", receiver.url("/types"), "--uid", "types", "--event-type", "a.b")
    cli.ok("endpoint", "create", "acme", receiver.url("/eu"), "--uid", "eu", "--channel", "eu", "--channel", "us")
    cli.ok(
        "endpoint", "create", "acme", receiver.url("/both"), "--uid", "both", "--event-type", "a.b", "--channel", "eu"
    )
    header, *rows = cli.ok("endpoint", "list", "acme").stdout.splitlines()
    assert header.split()[3:7] == ["EVENT", "TYPES", "CHANNELS", "DISABLED"]
    subscribed = {row.split()[1]: re.split(r"\s{2,}", row)[3:5] for row in rows}
    assert subscribed == {
        "every": ["all", "all"],
        "types": ["a.b", "any"],
        "eu": ["any", "eu, us"],
        "both": ["a.b", "eu"],
    }


def test_app_list_cuts_a_long_name_but_json_has_it_whole(cli: Cli) -> None:
    """A 5,000-character name, which the API accepts, made app list unreadable."""
    cli.ok("app", "create", "n" * 5000, "--uid", "long")
    _header, row = cli.ok("app", "list").stdout.splitlines()
    assert "n" * 99 + "…" in row and "n" * 100 not in row and len(row) < 200
    assert cli.json("app", "list")[0]["name"] == "n" * 5000


def test_json_output_escapes_what_a_terminal_would_act_on(cli: Cli) -> None:
    """JSON escapes only C0 controls: a name with a C1 CSI (U+009B), which some terminals take as
    ESC [, or a right-to-left override, reached the terminal raw with --json."""
    name = "evil\x9b31m \u202eexe.txt \x7f"
    cli.ok("app", "create", name, "--uid", "odd")
    out = cli.ok("app", "list", "--json").stdout
    assert not any(c in out for c in "\x9b\u202e\x7f")
    assert "\\u009b31m" in out and "\\u202e" in out
    assert cli.json("app", "list")[0]["name"] == name
