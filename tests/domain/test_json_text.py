"""Finding half a surrogate pair in parsed JSON, and showing it safely."""

import json

from hookline.domain.json_text import has_lone_surrogate, lone_surrogate, printable


def test_whole_text_passes() -> None:
    tree = json.loads('{"a": ["b", {"c": "\\ud83d\\ude00"}], "n": 1, "t": true, "z": null}')
    assert lone_surrogate(tree) is None
    assert not has_lone_surrogate("\U0001f600")


def test_the_first_lone_surrogate_is_named_by_its_path() -> None:
    assert lone_surrogate(json.loads('{"a": [1, "x", {"b": "\\udc00"}]}')) == ("a", 2, "b")
    assert lone_surrogate(json.loads('["\\ud800"]')) == (0,)
    assert lone_surrogate("\ud800") == ()
    assert lone_surrogate(json.loads('{"a": "ok", "b": "\\ud800", "c": "\\ud801"}')) == ("b",)


def test_a_key_with_one_is_named_printably() -> None:
    where = lone_surrogate(json.loads('{"ok": {"k\\ud800": 1}}'))
    assert where == ("ok", "k\\ud800")
    assert all(isinstance(p, str) and p.encode() for p in where)  # encodable: no surrogate left


def test_printable_escapes_only_surrogates() -> None:
    assert printable("é\ud800\U0001f600") == "é\\ud800\U0001f600"


def test_stored_json_keeps_integers_beyond_64_bits() -> None:
    from hookline.domain.json_text import loads

    assert loads(b'{"n": 999999999999999999999999999999}') == {"n": 999999999999999999999999999999}
    assert loads('{"n": -9999999999999999999}') == {"n": -9999999999999999999}
    assert loads(b"[1, 2.5]") == [1, 2.5]
