"""``serve``, ``migrate`` and ``prune`` with a database they cannot use: one line naming the
setting, exit 2, no traceback, no "listening", and no new empty SQLite file."""

import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from tests.cli.conftest import assert_one_line_error
from tests.conftest import PG_URL
from tests.support.processes import HooklineProcess, hookline_env
from tests.support.servers import free_port

from hookline.cli import main
from hookline.cli.server import startup_warnings
from hookline.config import Settings

MISSING_PG = PG_URL.rsplit("/", 1)[0] + "/hookline_no_such_database"
BAD_URLS = {
    "missing PostgreSQL database": (MISSING_PG, "hookline_no_such_database"),
    "unparsable": ("not a url at all", "cannot parse it as a URL"),
    "unsupported scheme": ("mysql://localhost/hookline", "mysql"),
}
COMMANDS = {
    "migrate": ["migrate"],
    "prune": ["prune", "--older-than", "30d", "--yes"],
    "serve": ["serve", "--port", "0"],
    "token": ["token"],
    "token list": ["token", "list"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("problem", BAD_URLS)
def test_a_bad_database_url_is_one_line_and_exit_2(command: str, problem: str, tmp_path: Path) -> None:
    url, named = BAD_URLS[problem]
    result = CliRunner().invoke(main, COMMANDS[command], env={"HOOKLINE_DATABASE_URL": url})
    line = assert_one_line_error(result, exit_code=2)
    assert line.startswith("Error: HOOKLINE_DATABASE_URL: "), line
    assert named in line
    assert "listening" not in result.output


def test_a_sqlite_path_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    # A directory where the file should be: the background checkpoint thread used to print
    # its own traceback beside the one-line error.
    folder = tmp_path / "hookline.db"
    folder.mkdir()
    env = hookline_env(f"sqlite:///{folder}", free_port())
    done = subprocess.run(
        [sys.executable, "-m", "hookline", "serve"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Error: HOOKLINE_DATABASE_URL: unable to open database file"


def test_a_taken_port_ends_serve_before_a_token_is_generated(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        env = hookline_env(f"sqlite:///{tmp_path / 'hookline.db'}", taken.getsockname()[1])
        del env["HOOKLINE_ADMIN_TOKEN"]  # a first start without one generates a token and shows it once
        done = subprocess.run(
            [sys.executable, "-m", "hookline", "serve"], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: cannot listen on 127.0.0.1:"), done.stderr
    assert "generated admin token" not in done.stderr, done.stderr
    assert not (tmp_path / "hookline.db").exists()  # nothing made for a server that did not start


@pytest.mark.parametrize(
    "command",
    [["prune", "--older-than", "30d", "--yes"], ["token"], ["token", "list"], ["token", "create", "--expires", "1d"]],
)
def test_commands_on_an_existing_database_refuse_to_create_one(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the server's directory: no hookline.db here
    result = CliRunner().invoke(main, command, env={"HOOKLINE_DATABASE_URL": None})
    line = assert_one_line_error(result, exit_code=2)
    expected = tmp_path.resolve() / "hookline.db"
    assert str(expected) in line
    assert not expected.exists()


def test_prune_names_the_database_it_acts_on(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    url = f"sqlite:///{path}"
    assert CliRunner().invoke(main, ["migrate"], env={"HOOKLINE_DATABASE_URL": url}).exit_code == 0
    result = CliRunner().invoke(main, ["prune", "--older-than", "30d", "--yes"], env={"HOOKLINE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"pruned 0 attempts, expunged 0 payloads in {path}"


def test_token_and_prune_take_the_same_durations_and_name_the_database(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    env = {"HOOKLINE_DATABASE_URL": f"sqlite:///{path}"}
    assert CliRunner().invoke(main, ["migrate"], env=env).exit_code == 0
    for age in ("45s", "2w", "1.5d"):
        result = CliRunner().invoke(main, ["prune", "--older-than", age, "--yes"], env=env)
        assert result.exit_code == 0, (age, result.output)
    bad = CliRunner().invoke(main, ["prune", "--older-than", "30 days", "--yes"], env=env)
    assert "--older-than" in assert_one_line_error(bad, exit_code=2)
    made = CliRunner().invoke(main, ["token", "create", "--expires", "2w"], env=env)
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("hl_") and f"database: {path}" in made.stderr


def test_a_second_serve_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hookline.db"
    first = HooklineProcess(hookline_env(url, free_port(), workers=2), tmp_path / "first.log")
    try:
        first.start(timeout=120)  # --workers 2: the lock is the parent's, the workers run regardless
        second = subprocess.run(
            [sys.executable, "-m", "hookline", "serve"],
            env=hookline_env(url, free_port()),
            capture_output=True,
            timeout=60,
        )
        assert second.returncode == 2
        err = second.stderr.decode()
        assert "Traceback" not in err and "listening" not in err
        assert f"another `hookline serve` is already using {tmp_path}/hookline.db" in err.strip().splitlines()[-1]
        assert "HOOKLINE_MAIN_SECRET is not set" in first.log_path.read_text()
        # The workers end by themselves when their parent is killed: none is left serving.
        workers = first.children()
        assert len(workers) >= 2
        first.kill()
        _gone, alive = psutil.wait_procs(workers, timeout=20)
        assert alive == []
    finally:
        first.close()
    # The lock goes with the process, however it ended (here: SIGKILL).
    again = HooklineProcess(hookline_env(url, free_port()), tmp_path / "again.log")
    try:
        again.start(timeout=120)
    finally:
        again.close()


def test_startup_warnings_name_weak_settings() -> None:
    weak = Settings(host="0.0.0.0", admin_token="short")
    found = startup_warnings(weak)
    assert any("HOOKLINE_MAIN_SECRET" in w for w in found)
    assert any("HOOKLINE_ADMIN_TOKEN is 5 characters" in w and "0.0.0.0" in w for w in found)
    assert startup_warnings(Settings(host="127.0.0.1", admin_token="short", main_secret="m" * 32)) == []
    assert startup_warnings(Settings(host="::", admin_token="x" * 40, main_secret="m" * 32)) == []
