"""JSON request bodies that mean exactly one thing.

Python's and pydantic's parsers accept what JSON does not have (NaN, Infinity),
turn numbers beyond a double into infinity, and keep the last of two equal keys.
Each would store something other than what the client sent (an infinity is
stored as ``null``), so hookline refuses them, naming where they are. Integers
longer than 4,300 digits (Python's limit for converting them) are refused too, and
so are strings holding a lone UTF-16 surrogate (``domain.json_text``).
"""

import json
import math
import re
from typing import Any

import orjson

from hookline.domain.json_text import LONE_SURROGATE, lone_surrogate

MAX_INT_DIGITS = 4300


class JsonProblem(Exception):
    """Where a body is not acceptable JSON (``loc``, as in validation errors) and why."""

    def __init__(self, loc: tuple[str | int, ...], msg: str, type_: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.type = type_

    def item(self) -> dict[str, Any]:
        path = ".".join(str(part) for part in self.loc)
        return {"loc": ["body", *self.loc], "msg": f"{path}: {self.msg}" if path else self.msg, "type": self.type}


class _Found(Exception):
    """Something to refuse: the slow pass finds where it is."""


class _Bad:
    def __init__(self, msg: str, type_: str) -> None:
        self.msg = msg
        self.type = type_


class _Duplicated(dict[str, Any]):
    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _Found
    return value


def _constant(_text: str) -> Any:
    raise _Found


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Found
    return value


# Every key ends with a quote, optional whitespace and a colon; so may a few string values.
_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def check(raw: bytes) -> None:
    """Raise JsonProblem if ``raw`` holds NaN, Infinity, an out-of-range number, a
    repeated key or a lone surrogate. Bodies that are not JSON at all pass: the route says so its own way.

    The common case stays cheap: orjson refuses NaN, infinities and numbers beyond a
    double by itself, and a body has no repeated key when it has as many places that
    may end a key as its parsed objects have keys (a repeated key leaves fewer keys).
    Anything else takes the exact, slower pass.
    """
    try:
        tree = orjson.loads(raw)
    except orjson.JSONDecodeError:
        _exact(raw)
        return
    if _key_ends(raw) != _count_keys(tree):
        _exact(raw)


def _key_ends(raw: bytes) -> int:
    if b'" ' in raw or b'"\n' in raw or b'"\t' in raw or b'"\r' in raw:
        return len(_KEY_END.findall(raw))
    return raw.count(b'":')  # no whitespace after any quote: the fast count is the same


def _count_keys(value: Any) -> int:
    # orjson makes plain dicts and lists only: exact type checks are enough, and fast.
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            children: Any = item.values()
        elif type(item) is list:
            children = item
        else:
            continue
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append(child)
    return count


def _exact(raw: bytes) -> None:
    try:
        tree = json.loads(raw, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
    except _Found:
        _locate(raw)
    except UnicodeDecodeError as exc:  # FastAPI would answer a bare 400 for it, naming nothing
        why = f"the body is not UTF-8 text (byte {exc.start}); JSON is sent as UTF-8"
        raise JsonProblem((), why, "json_invalid") from None
    except ValueError as exc:  # not JSON (the route reports it), or an integer too long
        if "integer string conversion" in str(exc):
            _locate(raw)
    except RecursionError:
        pass  # nested too deep: the route's parser refuses it
    else:
        # orjson refused what Python's parser took: a lone surrogate, or an integer beyond 64 bits.
        loc = lone_surrogate(tree)
        if loc is not None:
            raise JsonProblem(loc, LONE_SURROGATE, "string_unicode")


def _locate(raw: bytes) -> None:
    """Parse again with every problem kept as a marker, then name the first one's path."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                return _Duplicated(items, key)
            seen.add(key)
        return dict(items)

    def constant(text: str) -> _Bad:
        return _Bad(f"{text} is not a JSON number; send a number or null", "json_number_invalid")

    def number(text: str) -> float | _Bad:
        value = float(text)
        if math.isinf(value):
            return _Bad(f"{text[:40]} is beyond the range of a 64-bit float", "json_number_out_of_range")
        return value

    def integer(text: str) -> int | _Bad:
        digits = len(text.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            return _Bad(
                f"an integer of {digits} digits is too long; at most {MAX_INT_DIGITS} digits are accepted",
                "json_number_out_of_range",
            )
        return int(text)

    tree = json.loads(raw, object_pairs_hook=pairs, parse_constant=constant, parse_float=number, parse_int=integer)
    _walk(tree, ())


def _walk(value: Any, loc: tuple[str | int, ...]) -> None:
    if isinstance(value, _Bad):
        raise JsonProblem(loc, value.msg, value.type)
    if isinstance(value, _Duplicated):
        raise JsonProblem((*loc, value.key), f"duplicate key {value.key!r}", "json_duplicate_key")
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*loc, index))
