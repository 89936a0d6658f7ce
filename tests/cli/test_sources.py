"""``hookline source``: create, list, show, rotate-token, requests, replay."""

import hashlib
import hmac
import json
import re
import shlex
from pathlib import Path

import httpx
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import Receiver


def _local(cli: Cli, ingest_url: str) -> str:
    return cli.url + "/in/" + ingest_url.rsplit("/in/", 1)[1]


def test_source_lifecycle(cli: Cli, receiver: Receiver) -> None:
    created = cli.json("source", "create", "hooks", "--uid", "gh", "--type", "github", "--secret", "s")
    assert created["type"] == "github" and "/in/" in created["ingestUrl"]
    cli.ok("source", "create", "other", "--destination", receiver.url())
    listed = cli.json("source", "list")
    assert [s["name"] for s in listed] == ["hooks", "other"]
    shown = cli.json("source", "show", listed[1]["id"])
    assert [d["url"] for d in shown["destinations"]] == [receiver.url()]
    table = cli.ok("source", "list").stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "UID", "NAME"] and "gh" in table

    rotated = cli.json("source", "rotate-token", "gh")["ingestUrl"]
    assert rotated != created["ingestUrl"]

    url = _local(cli, shown["ingestUrl"])
    assert httpx.post(url, content=b"hello").status_code == 200
    (request,) = cli.json("source", "requests", listed[1]["id"])
    assert request["status"] == "accepted" and request["size"] == 5
    receiver.wait_for(1)
    cli.ok("source", "replay", listed[1]["id"], request["id"])
    receiver.wait_for(2)
    done = cli.json("source", "replay", listed[1]["id"], "--since", "1h")
    assert done["forwarded"] == 1
    receiver.wait_for(3)
    table = cli.ok("source", "replay", listed[1]["id"], "--since", "1h").stdout.splitlines()
    assert table[0].split() == ["FORWARDED", "UNROUTED", "REJECTED"] and table[1].split() == ["1", "0", "0"]
    receiver.wait_for(4)
    assert cli.json("source", "requests", listed[1]["id"], "--status", "rejected") == []


def test_source_errors_are_one_line(cli: Cli) -> None:
    line = assert_one_line_error(cli("source", "create", "x", "--type", "nope"))
    assert "type" in line
    assert_one_line_error(cli("source", "replay", "x"), exit_code=2)


def test_source_create_is_all_or_nothing(cli: Cli, receiver: Receiver) -> None:
    """A refused destination used to leave the source behind, with the destinations before it."""
    line = assert_one_line_error(
        cli("source", "create", "baddest", "--destination", receiver.url(), "--destination", "ftp://x")
    )
    assert "destinations" in line and "url" in line
    assert cli.json("source", "list") == []
    created = cli.json(
        "source", "create", "good", "--destination", receiver.url("/a"), "--destination", receiver.url("/b")
    )
    shown = cli.json("source", "show", created["id"])
    assert [d["url"] for d in shown["destinations"]] == [receiver.url("/a"), receiver.url("/b")]


def _documented(name: str) -> list[list[str]]:
    """The ``hookline source`` commands of a page's examples, in order (continuations joined,
    comments dropped), except those naming a REQUEST_ID."""
    text = (Path(__file__).parents[2] / "docs" / name).read_text()
    found = []
    for block in re.findall(r"```(?:bash|console)\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.removeprefix("$ ")
            if line.startswith("hookline source ") and "REQUEST_ID" not in line:
                found.append(shlex.split(line, comments=True)[1:])
    return found


def test_the_documented_source_commands_work_as_written(cli: Cli) -> None:
    """The docs named sources by their name, which no command takes: each failed with 404."""
    commands = _documented("receiving.md") + _documented("cli.md")
    assert len(commands) >= 7
    for command in commands:
        cli.ok(*command)


def test_source_update_changes_any_field_a_person_would(cli: Cli) -> None:
    """source update changed only the allow-list and the rate limit."""
    created = cli.json("source", "create", "hooks", "--uid", "gh", "--type", "github", "--secret", "old")
    url = _local(cli, created["ingestUrl"])
    updated = cli.json(
        "source", "update", "gh", "--name", "GitHub", "--uid", "github", "--metadata", "team=ci",
        "--response-status", "202", "--response-body", "thanks",
    )  # fmt: skip
    assert (updated["id"], updated["name"], updated["uid"], updated["metadata"]) == (
        created["id"], "GitHub", "github", {"team": "ci"}
    )  # fmt: skip
    assert updated["response"] == {"statusCode": 202, "contentType": "text/plain", "body": "thanks"}
    # One response option keeps the others as they were.
    kept = cli.json("source", "update", "github", "--response-content-type", "text/xml")["response"]
    assert kept == {"statusCode": 202, "contentType": "text/xml", "body": "thanks"}
    assert "response: 202 text/xml thanks" in cli.ok("source", "show", "github").stdout.splitlines()

    body = b'{"zen": "hi"}'
    signed = {"X-Hub-Signature-256": "sha256=" + hmac.new(b"new", body, hashlib.sha256).hexdigest()}
    assert httpx.post(url, content=body, headers=signed).status_code == 401  # still the old secret
    cli.ok("source", "update", "github", "--secret", "new")
    answer = httpx.post(url, content=body, headers={**signed, "X-GitHub-Event": "ping"})
    assert (answer.status_code, answer.text) == (202, "thanks")

    assert cli.json("source", "update", "github", "--default-response")["response"] is None
    moved = cli.json("source", "update", "github", "--type", "stripe", "--secret", "whsec_x")
    assert moved["type"] == "stripe"


def test_source_secret_is_for_provider_types(cli: Cli) -> None:
    """source create NAME --secret X failed with a 422 about config.secret for the default type."""
    line = assert_one_line_error(cli("source", "create", "hooks", "--secret", "x"), exit_code=2)
    assert "--secret is for provider types" in line and "generic-webhook" in line and "--config" in line
    assert cli.json("source", "list") == []
    hmac_config = json.dumps({"hmac": {"secret": "s", "header": "X-Signature"}})
    cli.ok("source", "create", "hooks", "--uid", "hooks", "--config", hmac_config)
    line = assert_one_line_error(cli("source", "update", "hooks", "--secret", "x"), exit_code=2)
    assert "--secret is for provider types" in line
    assert cli.json("source", "update", "hooks", "--type", "stripe", "--secret", "whsec_x")["type"] == "stripe"
    both = assert_one_line_error(cli("source", "update", "hooks", "--response-body", "x", "--default-response"), 2)
    assert "not both" in both
    nothing = assert_one_line_error(cli("source", "update", "hooks"), exit_code=2)
    assert nothing.startswith("Error: nothing to change: pass at least one of --name")


def test_a_source_not_found_by_name_says_source_is_its_id_or_uid(cli: Cli) -> None:
    """source show <name> answered only 'source not found'."""
    cli.ok("source", "create", "github-main", "--type", "github", "--secret", "s")
    for command in (["show"], ["update", "--name", "x"], ["rotate-token"], ["requests"], ["replay", "--since", "1h"]):
        line = assert_one_line_error(cli("source", command[0], "github-main", *command[1:]))
        assert line == (
            "Error: 404 not_found: source not found: SOURCE is the source's id (src_...) or its uid, "
            "not its name ('hookline source list' shows both)"
        ), command
    assert assert_one_line_error(cli("source", "show", "src_nope")) == "Error: 404 not_found: source not found"


def test_source_requests_prints_times_as_the_other_tables_do(cli: Cli) -> None:
    """source requests printed raw ISO times with microseconds."""
    created = cli.json("source", "create", "hooks", "--uid", "hooks")
    assert httpx.post(_local(cli, created["ingestUrl"]), content=b"hi").status_code == 200
    row = cli.ok("source", "requests", "hooks").stdout.splitlines()[1]
    assert re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  accepted  POST", row), row


def test_source_create_no_path_forwarding_sends_to_the_destination_urls_as_they_are(
    cli: Cli, receiver: Receiver
) -> None:
    created = cli.json(
        "source", "create", "plain", "--no-path-forwarding", "--destination", receiver.url("/a"),
        "--destination", receiver.url("/b"),
    )  # fmt: skip
    shown = cli.json("source", "show", created["id"])
    assert [(d["url"], d["pathForwardingDisabled"]) for d in shown["destinations"]] == [
        (receiver.url("/a"), True),
        (receiver.url("/b"), True),
    ]
    table = cli.ok("source", "show", created["id"]).stdout.splitlines()
    assert table[-3].split()[-2:] == ["PATH", "FORWARDING"] and table[-1].split()[-1] == "no"
    forwarding = cli.json("source", "create", "forwarding", "--destination", receiver.url("/c"))
    assert [d["pathForwardingDisabled"] for d in cli.json("source", "show", forwarding["id"])["destinations"]] == [
        False
    ]
    for source in (created, forwarding):
        assert httpx.post(_local(cli, source["ingestUrl"]) + "/orders?x=1", content=b"{}").status_code == 200
    receiver.wait_for(3)
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b", "/c/orders?x=1"]
    refused = cli("source", "create", "nothing", "--no-path-forwarding")
    assert refused.exit_code == 2 and "--destination" in refused.stderr


def test_a_stripe_source_made_without_its_secret_says_what_to_do(cli: Cli) -> None:
    """Stripe shows the secret only once it has the URL: create says the source waits for it."""
    out = cli.ok("source", "create", "donations", "--uid", "donations", "--type", "stripe").stdout
    assert "waiting for its signing secret" in out
    assert "'hookline source update src_" in out and "--secret ...'" in out
    assert cli.json("source", "show", "donations")["awaitingSecret"] is True
    assert "waiting for its signing secret" in cli.ok("source", "show", "donations").stdout
    cli.ok("source", "update", "donations", "--secret", "whsec_" + "a" * 32)
    assert "waiting" not in cli.ok("source", "show", "donations").stdout
    assert cli.json("source", "show", "donations")["awaitingSecret"] is False
