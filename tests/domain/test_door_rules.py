"""The pure rules at a source's door: allow-lists as given, and one request against a rate limit."""

import pytest

from hookline.domain.addresses import allowed_from, parse_networks
from hookline.domain.throttle import take_one


def test_allow_lists_are_checked_and_written_canonically() -> None:
    assert parse_networks(["10.9.0.0/16", " 192.0.2.7 ", "2001:DB8::/32"]) == (
        "10.9.0.0/16",
        "192.0.2.7/32",
        "2001:db8::/32",
    )
    for bad, says in ((["10.9.1.1/16"], "10.9.1.1/16"), (["nope"], "nope"), ([], "at least one")):
        with pytest.raises(ValueError, match=says):
            parse_networks(bad)
    with pytest.raises(ValueError, match="at most 100"):
        parse_networks([f"10.0.{i}.0/24" for i in range(101)])


def test_an_address_is_allowed_only_inside_the_list() -> None:
    networks = parse_networks(["10.9.0.0/16", "2001:db8::/32"])
    assert allowed_from("10.9.1.1", networks) and allowed_from("::ffff:10.9.1.1", networks)
    assert allowed_from("2001:db8::5", networks)
    assert not allowed_from("127.0.0.1", networks) and not allowed_from(None, networks)
    assert not allowed_from("not-an-address", networks)


def test_a_rate_admits_its_burst_then_says_when_to_retry() -> None:
    tat, now = None, 1_000_000
    for _ in range(5):
        verdict = take_one(tat, now, 5)
        assert verdict.retry_after_ms is None
        tat = verdict.tat
    refused = take_one(tat, now, 5)
    assert refused.retry_after_ms == 200 and refused.tat == tat  # one more in 1/5 s; state kept
    assert take_one(tat, now + 200, 5).retry_after_ms is None
