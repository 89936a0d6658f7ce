"""Exit codes and error lines shared by every client command: 0 success, 1 failure, 2 usage."""

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.servers import ADMIN_TOKEN, free_port

from hookline.cli import main

COMMANDS = (
    "app",
    "endpoint",
    "event-type",
    "send",
    "messages",
    "attempts",
    "tail",
    "resend",
    "recover",
    "replay",
    "bulk-replay",
)


def test_help_lists_every_client_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in (*COMMANDS, "verify"):
        assert f"  {name} " in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["app", "list"],
        ["endpoint", "list", "acme"],
        ["messages", "acme"],
        ["tail", "acme", "--max-seconds", "1"],
        ["recover", "acme", "ep_1", "--since", "1h"],
    ],
)
def test_server_down_is_one_line(args: list[str]) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, [*args, "--url", down, "--token", "t"], env={"HOOKLINE_URL": None})
    line = assert_one_line_error(result)
    assert line.startswith(f"Error: connection_error: cannot reach {down}")


def test_no_token_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["app", "list"], env={"HOOKLINE_TOKEN": None, "HOOKLINE_URL": None})
    assert "no API token: pass --token or set HOOKLINE_TOKEN" in assert_one_line_error(result, exit_code=2)


@pytest.mark.parametrize(
    ("url", "token", "start"),
    [
        ("http://[::1", "t", "Error: invalid_url: 'http://[::1' is not a server URL"),
        ("ftp://example.com", "t", "Error: invalid_url: 'ftp://example.com' is not a server URL"),
        ("localhost:8071", "t", "Error: invalid_url: 'localhost:8071' is not a server URL"),
        ("http://127.0.0.1:1", "tök", "Error: invalid_token:"),
        ("http://127.0.0.1:1", "two words", "Error: invalid_token:"),
    ],
)
def test_a_malformed_url_or_token_is_one_line(url: str, token: str, start: str) -> None:
    result = CliRunner().invoke(main, ["app", "list", "--url", url, "--token", token], env={"HOOKLINE_URL": None})
    assert assert_one_line_error(result).startswith(start)


def test_flags_win_over_the_environment(hookline) -> None:
    env = {"HOOKLINE_URL": f"http://127.0.0.1:{free_port()}", "HOOKLINE_TOKEN": "wrong"}
    result = CliRunner().invoke(main, ["app", "list", "--url", hookline.url, "--token", ADMIN_TOKEN], env=env)
    assert result.exit_code == 0, result.output


def test_a_bad_token_fails(cli: Cli) -> None:
    line = assert_one_line_error(cli("app", "list", "--token", "wrong"))
    assert line.startswith("Error: 401 ")


def test_unknown_app(cli: Cli) -> None:
    assert assert_one_line_error(cli("endpoint", "list", "nope")) == "Error: 404 not_found: application not found"


@pytest.mark.parametrize(
    "args",
    [
        ["app", "list", "--limit", "0"],
        ["app", "frobnicate"],
        ["endpoint", "create", "acme"],
        ["messages"],
        ["tail", "acme", "--count", "0"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert_one_line_error(CliRunner().invoke(main, args, env={"HOOKLINE_TOKEN": "t"}), exit_code=2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["app", "list", "--limit", "0"], "Error: Invalid value for '--limit': 0 is not in the range 1<=x<=1000000."),
        (["endpoint", "create", "acme"], "Error: Missing argument 'URL'. See 'hookline endpoint create --help'."),
        (["--bogus"], "Error: No such option '--bogus'. See 'hookline --help'."),
    ],
)
def test_a_usage_error_is_exactly_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args, env={"HOOKLINE_TOKEN": "t"}, prog_name="hookline")
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_a_group_alone_still_prints_its_help() -> None:
    result = CliRunner().invoke(main, ["endpoint"])
    assert "Commands:" in result.output


def test_the_admin_token_of_the_quickstart_is_used_when_there_is_no_token(hookline) -> None:
    env = {"HOOKLINE_URL": hookline.url, "HOOKLINE_TOKEN": None, "HOOKLINE_ADMIN_TOKEN": ADMIN_TOKEN}
    result = CliRunner().invoke(main, ["app", "list"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:4] == ["ID", "UID", "NAME", "CREATED"]


def test_hookline_token_wins_over_the_admin_token(hookline) -> None:
    env = {"HOOKLINE_URL": hookline.url, "HOOKLINE_TOKEN": "wrong", "HOOKLINE_ADMIN_TOKEN": ADMIN_TOKEN}
    assert assert_one_line_error(CliRunner().invoke(main, ["app", "list"], env=env)).startswith("Error: 401 ")


def test_a_missing_ssl_cert_file_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nowhere/ca.pem")
    result = CliRunner().invoke(main, ["app", "list", "--url", "https://127.0.0.1:9", "--token", ADMIN_TOKEN])
    assert "cannot set up TLS (SSL_CERT_FILE=/nowhere/ca.pem)" in assert_one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [
        ["app", "list", "--timeout", "nan"],
        ["app", "list", "--timeout", "-1"],
        ["app", "list", "--timeout", "1e30"],
        ["app", "list", "--limit", "99999999999999999999999"],
        ["tail", "acme", "--interval", "nan"],
        ["tail", "acme", "--since", "99999999999w"],
        ["inspect", "new", "--delay", "nan"],
        ["recover", "acme", "ep", "--since", "1h", "--interval", "inf"],
    ],
)
def test_numbers_no_timer_can_use_are_usage_errors(args: list[str]) -> None:
    """Found by fuzzing: nan, inf and overflowing values passed click's ranges, then ended in a
    traceback from the timer, sleep or request they went to."""
    result = CliRunner().invoke(main, [*args, "--url", "http://127.0.0.1:1", "--token", "t"])
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["send", "app"], b'{"eventType": "a", "payload": {"x": NaN}}', "NaN is not a JSON number"),
        (["send", "app"], b'{"eventType": "a", "payload": {"x": -Infinity}}', "-Infinity is not a JSON number"),
        (["send", "app"], b'{"eventType": "a", "payload": {"x": 1e400}}', "1e400 is too large a number"),
        (["send", "app", "--event-type", "a"], b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (["send", "app"], b"\xff\xfe{}", "is not UTF-8 text"),
        (["event-type", "import", "-"], b"\xff\xfeopenapi: 3.1.0", "is not UTF-8 text"),
        (["source", "create", "n", "--type", "github", "--config", '{"secret": NaN}'], b"", "NaN is not"),
    ],
)
def test_input_no_request_can_carry_is_a_usage_error(args: list[str], stdin: bytes, message: str) -> None:
    # Each used to end in a traceback from the JSON encoder, the parser or the decoder.
    down = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, [*args, "--url", down, "--token", "t"], input=stdin, env={"HOOKLINE_URL": None})
    assert message in assert_one_line_error(result, exit_code=2)


def test_an_id_cannot_climb_to_another_resource(hookline) -> None:
    """``inspect delete ../app/victim`` deleted the application, and ``source show`` or
    ``endpoint delete victim ..`` reached other routes the same way."""
    with hookline.client() as admin:
        assert admin.post("/api/v1/app", json={"name": "Victim", "uid": "victim"}).status_code == 201
    env = {"HOOKLINE_URL": hookline.url, "HOOKLINE_TOKEN": ADMIN_TOKEN}
    for args in (
        ["inspect", "delete", "../app/victim", "--yes"],
        ["inspect", "delete", "..", "--yes"],
        ["endpoint", "delete", "victim", "..", "--yes"],
        ["source", "show", "../../../api/v1/app/victim"],
    ):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1, (args, result.output)
    with hookline.client() as admin:
        assert admin.get("/api/v1/app/victim").status_code == 200


class NotHookline:
    """A real HTTP server on 127.0.0.1 that answers every request 200 with the same JSON body."""

    def __init__(self) -> None:
        self.body = b"{}"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = do_PATCH = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture(scope="module")
def not_hookline() -> Iterator[NotHookline]:
    server = NotHookline()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["inspect", "list"], "data"),
        (["inspect", "requests", "bin_1"], "data"),
        (["inspect", "new"], "id"),
        (["inspect", "show", "bin_1", "req_1"], "id"),
        (["source", "list"], "data"),
        (["source", "show", "src_1"], "id"),
        (["source", "requests", "src_1"], "data"),
        (["listen", "http://127.0.0.1:9"], "id"),
        (["listen", "http://127.0.0.1:9", "--bin", "bin_1"], "id"),
        (["app", "list"], "data"),
    ],
)
@pytest.mark.parametrize("body", ["{}", "[]", '{"data": "x"}', '{"data": ["x"]}'])
def test_a_server_that_is_not_hookline_is_one_line(
    not_hookline: NotHookline, args: list[str], missing: str, body: str
) -> None:
    """A URL answering 2xx with other JSON (another service, a proxy) ended these commands in a
    KeyError, TypeError or AttributeError traceback, or an empty list as if all were well."""
    not_hookline.body = body.encode()
    result = CliRunner().invoke(main, [*args, "--url", not_hookline.url, "--token", "t"], env={"HOOKLINE_URL": None})
    line = assert_one_line_error(result)
    assert line.startswith(f"Error: 200 invalid_response: the server at {not_hookline.url} did not answer "), line
    assert "as hookline does (" in line
    if body == "{}":
        assert line.endswith(f'(no "{missing}" in its answer)'), line
