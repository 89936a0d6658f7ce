"""``hookline source destination``: list, add, update, remove a source's destinations, and their secrets.

Before it, destinations could only be given at ``source create`` and listed by ``source show``."""

import hashlib
import hmac
import json
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import Receiver

FILTER = {"payload": {"amount": {"$gte": 1000}}}


def _api(cli: Cli, path: str) -> Any:
    answer = httpx.get(f"{cli.url}/ingest/api/v1/source/{path}", headers={"Authorization": f"Bearer {cli.token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _push(cli: Cli, source: dict[str, Any], below: str, secret: bytes) -> None:
    """A GitHub push event, signed with ``secret``, to the source's ingest URL (the test server's port)."""
    url = cli.url + "/in/" + source["ingestUrl"].rsplit("/in/", 1)[1] + below
    content = b'{"ref": "refs/heads/main"}'
    headers = {
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret, content, hashlib.sha256).hexdigest(),
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-1",
    }
    answer = httpx.post(url, content=content, headers=headers)
    assert answer.status_code == 200, answer.text


def test_add_takes_what_a_destination_takes_and_list_shows_it(cli: Cli, receiver: Receiver) -> None:
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    assert cli.json("source", "destination", "list", "hooks") == []
    added = cli.json(
        "source", "destination", "add", "hooks", receiver.url("/a"), "--uid", "crm", "--description", "CRM",
        "--event-type", "push", "--event-type", "issues", "--channel", "eu", "--filter", json.dumps(FILTER),
        "--throttle-rate", "7", "--metadata", "team=ops", "--header", "X-Team: ops", "--fifo",
        "--fifo-on-exhausted", "block", "--key-type", "ed25519", "--disabled", "--no-path-forwarding",
    )  # fmt: skip
    assert (added["uid"], added["url"], added["description"]) == ("crm", receiver.url("/a"), "CRM")
    assert (added["eventTypes"], added["channels"], added["filter"]) == (["push", "issues"], ["eu"], FILTER)
    assert (added["throttleRate"], added["metadata"], added["disabled"]) == (7, {"team": "ops"}, True)
    assert (added["fifo"], added["fifoOnExhausted"], added["pathForwardingDisabled"]) == (True, "block", True)
    assert _api(cli, "hooks/endpoint/crm/headers")["headers"] == {"X-Team": "ops"}
    assert cli.json("source", "destination", "secret", "hooks", "crm")["key"].startswith("whsk_")

    plain = cli.json("source", "destination", "add", "hooks", receiver.url("/b"))
    assert (plain["pathForwardingDisabled"], plain["disabled"], plain["eventTypes"]) == (False, False, None)
    listed = cli.json("source", "destination", "list", "hooks")
    assert [d["id"] for d in listed] == [added["id"], plain["id"]]
    table = cli.ok("source", "destination", "list", "hooks").stdout.splitlines()
    assert table[0].split() == [
        "ID", "UID", "URL", "EVENT", "TYPES", "CHANNELS", "DISABLED", "CREATED", "PATH", "FORWARDING"
    ]  # fmt: skip
    assert table[1].split()[:3] == [added["id"], "crm", receiver.url("/a")] and table[1].split()[-1] == "no"
    assert table[2].split()[0] == plain["id"] and table[2].split()[-1] == "yes"
    assert cli.json("source", "destination", "list", "hooks", "--limit", "1") == listed[:1]


def test_update_changes_the_destination_in_place_and_the_next_webhook_goes_to_its_new_url(
    cli: Cli, receiver: Receiver
) -> None:
    source = cli.json("source", "create", "gh", "--uid", "gh", "--type", "github", "--secret", "s")
    added = cli.json(
        "source", "destination", "add", "gh", receiver.url("/old"), "--uid", "ci", "--event-type", "issues"
    )
    secret = cli.json("source", "destination", "secret", "gh", "ci")["key"]
    assert secret.startswith("whsec_")

    updated = cli.json(
        "source", "destination", "update", "gh", "ci", "--destination-url", receiver.url("/new"),
        "--event-type", "push", "--no-path-forwarding", "--description", "builds",
    )  # fmt: skip
    assert (updated["id"], updated["url"], updated["eventTypes"]) == (added["id"], receiver.url("/new"), ["push"])
    stored = _api(cli, f"{source['id']}/endpoint/{added['id']}")
    assert (stored["url"], stored["eventTypes"], stored["pathForwardingDisabled"]) == (
        receiver.url("/new"), ["push"], True
    )  # fmt: skip
    assert (stored["uid"], stored["description"]) == ("ci", "builds")
    assert _api(cli, f"{source['id']}/endpoint/{added['id']}/secret")["key"] == secret

    # Before the update this destination took only issues, at /old, with the path below.
    _push(cli, source, "/deep/path?x=1", b"s")
    (got,) = receiver.wait_for(1)
    assert got.path == "/new"
    Webhook(secret).verify(got.body, got.headers)  # signed with the secret it had before

    again = cli.json("source", "destination", "update", "gh", "ci", "--path-forwarding", "--any-event-type")
    assert (again["pathForwardingDisabled"], again["eventTypes"], again["id"]) == (False, None, added["id"])


def test_update_sends_only_the_options_given_and_the_no_options_clear(cli: Cli, receiver: Receiver) -> None:
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    cli.ok(
        "source", "destination", "add", "hooks", receiver.url(), "--uid", "main", "--channel", "eu",
        "--filter", json.dumps(FILTER), "--throttle-rate", "3", "--metadata", "team=ops", "--disabled",
    )  # fmt: skip
    kept = cli.json("source", "destination", "update", "hooks", "main", "--enabled", "--fifo")
    assert (kept["disabled"], kept["fifo"], kept["channels"], kept["filter"]) == (False, True, ["eu"], FILTER)
    assert (kept["throttleRate"], kept["metadata"], kept["url"]) == (3, {"team": "ops"}, receiver.url())
    cleared = cli.json(
        "source", "destination", "update", "hooks", "main", "--any-channel", "--no-filter", "--no-throttle-rate",
        "--no-metadata", "--no-fifo", "--disabled",
    )  # fmt: skip
    assert (cleared["channels"], cleared["filter"], cleared["throttleRate"], cleared["metadata"]) == (None,) * 3 + ({},)
    assert (cleared["fifo"], cleared["disabled"], cleared["uid"]) == (False, True, "main")
    no_uid = cli.json("source", "destination", "update", "hooks", "main", "--no-uid")
    assert no_uid["uid"] is None and no_uid["id"] == cleared["id"]

    nothing = assert_one_line_error(cli("source", "destination", "update", "hooks", cleared["id"]), exit_code=2)
    assert nothing.startswith("Error: nothing to change: pass at least one of --destination-url, --event-type")
    both = assert_one_line_error(
        cli("source", "destination", "update", "hooks", cleared["id"], "--uid", "x", "--no-uid"), exit_code=2
    )
    assert "pass --uid or --no-uid, not both" in both


def test_remove_asks_first_unless_yes(cli: Cli, receiver: Receiver) -> None:
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    cli.ok("source", "destination", "add", "hooks", receiver.url("/a"), "--uid", "a")
    kept = cli("source", "destination", "remove", "hooks", "a", input="n\n")
    assert kept.exit_code == 1 and "Delete destination a of source hooks?" in kept.stderr
    assert [d["uid"] for d in cli.json("source", "destination", "list", "hooks")] == ["a"]
    removed = cli("source", "destination", "remove", "hooks", "a", input="y\n")
    assert removed.exit_code == 0 and removed.stdout.splitlines()[-1].split() == ["a", "yes"]
    cli.ok("source", "destination", "add", "hooks", receiver.url("/b"), "--uid", "b")
    assert cli.json("source", "destination", "remove", "hooks", "b", "--yes") == {"deleted": True, "id": "b"}
    assert cli.json("source", "destination", "list", "hooks") == []
    assert cli.json("source", "show", "hooks")["destinations"] == []
    gone = assert_one_line_error(cli("source", "destination", "remove", "hooks", "b", "--yes"))
    assert gone.startswith("Error: 404 not_found")


def test_secret_and_rotate_secret(cli: Cli, receiver: Receiver) -> None:
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    cli.ok("source", "destination", "add", "hooks", receiver.url(), "--uid", "main")
    first = cli.json("source", "destination", "secret", "hooks", "main")["key"]
    assert cli.ok("source", "destination", "secret", "hooks", "main").stdout.split() == ["KEY", first]
    rotated = cli.json("source", "destination", "rotate-secret", "hooks", "main", "--grace-period", "0")["key"]
    assert rotated.startswith("whsec_") and rotated != first
    assert _api(cli, "hooks/endpoint/main/secret")["key"] == rotated
    chosen = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert cli.json("source", "destination", "rotate-secret", "hooks", "main", "--key", chosen)["key"] == chosen
    signing_key = cli.json("source", "destination", "rotate-secret", "hooks", "main", "--key-type", "ed25519")["key"]
    assert signing_key.startswith("whsk_") and _api(cli, "hooks/endpoint/main/secret")["key"] == signing_key
    both = assert_one_line_error(
        cli("source", "destination", "rotate-secret", "hooks", "main", "--key", chosen, "--key-type", "hmac"), 2
    )
    assert "pass --key or --key-type, not both" in both


def test_an_unknown_source_or_destination_is_one_line(cli: Cli, receiver: Receiver) -> None:
    commands = (
        ["list"], ["add", receiver.url()], ["update", "main", "--description", "x"], ["remove", "main", "--yes"],
        ["secret", "main"], ["rotate-secret", "main"],
    )  # fmt: skip
    for command in commands:
        line = assert_one_line_error(cli("source", "destination", command[0], "nope", *command[1:]))
        assert line.startswith("Error: 404 not_found: source not found: SOURCE is the source's id"), command
        assert assert_one_line_error(cli("source", "destination", command[0], "src_nope", *command[1:])) == (
            "Error: 404 not_found: source not found"
        )
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    for command in commands[2:]:
        line = assert_one_line_error(cli("source", "destination", command[0], "hooks", *command[1:]))
        assert line.startswith("Error: 404 not_found"), command


def test_bad_options_are_refused_on_one_line(cli: Cli, receiver: Receiver) -> None:
    cli.ok("source", "create", "hooks", "--uid", "hooks")
    cli.ok("source", "destination", "add", "hooks", receiver.url(), "--uid", "main")
    add = ["source", "destination", "add", "hooks", receiver.url()]
    update = ["source", "destination", "update", "hooks", "main"]
    not_json = assert_one_line_error(cli(*add, "--filter", "{amount"), exit_code=2)
    assert "'--filter'" in not_json
    not_object = assert_one_line_error(cli(*update, "--filter", "[1]"), exit_code=2)
    assert "'--filter'" in not_object and "JSON object" in not_object
    bad_operator = assert_one_line_error(cli(*add, "--filter", '{"a": {"$nope": 1}}'))
    assert bad_operator.startswith("Error: 422 validation: filter")
    header = assert_one_line_error(cli(*add, "--header", "X-Team"), exit_code=2)
    assert "'X-Team' is not NAME: VALUE" in header
    metadata = assert_one_line_error(cli(*add, "--metadata", "team"), exit_code=2)
    assert "'team' is not KEY=VALUE" in metadata
    secret_and_kind = assert_one_line_error(cli(*add, "--secret", "whsec_" + "A" * 32, "--key-type", "hmac"), 2)
    assert "pass --secret or --key-type, not both" in secret_and_kind
    bad_url = assert_one_line_error(cli("source", "destination", "add", "hooks", "ftp://x"))
    assert bad_url.startswith("Error: 422 validation: url")
    both = assert_one_line_error(cli(*update, "--event-type", "a", "--any-event-type"), exit_code=2)
    assert "pass --event-type or --any-event-type, not both" in both
    assert [d["uid"] for d in cli.json("source", "destination", "list", "hooks")] == ["main"]
    assert cli.json("source", "destination", "list", "hooks")[0]["filter"] is None
