"""JSON text as hookline takes it in and reads it back.

Stored JSON is read with orjson, and with Python's parser for what orjson refuses: integers
beyond 64 bits, which the API accepts (up to 4,300 digits) and keeps exactly.

Text must be what UTF-8 can carry.

A JSON ``\\uXXXX`` escape can spell one half of a UTF-16 surrogate pair on its own
(``"\\ud800"``). Python's JSON parser, pydantic's for untyped values, YAML and JavaScript all
keep such a lone surrogate, but no UTF-8 encoder writes it: once stored, it fails every later
answer, page and delivery that carries it. So hookline refuses it where it comes in, and says
where it is.
"""

import json
import re
from typing import Any, Final

import orjson

LONE_SURROGATE: Final = (
    "holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which is not Unicode "
    "text: hookline can neither store nor send it"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_BYTES = re.compile(rb"[0-9]{19}")
_LONG_TEXT = re.compile(r"[0-9]{19}")


def has_lone_surrogate(text: str) -> bool:
    # A parsed pair is one code point already, so any surrogate left in a str is alone.
    return _SURROGATE.search(text) is not None


def lone_surrogate(value: object) -> tuple[str | int, ...] | None:
    """The path to the first key or string in a JSON-like ``value`` that holds a lone
    surrogate (keys in the path made printable), or None when all of it is text."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return loc
        elif isinstance(item, dict):
            children: list[tuple[object, tuple[str | int, ...]]] = []
            for key, child in item.items():
                if isinstance(key, str) and has_lone_surrogate(key):
                    return (*loc, printable(key))
                children.append((child, (*loc, key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, (*loc, index)) for index, child in enumerate(item)]))
    return None


def printable(text: str) -> str:
    """``text`` with each lone surrogate written as its escape, safe to show and encode."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def loads(raw: bytes | str) -> Any:
    """Stored JSON, parsed: fast, and exact for integers of any length. orjson reads an
    integer beyond 64 bits as a float (1e+30 for thirty nines), or refuses it; where one may
    be (19 digits in a row, in a string or not), Python's parser reads it instead."""
    long = _LONG_BYTES.search(raw) if isinstance(raw, bytes) else _LONG_TEXT.search(raw)
    return json.loads(raw) if long else orjson.loads(raw)
