"""The shared vocabulary: enums, records, and the exception root."""

import pytest

from hookline.api.schemas import STATUS_TEXT, MessageStatus
from hookline.domain.model import DeliveryStatus, EventType, Trigger, reserved_header
from hookline.errors import Conflict, HooklineError, Invalid, NotFound
from hookline.services.endpoints import merge_headers, split_sensitive
from hookline.store.errors import ConflictError, NotFoundError


def test_the_api_status_enum_is_the_delivery_status() -> None:
    assert {s.name: s.value for s in MessageStatus} == {s.name: s.value for s in DeliveryStatus}
    assert STATUS_TEXT == {0: "success", 1: "pending", 2: "fail", 3: "sending"}
    assert (Trigger.SCHEDULED, Trigger.MANUAL) == (0, 1)


def test_a_record_reads_by_attribute_only() -> None:
    et = EventType("a.b", "desc", False, True, None, None, 1, 2)
    assert et.name == "a.b" and et.deprecated is True
    with pytest.raises(TypeError):
        et["name"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        et.name = "other"  # type: ignore[misc]


def test_store_errors_are_the_one_root() -> None:
    assert NotFoundError is NotFound and ConflictError is Conflict
    assert issubclass(NotFound, HooklineError) and issubclass(Conflict, HooklineError)
    assert str(NotFound("endpoint")) == "endpoint not found"


def test_headers_merge_case_insensitively_and_hide_credentials() -> None:
    merged = merge_headers({"X-A": "1", "Authorization": "secret"}, {"x-a": "2", "X-Gone": None})
    assert merged == {"Authorization": "secret", "x-a": "2"}
    assert split_sensitive(merged) == ({"x-a": "2"}, ["Authorization"])
    named = {"X-Auth-Token": "t", "X-API-Key": "k", "Api_Key": "k", "X-Client-Secret": "s", "X-Request-Id": "r"}
    assert split_sensitive(named) == (
        {"X-Request-Id": "r"},
        ["Api_Key", "X-API-Key", "X-Auth-Token", "X-Client-Secret"],
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("HOST", "hookline sets it"),
        ("svix-anything", "reserved for the signature"),
        ("Webhook-Timestamp", "hookline sets it"),
        ("transfer-encoding", "HTTP connection"),
        ("Content-Encoding", "unencoded"),
        ("Proxy-Authorization", "outbound proxy"),
        ("X-Team", None),
        ("Webhook-Source", None),
        ("Authorization", None),
    ],
)
def test_custom_header_names_hookline_owns_are_refused_with_the_reason(name: str, why: str | None) -> None:
    reason = reserved_header(name)
    assert (reason is None) if why is None else (reason is not None and why in reason)
    if why is None:
        assert merge_headers({}, {name: "v"}) == {name: "v"}
    else:
        with pytest.raises(Invalid) as refused:
            merge_headers({}, {name: "v"})
        assert refused.value.field == ["body", "headers", name]
    assert merge_headers({name: "old"}, {name: None}) == {}  # one stored before the rule can go
