"""Payload filters: the JSON filter syntax of Hookdeck and Outpost, validated and compiled.

A filter is matched against ``{"eventType": ..., "channels": [...], "payload": {...}}``.
``compile_filter`` validates once and returns a closure; the fan-out calls that closure for
every message, so matching allocates nothing beyond the walk itself.

Semantics (Outpost's ``simplejsonmatch``, itself a port of Hookdeck's ``simple-json-match``):

- a primitive matches an equal primitive of the same JSON type (``1 == 1.0``, ``1 != "1"``,
  ``true != 1``); against an array it matches when some element matches;
- an object's plain keys are an implicit AND of nested matches; against an array, some
  element must match all of them;
- an array matches an array that contains a match for each of its items;
- against an array, plain keys, ``$or`` and ``$and`` need one element to match them together;
  comparison operators apply to the array itself (``{"$eq": [..]}`` is deep equality,
  ``{"$in": "x"}`` is "contains x");
- ``$not`` negates its operand at the same place, so ``{"tags": {"$not": "spam"}}`` means
  "tags does not contain spam" and is true for a missing field;
- a missing field matches nothing except ``{"$exist": false}`` and negations.
"""

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

MAX_DEPTH: Final = 10
MAX_BYTES: Final = 64 * 1024
MAX_NODES: Final = 1000
DOCUMENT_FIELDS: Final = ("eventType", "channels", "payload")

Predicate = Callable[[Any], bool]


class _Missing:
    """A field absent from the document (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

COMPARISONS: Final = frozenset({"$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"})
STRING_OPS: Final = frozenset({"$startsWith", "$endsWith"})
LOGICAL: Final = frozenset({"$or", "$and", "$not"})
OPERATORS: Final = COMPARISONS | STRING_OPS | LOGICAL | {"$exist"}


class FilterError(ValueError):
    """An invalid filter; ``path`` locates the problem inside it."""

    def __init__(self, path: tuple[str | int, ...], reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{format_path(path)}: {reason}")

    @property
    def location(self) -> str:
        return format_path(self.path)


_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def format_path(path: tuple[str | int, ...]) -> str:
    """``$.payload.items[0]["odd key"]``: a JSONPath a user can read back."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _IDENT.match(step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(step)}]")
    return "".join(parts)


# --- value helpers -------------------------------------------------------------------------


# Exact types rather than isinstance: bool is an int in Python but a distinct type in
# JSON, and a type() lookup keeps the hot path cheap. Documents come from a JSON parser.
_NUMBER: Final = (int, float)
_PRIMITIVE: Final = (str, int, float, bool, type(None))


def _is_number(v: object) -> bool:
    return type(v) in _NUMBER


def _is_primitive(v: object) -> bool:
    return type(v) in _PRIMITIVE


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: typed for primitives (``1 == 1.0``), structural for arrays and objects."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        return ta in _NUMBER and tb in _NUMBER and bool(a == b)
    if ta is list:
        return len(a) == len(b) and all(map(_equal, a, b))
    if ta is dict:
        return a.keys() == b.keys() and all(_equal(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _ordered(v: object, operand: object) -> bool:
    """Whether ``$gt`` and friends can compare these two: both numbers or both strings."""
    if isinstance(operand, str):
        return isinstance(v, str)
    return _is_number(v)


# --- validation ----------------------------------------------------------------------------


def validate(filter: object) -> None:
    """Raise ``FilterError`` naming the path of the first problem, or return None."""
    if not isinstance(filter, dict):
        raise FilterError((), "a filter must be a JSON object")
    try:
        size = len(json.dumps(filter, allow_nan=False, separators=(",", ":")))
    except (TypeError, ValueError) as exc:
        raise FilterError((), f"not JSON: {exc}") from None
    if size > MAX_BYTES:
        raise FilterError((), f"too large: {size} bytes serialized, at most {MAX_BYTES}")
    _Checker().schema(filter, (), root=True)


class _Checker:
    def __init__(self) -> None:
        self.nodes = 0

    def _count(self, path: tuple[str | int, ...]) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(path, f"too large: more than {MAX_NODES} values")
        if len(path) > MAX_DEPTH:
            raise FilterError(path, f"too deep: more than {MAX_DEPTH} levels")

    def literal(self, value: object, path: tuple[str | int, ...]) -> None:
        self._count(path)
        if isinstance(value, dict):
            for key, item in value.items():
                self.literal(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.literal(item, (*path, i))
        elif isinstance(value, float) and not math.isfinite(value):
            raise FilterError(path, "numbers must be finite")
        elif not _is_primitive(value):
            raise FilterError(path, f"not a JSON value: {type(value).__name__}")

    def schema(self, schema: object, path: tuple[str | int, ...], *, root: bool = False) -> None:
        self._count(path)
        if isinstance(schema, list):
            if root:
                raise FilterError(path, "expected an object")
            for i, item in enumerate(schema):
                self.schema(item, (*path, i))
            return
        if not isinstance(schema, dict):
            if root:
                raise FilterError(path, "expected an object")
            self.literal(schema, path)
            return
        for key, operand in schema.items():
            here = (*path, key)
            if key.startswith("$"):
                self.operator(key, operand, here, root=root)
            elif root and key not in DOCUMENT_FIELDS:
                raise FilterError(here, f"unknown field: the document has {', '.join(DOCUMENT_FIELDS)}")
            else:
                self.schema(operand, here)

    def operator(self, op: str, operand: object, path: tuple[str | int, ...], *, root: bool) -> None:
        if op not in OPERATORS:
            raise FilterError(path, f"unknown operator {op}; known: {', '.join(sorted(OPERATORS))}")
        if op in ("$or", "$and"):
            if not isinstance(operand, list) or not operand:
                raise FilterError(path, f"{op} takes a non-empty array of filters")
            self._count(path)
            for i, item in enumerate(operand):
                self.schema(item, (*path, i), root=root)
        elif op == "$not":
            self.schema(operand, path, root=root)
        elif op == "$exist":
            if not isinstance(operand, bool):
                raise FilterError(path, "$exist takes true or false")
        elif op in ("$eq", "$neq"):
            self.literal(operand, path)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            if not (isinstance(operand, str) or _is_number(operand)) or not _finite(operand):
                raise FilterError(path, f"{op} takes a number or a string")
        elif op in ("$in", "$nin"):
            if isinstance(operand, list):
                for i, item in enumerate(operand):
                    if not _is_primitive(item) or not _finite(item):
                        raise FilterError((*path, i), f"{op} takes an array of strings, numbers, booleans or null")
            elif not isinstance(operand, str):
                raise FilterError(path, f"{op} takes an array of values, or a string (substring match)")
        else:  # $startsWith, $endsWith
            items = operand if isinstance(operand, list) else [operand]
            if not items or not all(isinstance(s, str) for s in items):
                raise FilterError(path, f"{op} takes a string or a non-empty array of strings")


def _finite(v: object) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


# --- compilation ---------------------------------------------------------------------------


def compile_filter(filter: object) -> Callable[[Mapping[str, Any]], bool]:
    """Validate ``filter`` and return a predicate over documents. Compile once per endpoint."""
    validate(filter)
    return _compile(filter)


def matches(filter: object, document: Mapping[str, Any]) -> bool:
    """Whether ``document`` passes ``filter`` (validated; raises ``FilterError`` if invalid)."""
    return compile_filter(filter)(document)


def compile_schema(schema: object) -> Predicate:
    """Compile any filter node without root rules; the predicate accepts ``MISSING``."""
    _Checker().schema(schema, ())
    return _compile(schema)


def _compile(schema: object) -> Predicate:
    if isinstance(schema, dict):
        return _compile_object(schema)
    if isinstance(schema, list):
        return _compile_array([_compile(s) for s in schema])
    return _compile_primitive(schema)


def _compile_primitive(expected: object) -> Predicate:
    kinds = _NUMBER if _is_number(expected) else (type(expected),)

    def pred(v: Any) -> bool:
        kind = type(v)
        if kind is list:
            for item in v:  # noqa: SIM110 (no generator on the hot path)
                if pred(item):
                    return True
            return False
        return kind in kinds and bool(v == expected)

    return pred


def _compile_array(items: list[Predicate]) -> Predicate:
    def pred(v: Any) -> bool:
        return isinstance(v, list) and all(any(p(e) for e in v) for p in items)

    return pred


def _compile_object(schema: Mapping[str, Any]) -> Predicate:
    """Plain keys, ``$or`` and ``$and`` look inside arrays (some element must match them
    together); comparison operators and ``$not`` apply to the value itself."""
    fields = [(k, _compile(s)) for k, s in schema.items() if not k.startswith("$")]
    inner: list[Predicate] = []  # element-wise on arrays
    outer: list[Predicate] = []  # on the value as it is
    if fields or not schema:
        inner.append(_compile_fields(fields))
    for op, operand in schema.items():
        if op in ("$or", "$and"):
            inner.append(_compile_operator(op, operand))
        elif op.startswith("$"):
            outer.append(_compile_operator(op, operand))
    if inner:
        outer.append(_elementwise(_all(inner)))
    return _all(outer)


def _all(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]

    def pred(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 (no generator on the hot path)
            if not check(v):
                return False
        return True

    return pred


def _elementwise(check: Predicate) -> Predicate:
    def pred(v: Any) -> bool:
        if isinstance(v, list):
            for item in v:  # noqa: SIM110 (no generator on the hot path)
                if pred(item):
                    return True
            return False
        return check(v)

    return pred


def _compile_fields(fields: list[tuple[str, Predicate]]) -> Predicate:
    def pred(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        get = v.get
        for key, p in fields:  # noqa: SIM110 (no generator on the hot path)
            if not p(get(key, MISSING)):
                return False
        return True

    return pred


def _compile_operator(op: str, operand: Any) -> Predicate:
    if op in ("$or", "$and"):
        subs = [_compile(s) for s in operand]
        if op == "$or":
            return lambda v: any(p(v) for p in subs)
        return lambda v: all(p(v) for p in subs)
    if op == "$not":
        inner = _compile(operand)
        return lambda v: not inner(v)
    if op == "$exist":
        return (lambda v: v is not MISSING) if operand else (lambda v: v is MISSING)
    if op == "$eq":
        return lambda v: v is not MISSING and _equal(v, operand)
    if op == "$neq":
        return lambda v: v is not MISSING and not _equal(v, operand)
    if op in ("$in", "$nin"):
        return _compile_in(operand, negate=op == "$nin")
    if op in STRING_OPS:
        affixes = tuple(operand) if isinstance(operand, list) else (operand,)
        if op == "$startsWith":
            return lambda v: isinstance(v, str) and v.startswith(affixes)
        return lambda v: isinstance(v, str) and v.endswith(affixes)
    return _compile_order(op, operand)


def _compile_in(operand: Any, *, negate: bool) -> Predicate:
    """``$in``: value among an array's items; or substring of a string, or an array holding it.

    ``$nin`` is its negation where ``$in`` applies, and false where it does not (wrong types,
    missing field), as in Outpost.
    """
    if isinstance(operand, list):
        members = frozenset(_member_key(item) for item in operand)

        def within(v: Any) -> bool | None:
            if type(v) not in _PRIMITIVE:
                return None
            return _member_key(v) in members

    else:

        def within(v: Any) -> bool | None:
            if isinstance(v, str):
                return operand in v
            if isinstance(v, list):
                return any(_is_primitive(item) and _equal(item, operand) for item in v)
            return None

    if negate:

        def pred(v: Any) -> bool:
            return within(v) is False

    else:

        def pred(v: Any) -> bool:
            return within(v) is True

    return pred


def _member_key(v: Any) -> tuple[object, Any]:
    # Tagged by JSON type, so 1 and 1.0 meet (equal hashes) but 1 and true do not.
    kind = type(v)
    return (int if kind is float else kind), v


def _compile_order(op: str, operand: Any) -> Predicate:
    if op == "$gt":
        return lambda v: _ordered(v, operand) and v > operand
    if op == "$gte":
        return lambda v: _ordered(v, operand) and v >= operand
    if op == "$lt":
        return lambda v: _ordered(v, operand) and v < operand
    return lambda v: _ordered(v, operand) and v <= operand
