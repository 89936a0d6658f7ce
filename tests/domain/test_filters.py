"""Payload filters: Hookdeck/Outpost semantics, validation with paths, and a reference model."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookline.domain.filters import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    MISSING,
    FilterError,
    compile_filter,
    compile_schema,
    format_path,
    matches,
    validate,
)


def doc(payload: Any, event_type: str = "invoice.paid", channels: list[str] | None = None) -> dict[str, Any]:
    return {"eventType": event_type, "channels": channels or [], "payload": payload}


def match_value(value: Any, schema: Any) -> bool:
    return compile_schema(schema)(value)


# --- semantics, case by case ----------------------------------------------------------------

CASES: list[tuple[Any, Any, bool]] = [
    # implicit equality and nesting
    ({"status": "paid"}, {"status": "paid"}, True),
    ({"status": "open"}, {"status": "paid"}, False),
    ({}, {"status": "paid"}, False),
    ({"status": "paid", "amount": 5}, {"status": "paid", "amount": 5}, True),
    ({"status": "paid"}, {"status": "paid", "amount": 5}, False),
    ({"customer": {"tier": "gold", "id": 1}}, {"customer": {"tier": "gold"}}, True),
    ({"customer": {"tier": "gold"}}, {"customer": {"tier": "silver"}}, False),
    ({"customer": "gold"}, {"customer": {"tier": "gold"}}, False),
    ({"customer": {"tier": "gold"}}, {"customer": "gold"}, False),
    # JSON types are distinct: no coercion
    ({"n": 1}, {"n": 1.0}, True),
    ({"n": 1}, {"n": "1"}, False),
    ({"n": True}, {"n": 1}, False),
    ({"n": 0}, {"n": False}, False),
    ({"n": None}, {"n": None}, True),
    ({"n": None}, {"n": False}, False),
    ({}, {"n": None}, False),
    # arrays: contains
    ({"tags": ["a", "b"]}, {"tags": "a"}, True),
    ({"tags": ["a", "b"]}, {"tags": "c"}, False),
    ({"tags": ["a", "b", "c"]}, {"tags": ["a", "c"]}, True),
    ({"tags": ["a", "b", "c"]}, {"tags": ["a", "z"]}, False),
    ({"tags": "a"}, {"tags": ["a"]}, False),
    ({"tags": [["a"], "b"]}, {"tags": "a"}, True),
    ({"items": [{"sku": "x", "qty": 1}, {"sku": "y", "qty": 2}]}, {"items": {"sku": "y", "qty": 2}}, True),
    # one element must match all plain keys together
    ({"items": [{"sku": "x", "qty": 1}, {"sku": "y", "qty": 2}]}, {"items": {"sku": "x", "qty": 2}}, False),
    ({"items": [{"qty": 9}, {"qty": 11}]}, {"items": {"qty": {"$lte": 10}}}, True),
    ({"items": [{"qty": 12}, {"qty": 11}]}, {"items": {"qty": {"$lte": 10}}}, False),
    # $eq / $neq: deep equality on the value itself
    ({"tags": ["a", "b"]}, {"tags": {"$eq": ["a", "b"]}}, True),
    ({"tags": ["a", "b", "c"]}, {"tags": {"$eq": ["a", "b"]}}, False),
    ({"tags": ["a", "b"]}, {"tags": {"$eq": "a"}}, False),
    ({"o": {"a": 1, "b": [1]}}, {"o": {"$eq": {"b": [1.0], "a": 1}}}, True),
    ({"o": {"a": 1}}, {"o": {"$eq": {"a": 1, "b": 2}}}, False),
    ({"n": 2}, {"n": {"$neq": 2}}, False),
    ({"n": 2}, {"n": {"$neq": 3}}, True),
    ({"n": None}, {"n": {"$eq": None}}, True),
    ({"n": None}, {"n": {"$neq": None}}, False),
    ({}, {"n": {"$neq": 3}}, False),
    # ordering: numbers with numbers, strings with strings
    ({"n": 2}, {"n": {"$gt": 1, "$lt": 3}}, True),
    ({"n": 4}, {"n": {"$gt": 1, "$lt": 3}}, False),
    ({"n": 3}, {"n": {"$gte": 3, "$lte": 3}}, True),
    ({"s": "c"}, {"s": {"$gt": "b"}}, True),
    ({"s": "a"}, {"s": {"$gt": "b"}}, False),
    ({"t": "2025-01-15T00:00:00Z"}, {"t": {"$gte": "2025-01-01", "$lt": "2025-02-01"}}, True),
    ({"n": "5"}, {"n": {"$gt": 1}}, False),
    ({"n": 5}, {"n": {"$gt": "1"}}, False),
    ({"n": True}, {"n": {"$gte": 0}}, False),
    ({"n": [5, 6]}, {"n": {"$gt": 1}}, False),
    ({}, {"n": {"$lt": 1}}, False),
    # $in / $nin
    ({"s": "paid"}, {"s": {"$in": ["paid", "open"]}}, True),
    ({"s": "void"}, {"s": {"$in": ["paid", "open"]}}, False),
    ({"n": 1}, {"n": {"$in": [1.0, 2]}}, True),
    ({"n": None}, {"n": {"$in": [None]}}, True),
    ({"n": True}, {"n": {"$in": [1]}}, False),
    ({"s": "some-text"}, {"s": {"$in": "text"}}, True),
    ({"s": "some-text"}, {"s": {"$in": "nope"}}, False),
    ({"tags": ["a", "b"]}, {"tags": {"$in": "a"}}, True),
    ({"tags": ["a", "b"]}, {"tags": {"$in": ["a", "b"]}}, False),
    ({"n": 5}, {"n": {"$in": "5"}}, False),
    ({"s": "void"}, {"s": {"$nin": ["paid", "open"]}}, True),
    ({"s": "paid"}, {"s": {"$nin": ["paid", "open"]}}, False),
    ({"s": "some-text"}, {"s": {"$nin": "some"}}, False),
    ({"tags": ["a", "b"]}, {"tags": {"$nin": "a"}}, False),
    ({"tags": ["a", "b"]}, {"tags": {"$nin": "c"}}, True),
    ({"n": 5}, {"n": {"$nin": "5"}}, False),
    ({}, {"n": {"$nin": [1]}}, False),
    # $startsWith / $endsWith
    ({"e": "ops@example.com"}, {"e": {"$endsWith": "@example.com"}}, True),
    ({"e": "ops@example.org"}, {"e": {"$endsWith": "@example.com"}}, False),
    ({"e": "ops@example.org"}, {"e": {"$endsWith": [".com", ".org"]}}, True),
    ({"p": "/v1/orders"}, {"p": {"$startsWith": "/v1/"}}, True),
    ({"p": "/v2/orders"}, {"p": {"$startsWith": ["/v1/", "/v3/"]}}, False),
    ({"p": 1}, {"p": {"$startsWith": "1"}}, False),
    ({"p": {"x": 1}}, {"p": {"$startsWith": "x"}}, False),
    # $exist: presence, null counts as present
    ({"d": "x"}, {"d": {"$exist": True}}, True),
    ({"d": "x"}, {"d": {"$exist": False}}, False),
    ({}, {"d": {"$exist": True}}, False),
    ({}, {"d": {"$exist": False}}, True),
    ({"d": None}, {"d": {"$exist": True}}, True),
    ({"d": None}, {"d": {"$exist": False}}, False),
    ({"a": {"c": 1}}, {"a": {"b": {"$exist": False}}}, True),
    ({"a": {"b": 1}}, {"a": {"b": {"$exist": False}}}, False),
    ({"a": "x"}, {"a": {"$exist": True, "$in": "x"}}, True),
    ({"a": "x"}, {"a": {"$exist": True, "$in": "y"}}, False),
    # $or / $and / $not
    ({"s": "b"}, {"$or": [{"s": "a"}, {"s": "b"}]}, True),
    ({"s": "c"}, {"$or": [{"s": "a"}, {"s": "b"}]}, False),
    ({"s": "b"}, {"s": {"$or": ["a", "b"]}}, True),
    ({"o": {"x": "else"}}, {"o": {"$or": [{"x": True}, {"x": {"$in": "els"}}]}}, True),
    ({"s": "a", "n": 5}, {"$and": [{"s": "a"}, {"n": {"$gte": 5}}]}, True),
    ({"s": "a", "n": 4}, {"$and": [{"s": "a"}, {"n": {"$gte": 5}}]}, False),
    ({"o": {"x": None}}, {"o": {"$and": [{"x": {"$neq": None}}, {"x": {"$in": "e"}}]}}, False),
    ({"s": "a"}, {"s": {"$not": {"$in": ["b", "c"]}}}, True),
    ({"s": "b"}, {"s": {"$not": {"$in": ["b", "c"]}}}, False),
    ({"s": "a"}, {"$not": {"s": "a"}, "n": {"$exist": False}}, False),
    # $or and $and look inside arrays, element by element
    ({"tags": ["x", "b"]}, {"tags": {"$or": [{"$in": ["a", "b"]}]}}, True),
    ({"items": [{"k": 1}, {"k": 2}]}, {"items": {"$and": [{"k": {"$gt": 1}}, {"k": {"$lt": 2}}]}}, False),
    ({"items": [{"k": 1}, {"k": 2}]}, {"items": {"$and": [{"k": {"$gt": 1}}, {"k": {"$lt": 3}}]}}, True),
    # $not negates at its own place: "does not contain", and true when missing
    ({"tags": ["spam", "ok"]}, {"tags": {"$not": "spam"}}, False),
    ({"tags": ["ok"]}, {"tags": {"$not": "spam"}}, True),
    ({}, {"s": {"$not": "cancelled"}}, True),
    ({}, {"s": {"$not": {"$exist": True}}}, True),
    # empty objects
    ({"o": {"x": 1}}, {"o": {}}, True),
    ({"o": 1}, {"o": {}}, False),
    ({"o": [1, {"x": 1}]}, {"o": {}}, True),
    ({}, {}, True),
]


@pytest.mark.parametrize(("payload", "payload_filter", "expected"), CASES)
def test_payload_filter(payload: Any, payload_filter: Any, expected: bool) -> None:
    document = doc(payload)
    assert matches({"payload": payload_filter}, document) is expected
    # $not around the whole filter always inverts it
    assert matches({"$not": {"payload": payload_filter}}, document) is (not expected)


def test_event_type_and_channels_are_filterable() -> None:
    f = {"eventType": {"$startsWith": "invoice."}, "channels": "eu"}
    assert matches(f, doc({}, "invoice.paid", ["us", "eu"]))
    assert not matches(f, doc({}, "invoice.paid", ["us"]))
    assert not matches(f, doc({}, "user.created", ["eu"]))


def test_empty_filter_matches_everything() -> None:
    assert matches({}, doc({"anything": 1}))


def test_values_outside_a_document() -> None:
    assert match_value("created", "created")
    assert match_value([1, 2, 3], 3)
    assert not match_value([1, 2, 3], 4)
    assert match_value([1, 2, 3], [{"$eq": 3}])
    assert not match_value([1, 2, 3], {"$eq": 3})
    assert match_value(10, {"$gte": 5})
    assert match_value(1, {"$or": [1, 2]})
    assert not match_value(1, {"$and": [1, 2]})
    assert not match_value(1, {})
    assert not match_value({"test": True}, True)
    assert not match_value(MISSING, None)


def test_compiled_filter_is_reusable() -> None:
    check = compile_filter({"payload": {"n": {"$gt": 1}}})
    assert [check(doc({"n": n})) for n in (0, 1, 2, 3)] == [False, False, True, True]


# --- validation ---------------------------------------------------------------------------

INVALID: list[tuple[Any, str, str]] = [
    ([], "$", "must be a JSON object"),
    ("x", "$", "must be a JSON object"),
    ({"payload": {"n": {"$regex": "x"}}}, "$.payload.n.$regex", "unknown operator $regex"),
    ({"payload": {"$exists": True}}, "$.payload.$exists", "unknown operator"),
    ({"paylod": {"n": 1}}, "$.paylod", "unknown field"),
    ({"$or": [{"type": "x"}]}, "$.$or[0].type", "unknown field"),
    ({"payload": {"n": {"$gt": [1, 2]}}}, "$.payload.n.$gt", "number or a string"),
    ({"payload": {"n": {"$gt": True}}}, "$.payload.n.$gt", "number or a string"),
    ({"payload": {"n": {"$gte": None}}}, "$.payload.n.$gte", "number or a string"),
    ({"payload": {"n": {"$in": 5}}}, "$.payload.n.$in", "array of values, or a string"),
    ({"payload": {"n": {"$nin": [1, {"a": 1}]}}}, "$.payload.n.$nin[1]", "strings, numbers"),
    ({"payload": {"n": {"$exist": "yes"}}}, "$.payload.n.$exist", "true or false"),
    ({"payload": {"n": {"$startsWith": 1}}}, "$.payload.n.$startsWith", "string"),
    ({"payload": {"n": {"$endsWith": []}}}, "$.payload.n.$endsWith", "non-empty array"),
    ({"payload": {"n": {"$endsWith": ["a", 2]}}}, "$.payload.n.$endsWith", "strings"),
    ({"$or": {"payload": 1}}, "$.$or", "non-empty array"),
    ({"$and": []}, "$.$and", "non-empty array"),
    ({"payload": {"odd key": {"$eq": float("nan")}}}, "$", "not JSON"),
    ({"payload": {"n": {"$eq": {1, 2}}}}, "$", "not JSON"),
]


@pytest.mark.parametrize(("bad", "location", "reason"), INVALID)
def test_invalid_filters_name_the_path(bad: Any, location: str, reason: str) -> None:
    with pytest.raises(FilterError) as err:
        validate(bad)
    assert err.value.location == location
    assert reason in err.value.reason
    with pytest.raises(FilterError):
        matches(bad, doc({}))


def test_too_deep() -> None:
    f: Any = 1
    for _ in range(MAX_DEPTH + 1):
        f = {"a": f}
    with pytest.raises(FilterError, match="too deep"):
        validate({"payload": f})
    ok: Any = 1
    for _ in range(MAX_DEPTH - 1):
        ok = {"a": ok}
    validate({"payload": ok})


def test_too_many_nodes() -> None:
    with pytest.raises(FilterError, match="too large: more than"):
        validate({"payload": {"$or": [{"n": i} for i in range(MAX_NODES)]}})


def test_too_many_bytes() -> None:
    with pytest.raises(FilterError, match="bytes serialized"):
        validate({"payload": {"s": "x" * MAX_BYTES}})


def test_eq_operand_is_a_literal_not_a_filter() -> None:
    # "$"-keys inside an $eq operand are data, so they are not rejected as operators
    validate({"payload": {"o": {"$eq": {"$weird": 1}}}})
    assert matches({"payload": {"o": {"$eq": {"$weird": 1}}}}, doc({"o": {"$weird": 1}}))


def test_format_path() -> None:
    assert format_path(()) == "$"
    assert format_path(("payload", "items", 0, "odd key", "$gt")) == '$.payload.items[0]["odd key"].$gt'


# --- property tests against a reference evaluator -----------------------------------------

_ABSENT = object()


def ref(value: Any, schema: Any) -> bool:
    """A plain reading of the rules, written independently of the compiler."""
    if isinstance(schema, list):
        return isinstance(value, list) and all(any(ref(e, s) for e in value) for s in schema)
    if not isinstance(schema, dict):
        if isinstance(value, list):
            return any(ref(e, schema) for e in value)
        return value is not _ABSENT and not isinstance(value, dict) and same(value, schema)
    ok = True
    for key, operand in schema.items():
        if key.startswith("$") and key not in ("$or", "$and"):
            ok = ok and ref_op(key, value, operand)
    rest = {k: v for k, v in schema.items() if not k.startswith("$") or k in ("$or", "$and")}
    if rest or not schema:
        ok = ok and ref_rest(value, rest)
    return ok


def ref_rest(value: Any, rest: dict[str, Any]) -> bool:
    if isinstance(value, list):
        return any(ref_rest(e, rest) for e in value)
    for key, sub in rest.items():
        if key == "$or":
            if not any(ref(value, s) for s in sub):
                return False
        elif key == "$and":
            if not all(ref(value, s) for s in sub):
                return False
        elif not isinstance(value, dict) or not ref(value.get(key, _ABSENT), sub):
            return False
    return isinstance(value, dict) or any(k in ("$or", "$and") for k in rest)


def kind(v: Any) -> str:
    return {bool: "b", int: "n", float: "n", str: "s", type(None): "z", list: "l", dict: "o"}[type(v)]


def same(a: Any, b: Any) -> bool:
    if kind(a) != kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def ref_op(op: str, v: Any, x: Any) -> bool:
    present = v is not _ABSENT
    if op == "$not":
        return not ref(v, x)
    if op == "$exist":
        return present == x
    if not present:
        return False
    if op == "$eq":
        return same(v, x)
    if op == "$neq":
        return not same(v, x)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if kind(v) != kind(x) or kind(v) not in "ns":
            return False
        return {"$gt": v > x, "$gte": v >= x, "$lt": v < x, "$lte": v <= x}[op]
    if op in ("$in", "$nin"):
        if isinstance(x, list):
            found = None if kind(v) in "lo" else any(same(v, e) for e in x)
        elif isinstance(v, str):
            found = x in v
        elif isinstance(v, list):
            found = any(kind(e) not in "lo" and same(e, x) for e in v)
        else:
            found = None
        return found is (op == "$in")
    affixes = x if isinstance(x, list) else [x]
    if not isinstance(v, str):
        return False
    if op == "$startsWith":
        return any(v.startswith(a) for a in affixes)
    return any(v.endswith(a) for a in affixes)


KEYS = st.sampled_from(["a", "b", "c"])
STRINGS = st.sampled_from(["", "x", "y", "xy", "yx"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, 1.5]), STRINGS)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


def operator_node(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    ordered = st.integers(-2, 2) | STRINGS
    return st.one_of(
        st.builds(lambda op, x: {op: x}, st.sampled_from(["$eq", "$neq"]), JSON),
        st.builds(lambda op, x: {op: x}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ordered),
        st.builds(lambda op, x: {op: x}, st.sampled_from(["$in", "$nin"]), STRINGS | st.lists(SCALARS, max_size=3)),
        st.builds(
            lambda op, x: {op: x},
            st.sampled_from(["$startsWith", "$endsWith"]),
            STRINGS | st.lists(STRINGS, min_size=1, max_size=2),
        ),
        st.builds(lambda x: {"$exist": x}, st.booleans()),
        st.builds(lambda op, xs: {op: xs}, st.sampled_from(["$or", "$and"]), st.lists(inner, min_size=1, max_size=2)),
        st.builds(lambda x: {"$not": x}, inner),
    )


SCHEMA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2),
        st.dictionaries(KEYS, inner, max_size=2),
        operator_node(inner),
        st.builds(lambda a, b: {**a, **b}, operator_node(inner), st.dictionaries(KEYS, inner, max_size=2)),
    ),
    max_leaves=6,
)
DOCUMENT = st.builds(
    doc,
    JSON,
    st.sampled_from(["a.created", "a.deleted", "b.created"]),
    st.lists(st.sampled_from(["eu", "us"]), max_size=2),
)
FILTER = st.builds(
    lambda payload, event_type: {"payload": payload, **({"eventType": event_type} if event_type else {})},
    SCHEMA,
    st.none() | st.sampled_from(["a.created", {"$startsWith": "a."}]),
)


@settings(max_examples=300, deadline=None)
@given(FILTER, DOCUMENT)
def test_matches_agrees_with_the_reference(f: dict[str, Any], document: dict[str, Any]) -> None:
    assert matches(f, document) is ref(document, f)


@settings(max_examples=300, deadline=None)
@given(FILTER, FILTER, DOCUMENT)
def test_logic_composes(f: dict[str, Any], g: dict[str, Any], document: dict[str, Any]) -> None:
    a, b = matches(f, document), matches(g, document)
    for composed, expected in (({"$not": f}, not a), ({"$and": [f, g]}, a and b), ({"$or": [f, g]}, a or b)):
        try:
            assert matches(composed, document) is expected
        except FilterError as err:
            # Wrapping adds a level: two filters at the limits may make one past them.
            assert "too deep" in str(err) or "too large" in str(err), err


@settings(max_examples=300, deadline=None)
@given(JSON, DOCUMENT)
def test_arbitrary_input_is_refused_or_evaluated(candidate: Any, document: dict[str, Any]) -> None:
    try:
        check = compile_filter({"payload": candidate})
    except FilterError as err:
        assert err.location.startswith("$.payload")
        return
    assert check(document) in (True, False)
