"""Endpoint matching, id ordering and GCRA throttling."""

import itertools

from hookline.domain.ids import has_prefix, id_floor, new_id
from hookline.domain.matching import endpoint_matches
from hookline.domain.throttle import admit, blocked_until


def _matches(event_types=None, channels=None, event="a.b", msg_channels=None, disabled=False) -> bool:
    return endpoint_matches(
        disabled=disabled,
        endpoint_event_types=event_types,
        endpoint_channels=channels,
        event_type=event,
        message_channels=msg_channels,
    )


def test_matching() -> None:
    assert _matches()
    assert not _matches(disabled=True)
    assert _matches(event_types=["a.b"]) and not _matches(event_types=["x.y"])
    assert _matches(channels=["eu"], msg_channels=["eu", "us"])
    assert not _matches(channels=["eu"], msg_channels=["us"])
    assert not _matches(channels=["eu"])
    assert _matches(msg_channels=["eu"])  # an endpoint without channels takes every message


def test_ids_sort_by_time_and_floors_bound_them() -> None:
    early, late = new_id("msg", 1_000), new_id("msg", 2_000)
    assert early < late
    assert id_floor("msg", 1_000) <= early < id_floor("msg", 1_001)
    assert has_prefix(early, "msg") and not has_prefix(early, "app")
    assert len({new_id("msg", 5) for _ in range(1000)}) == 1000


def test_an_id_is_its_time_and_random_bits_in_22_base62_digits() -> None:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    def number(id_: str) -> int:
        value = 0
        for char in id_.split("_", 1)[1]:
            value = value * 62 + alphabet.index(char)
        return value

    for at in (0, 1, 1_764_900_000_000, (1 << 48) - 1):
        made = new_id("dlv", at)
        assert len(made) == 4 + 22 and made.startswith("dlv_")
        assert number(made) >> 80 == at
        assert number(id_floor("dlv", at)) == at << 80
    assert id_floor("x", 0) == "x_" + "0" * 22
    assert number(new_id("x", (1 << 48) - 1)) < 1 << 128


def test_gcra_spaces_sends_at_the_rate() -> None:
    tat = None
    sent = []
    for now in range(0, 3000, 10):
        result = admit(tat, now, 5, want=100)
        tat = result.tat
        sent += [now] * result.admitted
    assert len(sent) == 15
    assert all(b - a >= 200 for a, b in itertools.pairwise(sent))


def test_blocked_until_is_when_the_next_send_is_admitted() -> None:
    first = admit(None, 1000, 2, want=1)
    when = blocked_until(first.tat, 2)
    assert admit(first.tat, when - 2, 2, want=1).admitted == 0
    assert admit(first.tat, when, 2, want=1).admitted == 1
