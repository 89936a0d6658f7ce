"""Run the ``hookline`` command in-process against a real server."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.support.servers import ADMIN_TOKEN, Receiver

from hookline import Client
from hookline.cli import main


@dataclass
class Cli:
    url: str
    token: str = ADMIN_TOKEN

    def __call__(self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
        environment = {"HOOKLINE_URL": self.url, "HOOKLINE_TOKEN": self.token, **(env or {})}
        return CliRunner().invoke(main, list(args), input=input, env=environment)

    def ok(self, *args: str, input: str | bytes | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str, input: str | bytes | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", input=input).stdout)


def assert_one_line_error(result: Result, exit_code: int = 1) -> str:
    """The command failed with ``exit_code`` and said why on one line, without a traceback."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # usage errors too (exit 2): no usage line, hint or blank line
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def cli(hookline) -> Cli:
    return Cli(hookline.url)


@pytest.fixture
def acme(hookline, receiver: Receiver) -> Iterator[tuple[Client, str]]:
    """An application ``acme`` with one endpoint posting to ``receiver``: (client, endpoint id)."""
    with Client(hookline.url, ADMIN_TOKEN) as client:
        client.applications.create("Acme", uid="acme")
        yield client, client.endpoints.create("acme", receiver.url()).id
