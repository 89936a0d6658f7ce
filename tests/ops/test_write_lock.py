"""A failed write ends its transaction, and waiting for SQLite's write lock has a deadline."""

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.support.servers import ADMIN_TOKEN

HOOKLINE = [sys.executable, "-m", "hookline"]


def _env(**settings: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update({f"HOOKLINE_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@contextlib.contextmanager
def _write_lock_held(database_url: str) -> Iterator[None]:
    """Another process's view: a connection that holds SQLite's write lock."""
    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_a_failed_publish_does_not_hold_the_write_lock(hookline_factory, database_url: str) -> None:
    # --role api: no engine whose own writes would end the transaction by chance.
    with hookline_factory(run_engine=False) as hl, hl.client() as c:
        resp = c.post("/api/v1/app/no-such-app/msg", json={"eventType": "a.b", "payload": {}})
        assert resp.status_code == 404
        # Before the fix it waited forever; with only the lock deadline, it would fail as busy.
        done = subprocess.run(
            [*HOOKLINE, "token", "create", "--name", "after-404"],
            env=_env(database_url=database_url),
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert c.get("/api/v1/app").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_answers_503_when_the_write_lock_is_held_too_long(hookline_factory, database_url: str) -> None:
    with hookline_factory(database_lock_timeout=0.5) as hl, hl.client(ADMIN_TOKEN) as c:
        with _write_lock_held(database_url):
            resp = c.post("/api/v1/app", json={"name": "a"})
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "database_busy"
        assert resp.headers["retry-after"]
        assert c.post("/api/v1/app", json={"name": "a"}).status_code == 201


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_gives_up_on_a_held_write_lock_in_one_line(hookline_factory, database_url: str) -> None:
    with hookline_factory():
        pass  # creates and migrates the database
    with _write_lock_held(database_url):
        done = subprocess.run(
            [*HOOKLINE, "migrate"],
            env=_env(database_url=database_url, database_lock_timeout=0.5),
            capture_output=True,
            timeout=60,
        )
    assert done.returncode == 1
    lines = done.stderr.decode().strip().splitlines()
    assert "Traceback" not in done.stderr.decode()
    assert lines[-1].startswith("Error: database_busy: "), lines
