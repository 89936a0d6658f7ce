"""A full disk: publishes get 503 with Retry-After and a JSON reason, health says the
database is not writable, and every message accepted before is still delivered.

SQLite only: the database file sits on a small tmpfs this test mounts (as root, as in
CI). PostgreSQL's data directory cannot be moved onto a tmpfs from a test.
"""

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.api import make_endpoint
from tests.support.servers import run_hookline, wait_until
from tests.support.servers import test_settings as settings_for


@contextlib.contextmanager
def _small_disk(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(path: Path) -> None:
    """Take every free byte of the disk holding ``path`` (none left already is fine too)."""
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below
    except OSError:
        return
    with f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
        with contextlib.suppress(OSError):
            os.fsync(f.fileno())


def test_a_full_disk_answers_503_and_loses_nothing(receiver, tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", "16m") as disk:
        url = f"sqlite:///{disk}/hookline.db"
        with run_hookline(settings_for(url)) as hl, hl.client() as c:
            make_endpoint(c, receiver.url(), app_uid="acme")
            filler = disk / "filler"
            _fill(filler)
            accepted: list[str] = []
            refused = None
            for n in range(3000):
                resp = c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {"n": n, "pad": "x" * 4000}})
                if resp.status_code == 202:
                    accepted.append(resp.json()["id"])
                    continue
                refused = resp
                break
            assert refused is not None, "the disk never filled"
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"]
            assert refused.json()["code"] == "database_full"
            assert "disk is full" in refused.json()["detail"]
            health = c.get("/api/v1/health")
            assert health.status_code == 503
            assert health.json()["database"] == "not_writable"

            filler.unlink()
            wait_until(lambda: c.get("/api/v1/health").status_code == 200, 20, "health to recover")
            after = c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {"n": "after"}})
            assert after.status_code == 202, after.text
            accepted.append(after.json()["id"])
            delivered = receiver.wait_for(len(accepted), timeout=60)
            assert {r.headers["webhook-id"] for r in delivered} >= set(accepted)
