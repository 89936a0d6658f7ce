"""Ids sort as plain strings in the order one process made them."""

import threading

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


def test_a_pinned_time_is_kept_and_the_time_floor_sorts_below_it() -> None:
    at = 1_700_000_000_123
    pinned = new_id("msg", now_ms=at)
    assert id_floor("msg", at) < pinned < id_floor("msg", at + 1)
