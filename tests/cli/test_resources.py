"""``hookline app``, ``endpoint`` and ``event-type``."""

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
