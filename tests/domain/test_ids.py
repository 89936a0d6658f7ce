"""Ids sort as plain strings in the order one process made them."""

import threading
import time

from hookline.domain.ids import has_prefix, id_floor, new_id


def test_ids_made_in_a_burst_sort_in_the_order_they_were_made() -> None:
    # Thousands in a tight loop: many share a millisecond, where the random bits alone would
    # put about half of each pair out of order.
    made = [new_id("msg") for _ in range(20_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(has_prefix(i, "msg") for i in made)


def test_ids_made_on_several_threads_are_distinct_and_each_threads_sort() -> None:
    made: dict[int, list[str]] = {}

    def make(n: int) -> None:
        made[n] = [new_id("atmpt") for _ in range(5_000)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(ids == sorted(ids) for ids in made.values())
    assert len({i for ids in made.values() for i in ids}) == 20_000


def test_ids_pinned_to_one_millisecond_sort_in_the_order_they_were_made() -> None:
    # As the store makes them: a message's id carries its created_at.
    at = int(time.time() * 1000) + 1
    made = [new_id("msg", at) for _ in range(2_000)]
    assert made == sorted(made)
    assert all(id_floor("msg", at) < i < id_floor("msg", at + 1) for i in made)


def test_a_pinned_time_in_the_past_is_kept() -> None:
    new_id("msg")
    at = 1_700_000_000_123  # a replay of a request received long ago
    pinned = new_id("req", now_ms=at)
    assert id_floor("req", at) < pinned < id_floor("req", at + 1)


def test_ids_of_one_millisecond_sort_in_order_with_other_milliseconds_made_between() -> None:
    # As a publish and the engine make them: a message's id pinned to its request's time, an
    # attempt's id to a later one, then the next message's id, in the same millisecond as the first.
    at = int(time.time() * 1000) + 5
    messages = []
    for n in range(500):
        messages.append(new_id("msg", at))
        new_id("atmpt", at + 1 + n % 3)
    assert messages == sorted(messages)
