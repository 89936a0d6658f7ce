"""The README's quickstart continues from its first command instead of starting a second server."""

import re
from pathlib import Path

README = (Path(__file__).parents[2] / "README.md").read_text()
FRESH_MACHINE = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[server]' && hookline serve\n",
    "python3 -m venv .venv && . .venv/bin/activate && pip install -q -e '.[test]' && pytest\n",
)


def quickstart() -> str:
    start = README.index("## Five-minute quickstart")
    return README[start : README.index("\n## ", start + 1)]


def test_the_first_two_commands_are_unchanged() -> None:
    assert tuple(re.findall(r"```bash\n(.*?)```", README, re.DOTALL)[:2]) == FRESH_MACHINE


def test_the_quickstart_runs_one_server_at_a_time_and_uses_the_printed_token() -> None:
    text = quickstart()
    serves = re.findall(r"^.*hookline serve.*$", text, re.MULTILINE)
    assert serves == ["HOOKLINE_ALLOWED_CIDRS=127.0.0.0/8 hookline serve"]  # the first one, restarted in place
    assert "Ctrl-C" in text and "hookline serve &" not in text
    assert "export HOOKLINE_TOKEN=hl_..." in text and "HOOKLINE_ADMIN_TOKEN=" not in text
    assert "my-admin-token" not in text
