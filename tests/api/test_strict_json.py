"""JSON bodies mean exactly one thing: NaN, infinities, numbers beyond range, repeated keys
and lone surrogates are refused with a 422 naming their path, on the publish route and
every other."""

import pytest

JSON = {"content-type": "application/json"}


def _publish(c, body: bytes):
    return c.post("/api/v1/app/acme/msg", content=body, headers=JSON)


@pytest.fixture
def c(hookline):
    with hookline.client() as client:
        assert client.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        yield client


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"1" + b"0" * 400 + b".0"])
def test_non_finite_numbers_are_refused_naming_the_path(c, number: bytes) -> None:
    resp = _publish(c, b'{"eventType":"a.b","payload":{"n":1,"x":' + number + b"}}")
    assert resp.status_code == 422, resp.text
    (problem,) = resp.json()["detail"]
    assert problem["loc"] == ["body", "payload", "x"]
    assert problem["msg"].startswith("payload.x: ")
    assert c.get("/api/v1/app/acme/msg").json()["data"] == []  # nothing stored


def test_nested_paths_are_named(c) -> None:
    resp = _publish(c, b'{"eventType":"a.b","payload":{"items":[{"price":1.5},{"price":NaN}]}}')
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "payload", "items", 1, "price"]


def test_a_5000_digit_integer_gets_a_clear_error(c) -> None:
    resp = _publish(c, b'{"eventType":"a.b","payload":{"big":' + b"7" * 5000 + b"}}")
    assert resp.status_code == 422
    (problem,) = resp.json()["detail"]
    assert problem["loc"] == ["body", "payload", "big"]
    assert "5000 digits" in problem["msg"] and "at most 4300" in problem["msg"]


def test_long_integers_within_the_limit_are_kept_exactly(c) -> None:
    big = b"9" * 1000
    resp = _publish(c, b'{"eventType":"a.b","payload":{"big":' + big + b',"f":0.1}}')
    assert resp.status_code == 202, resp.text
    assert b'"big":' + big + b"," in resp.content


def test_duplicate_keys_are_refused_naming_the_key(c) -> None:
    resp = _publish(c, b'{"eventType":"a.b","payload":{},"eventType":"c.d"}')
    assert resp.status_code == 422
    (problem,) = resp.json()["detail"]
    assert problem["loc"] == ["body", "eventType"]
    assert "duplicate key 'eventType'" in problem["msg"]
    nested = _publish(c, b'{"eventType":"a.b","payload":{"id":1,"id":2}}')
    assert nested.status_code == 422
    assert nested.json()["detail"][0]["loc"] == ["body", "payload", "id"]


def test_every_json_route_is_held_to_the_same_rules(c) -> None:
    dup = c.post("/api/v1/app", content=b'{"name":"a","name":"b"}', headers=JSON)
    assert dup.status_code == 422
    assert dup.json()["detail"][0]["loc"] == ["body", "name"]
    nan = c.put("/api/v1/app/acme", content=b'{"name":"Acme","metadata":{"x":NaN}}', headers=JSON)
    assert nan.status_code == 422
    assert nan.json()["detail"][0]["loc"] == ["body", "metadata", "x"]


def test_invalid_json_is_still_reported_by_the_route(c) -> None:
    resp = _publish(c, b'{"eventType":')
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"eventType":"a.b","payload":{"note":"x\\ud800y"}}', ["body", "payload", "note"]),
        (b'{"eventType":"a.b","payload":{"list":["ok","\\udc00"]}}', ["body", "payload", "list", 1]),
        (b'{"eventType":"a.b","payload":{"k\\ud800":1}}', ["body", "payload", "k\\ud800"]),
    ],
)
def test_a_lone_surrogate_is_refused_naming_where_it_is(c, body: bytes, loc: list[object]) -> None:
    """``"\\ud800"`` parses in Python as half a character that UTF-8 cannot write: the
    publish route answered only "not valid JSON"."""
    resp = _publish(c, body)
    assert resp.status_code == 422, resp.text
    (problem,) = resp.json()["detail"]
    assert problem["loc"] == loc and problem["type"] == "string_unicode"
    assert "lone UTF-16 surrogate" in problem["msg"]
    assert c.get("/api/v1/app/acme/msg").json()["data"] == []


def test_a_surrogate_pair_is_one_character_and_kept(c) -> None:
    resp = _publish(c, b'{"eventType":"a.b","payload":{"smile":"\\ud83d\\ude00"}}')
    assert resp.status_code == 202, resp.text
    assert resp.json()["payload"] == {"smile": "\U0001f600"}


def test_a_lone_surrogate_in_an_untyped_field_is_not_stored(c) -> None:
    """Event-type schemas are any JSON: a lone surrogate in one was stored, then the answer
    and every later read of the event type failed with a 500."""
    body = b'{"name":"a.c","description":"d","schemas":{"1":{"title":"x\\ud800"}}}'
    resp = c.post("/api/v1/event-type", content=body, headers=JSON)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["body", "schemas", "1", "title"]
    assert c.get("/api/v1/event-type/a.c").status_code == 404
    spec = '{"openapi": "3.1.0", "info": {"title": "t\\ud800", "version": "1"}, "webhooks": {}}'
    imported = c.post("/api/v1/event-type/import/openapi", json={"specRaw": spec})
    assert imported.status_code == 422, imported.text
    assert imported.json()["detail"][0]["loc"] == ["body", "specRaw", "info", "title"]


def test_a_body_that_is_not_utf8_is_named_as_such(c) -> None:
    for route in ("/api/v1/app/acme/msg", "/api/v1/app"):
        resp = c.post(route, content=b'{"name": "caf\xe9"}', headers=JSON)
        assert resp.status_code == 422, resp.text
        (problem,) = resp.json()["detail"]
        assert problem["loc"] == ["body"] and "not UTF-8 text (byte 13)" in problem["msg"]
