"""Whoever holds a capture URL chooses what it captures: its path, headers and body. An operator
who looks at it with ``hookline inspect show`` must see escape sequences, not have the terminal
obey them (ESC ] 52 writes the clipboard in many terminals, ESC ] 0 retitles the window, CSI
sequences move the cursor and repaint what was printed before)."""

import re

import httpx
from tests.cli.conftest import Cli
from tests.support.servers import Hookline

# ESC, BEL, a lone CR, and the C1 controls (CSI is 0x9B), which some terminals obey in UTF-8 too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BODY = b'{"ok": true}\r\n\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b]0;all good\x07\rfake line\n'


def test_inspect_show_prints_a_captured_requests_escape_sequences_as_text(hookline: Hookline) -> None:
    cli = Cli(hookline.url)
    created = cli.json("inspect", "new")
    sent = httpx.post(
        created["url"] + "/orders",
        content=BODY,
        headers={"X-Note": b"red \x9b31mtext\x9b0m", "content-type": "application/json"},
    )
    assert sent.status_code == 200, sent.text
    (captured,) = cli.json("inspect", "requests", created["id"])
    shown = cli.ok("inspect", "show", created["id"], captured["id"]).stdout

    assert not _CONTROL.search(shown), repr(shown)
    # Shown as escapes, so the operator still sees what was sent.
    assert "x-note: red \\x9b31mtext\\x9b0m" in shown.lower()
    assert '{"ok": true}\n\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\x1b]0;all good\\x07\\rfake line\n' in shown
    # The JSON output is the data as it came (escaped by JSON itself).
    assert cli.json("inspect", "show", created["id"], captured["id"])["body"] == BODY.decode()
