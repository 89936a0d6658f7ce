"""Tables and cells: what the client commands print for people."""

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hookline.cli.output import CELL_WIDTH, cell, table
from hookline.cli.tasks import Progress
from hookline.client import BackgroundTask


def test_cells() -> None:
    assert cell(None) == "-"
    assert cell(True) == "yes" and cell(False) == "no"
    assert cell(datetime(2024, 5, 1, 14, 0, 5, 123, tzinfo=timezone(timedelta(hours=2)))) == "2024-05-01 12:00:05"
    assert cell(["a", "b"]) == "a, b" and cell([]) == "-"
    assert cell({"tier": "gold"}) == "tier=gold"
    assert cell("two\nlines") == "two lines"


def test_table_aligns_columns() -> None:
    assert table(("id", "name"), [("app_1", "Acme"), ("app_22", None)]) == "ID      NAME\napp_1   Acme\napp_22  -"
    assert table(("id", "name"), []) == "ID  NAME"


def test_progress_draws_a_bar_once_the_total_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    base = {"id": "qtask_1", "task": "endpoint.recover", "updatedAt": datetime.now(UTC).isoformat()}
    progress = Progress("endpoint.recover qtask_1")
    progress(BackgroundTask.from_json({**base, "status": "running"}))
    progress(BackgroundTask.from_json({**base, "status": "running", "data": {"done": 2, "total": 4}}))
    progress(BackgroundTask.from_json({**base, "status": "finished", "data": {"done": 4, "total": 4}}))
    progress.close()
    assert progress.shown == 4
    assert "endpoint.recover qtask_1" in stderr.getvalue()


def test_table_cuts_long_cells() -> None:
    """A 5,000-character application name made app list unreadable."""
    lines = table(("id", "name", "created"), [("app_1", "n" * 5000, "2024-05-01 12:00:00")]).splitlines()
    assert lines[1] == "app_1  " + "n" * (CELL_WIDTH - 1) + "…  2024-05-01 12:00:00"
