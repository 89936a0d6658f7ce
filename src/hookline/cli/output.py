"""How the client commands print: aligned tables for people, JSON for programs."""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

CELL_WIDTH = 100  # an ingest URL fits; a 5,000-character name does not


def cell(value: Any) -> str:
    """One value as table text: times in UTC to the second, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    # Whitespace is folded to keep one row per line; any other control character is shown as its
    # escape, so a name set through the API cannot move the cursor or recolour the terminal.
    return printable(" ".join(str(value).split()))


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` as a terminal may be given it: every control character (ESC and the sequences it
    starts, C1 controls such as CSI, carriage returns, BEL) shown as its escape (``\\x1b``), so
    text others chose, such as a captured request's headers and body, cannot move the cursor,
    recolour or retitle the terminal, or write its clipboard. ``lines``: line breaks and tabs stay
    (a CRLF is a line break)."""
    if lines:
        text = text.replace("\r\n", "\n")
    keep = "\n\t" if lines else ""
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``…`` when cut (``--json`` has it whole)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def moment(value: Any) -> Any:
    """An ISO 8601 time from an answer as a time, which ``cell`` prints as every table does
    (anything else as it is)."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Left-aligned columns under an upper-case header; the last column is not padded. A cell
    longer than ``CELL_WIDTH`` is cut (``--json`` has it whole)."""
    text = [[c.upper() for c in columns], *([clip(cell(v), CELL_WIDTH) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in text) for i in range(len(columns))]
    lines = []
    for line in text:
        padded = [value.ljust(width) for value, width in zip(line[:-1], widths, strict=False)]
        lines.append("  ".join([*padded, line[-1]]).rstrip())
    return "\n".join(lines)


def to_json(value: Any) -> str:
    """``value`` as JSON, with every character a terminal could act on (C1 controls such as CSI,
    DEL, bidirectional overrides) written as its ``\\u`` escape: JSON escapes only C0 controls,
    and ``--json`` output is read in terminals too. The same text, as any JSON parser reads it."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return "".join(c if c.isprintable() or c == "\n" else json.dumps(c)[1:-1] for c in text)


def show(as_json: bool, data: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print ``data`` as JSON, or ``rows`` as a table."""
    click.echo(to_json(data) if as_json else table(columns, rows))
