"""What a capture URL answers: its configured response, and Svix Play's per-request overrides."""

import random

import pytest

from hookline.domain.captured import CapturedRequest
from hookline.domain.inspect import (
    BinResponse,
    OverrideError,
    Overrides,
    configured_reply,
    forwardable_headers,
    new_token,
    parse_overrides,
)

REQUEST = CapturedRequest("POST", "", "", (("Content-Type", "application/x-a"),), b"\x00body", None, 0)


def test_tokens_carry_at_least_128_random_bits() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) * 6 >= 128 for t in tokens)


def test_overrides_parse_and_refuse_by_name() -> None:
    assert parse_overrides("") == Overrides()
    assert parse_overrides("force_status_code=503&echo_body=true") == Overrides(503, None, True)
    assert parse_overrides("random_failure_rate=0.25&x=1") == Overrides(None, 0.25, False)
    for query, name in [
        ("force_status_code=99", "force_status_code"),
        ("force_status_code=x", "force_status_code"),
        ("random_failure_rate=2", "random_failure_rate"),
        ("echo_body=maybe", "echo_body"),
    ]:
        with pytest.raises(OverrideError) as caught:
            parse_overrides(query)
        assert caught.value.name == name


def test_reply_applies_overrides_over_the_configured_response() -> None:
    response = BinResponse(201, "application/json", "{}", (("X-A", "1"),), 2.0)
    plain = configured_reply(response, REQUEST, Overrides())
    assert (plain.status, plain.body, plain.delay) == (201, b"{}", 2.0)
    assert plain.headers == (("content-type", "application/json"), ("X-A", "1"))
    echoed = configured_reply(response, REQUEST, Overrides(echo_body=True))
    assert echoed.body == b"\x00body" and echoed.headers[0] == ("content-type", "application/x-a")
    assert configured_reply(response, REQUEST, Overrides(force_status_code=503)).status == 503
    rng = random.Random(1)
    statuses = [configured_reply(response, REQUEST, Overrides(random_failure_rate=0.5), rng).status for _ in range(200)]
    assert 50 < statuses.count(500) < 150 and set(statuses) == {201, 500}


def test_forwarded_headers_drop_only_hop_by_hop_ones() -> None:
    headers = (("Host", "a"), ("X-B", "1"), ("content-length", "3"), ("x-b", "2"), ("Connection", "close"))
    assert forwardable_headers(headers) == (("X-B", "1"), ("x-b", "2"))
