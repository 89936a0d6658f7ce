"""The FIFO claim policy over plain data: one delivery per queue, lowest first, none while
the queue is leased; everything else is the fair policy's."""

from hookline.domain.claim import FAIR, FIFO, Candidate, Choice, FifoPolicy, Load, fifo_key, leaves_queue

NOW = 1_000_000


def claim(candidates: list[Candidate], *, busy: frozenset[tuple[str, str]] = frozenset(), limit: int = 100) -> Choice:
    load = Load(NOW, limit, 10, {}, {}, {}, busy)
    return FIFO.choose(load, FIFO.exclude(load), candidates, {}, {})


def test_only_the_lowest_of_each_queue_is_taken() -> None:
    due = [
        Candidate("q2", "ep", "app", "", 2),
        Candidate("q1", "ep", "app", "", 1),
        Candidate("k1", "ep", "app", "k:a", 7),
        Candidate("plain1", "other", "app"),
        Candidate("plain2", "other", "app"),
    ]
    picked = {c.id for c in claim(due).picked}
    assert picked == {"q1", "k1", "plain1", "plain2"}


def test_a_leased_queue_gives_nothing_and_others_are_not_held_up() -> None:
    due = [Candidate("q1", "ep", "app", "", 1), Candidate("plain", "other", "app")]
    choice = claim(due, busy=frozenset({("ep", "")}))
    assert [c.id for c in choice.picked] == ["plain"]
    assert not choice.more_due  # waiting for its head is not a reason to claim again at once


def test_without_fifo_candidates_it_is_the_fair_policy() -> None:
    due = [Candidate(f"{e}-{n}", e, "app") for e in ("a", "b") for n in range(20)]
    load = Load(NOW, 15, 10, {}, {}, {})
    ours = FIFO.choose(load, FIFO.exclude(load), due, {}, {})
    fair = FAIR.choose(load, FAIR.exclude(load), due, {}, {})
    assert ours == fair
    assert FifoPolicy().window(10) == FAIR.window(10)


def test_keys() -> None:
    assert fifo_key("tenant-1", ["eu"]) == "k:tenant-1"
    assert fifo_key(None, ["us", "eu"]) == fifo_key(None, ["eu", "us"]) == "c:eu,us"
    assert fifo_key(None, None) == fifo_key(None, []) == ""


def test_what_lets_the_next_one_go() -> None:
    assert leaves_queue(True, False, "block")
    assert leaves_queue(False, True, "skip")
    assert not leaves_queue(False, True, "block")
    assert not leaves_queue(False, False, "skip")  # retrying: still the head
