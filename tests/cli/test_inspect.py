"""``hookline inspect``: capture URLs as the CLI shows them."""

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
