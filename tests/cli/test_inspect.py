"""``hookline inspect``: capture URLs as the CLI shows them."""

import re

import httpx
from tests.cli.conftest import Cli


def test_inspect_delete_asks_first_as_app_delete_does(cli: Cli) -> None:
    """inspect delete BIN deleted without asking, unlike app delete and endpoint delete."""
    created = cli.json("inspect", "new")
    refused = cli("inspect", "delete", created["id"], input="n\n")
    assert refused.exit_code == 1 and f"Delete capture URL {created['id']}" in refused.stderr
    no_terminal = cli("inspect", "delete", created["id"])  # nothing on stdin: no answer, no deletion, no hang
    assert no_terminal.exit_code == 1
    assert [b["id"] for b in cli.json("inspect", "list")] == [created["id"]]
    assert httpx.post(created["url"], content=b"hi").status_code == 200
    assert cli.ok("inspect", "delete", created["id"], input="y\n").stdout.strip() == f"deleted {created['id']}"
    again = cli.json("inspect", "new")
    assert cli.json("inspect", "delete", again["id"], "--yes") == {"deleted": again["id"]}
    assert cli.json("inspect", "list") == []


TIME = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b")
ISO = re.compile(r"\d{4}-\d\d-\d\dT|:\d\d\.\d|\+00:00")


def test_inspect_tables_print_times_as_the_other_tables_do(cli: Cli) -> None:
    """inspect list and inspect requests printed raw ISO times with microseconds."""
    created = cli.json("inspect", "new", "--name", "n" * 200)
    assert httpx.post(created["url"], content=b"hi").status_code == 200
    for args in (["list"], ["requests", created["id"]]):
        row = cli.ok("inspect", *args).stdout.splitlines()[1]
        assert TIME.search(row) and not ISO.search(row), row
    listed = cli.ok("inspect", "list").stdout.splitlines()[1]
    assert "n" * 99 + "…" in listed and "n" * 100 not in listed
    assert cli.json("inspect", "list")[0]["name"] == "n" * 200
