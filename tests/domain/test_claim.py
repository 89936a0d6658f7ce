"""The fair claim policy over plain data, with a fake clock: caps, fairness, throttles."""

from collections import Counter

from hookline.domain.claim import FAIR, Candidate, Choice, Load, Throttle

NOW = 1_000_000


def due(endpoint: str, count: int, app: str = "app") -> list[Candidate]:
    return [Candidate(f"{endpoint}-{n}", endpoint, app) for n in range(count)]


def claim(
    candidates: list[Candidate],
    *,
    now: int = NOW,
    limit: int = 100,
    cap: int = 10,
    in_flight: dict[str, int] | None = None,
    endpoint_throttles: dict[str, Throttle] | None = None,
    app_throttles: dict[str, Throttle] | None = None,
) -> Choice:
    """One claim as the store runs it: exclusions first, then a choice among what is due."""
    eps, apps = endpoint_throttles or {}, app_throttles or {}
    load = Load(now, limit, cap, in_flight or {}, eps, apps)
    excluded = FAIR.exclude(load)
    readable = [c for c in candidates if c.endpoint_id not in excluded.endpoints and c.app_id not in excluded.apps]
    return FAIR.choose(load, excluded, readable[: FAIR.window(limit)], eps, apps)


def per_endpoint(choice: Choice) -> Counter[str]:
    return Counter(c.endpoint_id for c in choice.picked)


# -- caps ----------------------------------------------------------------------
def test_an_endpoint_gets_no_more_than_its_cap() -> None:
    choice = claim(due("a", 50), cap=10)
    assert per_endpoint(choice) == {"a": 10}
    # Its leftovers wait for a slot: claiming again at once would find none.
    assert not choice.more_due


def test_leases_already_in_flight_count_against_the_cap() -> None:
    choice = claim(due("a", 50) + due("b", 5), cap=10, in_flight={"a": 7})
    assert per_endpoint(choice) == {"a": 3, "b": 5}


def test_an_endpoint_at_its_cap_is_not_even_read() -> None:
    load = Load(NOW, 100, 10, {"a": 10, "b": 9})
    assert FAIR.exclude(load).endpoints == {"a"}


def test_leftovers_of_a_cap_do_not_ask_for_an_early_wake_up() -> None:
    choice = claim(due("a", 50), cap=10)
    assert choice.wake_at is None


# -- fairness ------------------------------------------------------------------
def test_round_robin_across_endpoints_in_due_order() -> None:
    # A crowded endpoint's rows come first in due order; the quiet ones still get turns.
    candidates = due("busy", 20) + due("quiet1", 2) + due("quiet2", 2)
    choice = claim(candidates, limit=6, cap=100)
    assert [c.endpoint_id for c in choice.picked] == ["busy", "quiet1", "quiet2", "busy", "quiet1", "quiet2"]
    # Within an endpoint, earliest due first.
    assert [c.id for c in choice.picked if c.endpoint_id == "busy"] == ["busy-0", "busy-1"]


def test_the_limit_is_never_exceeded_and_leftovers_are_reported() -> None:
    choice = claim(due("a", 30) + due("b", 30), limit=25, cap=100)
    assert len(choice.picked) == 25 and choice.more_due
    assert per_endpoint(choice) == {"a": 13, "b": 12}


def test_nothing_left_behind_means_no_more_due() -> None:
    choice = claim(due("a", 3) + due("b", 2))
    assert len(choice.picked) == 5 and not choice.more_due and choice.wake_at is None


def test_the_candidate_window_is_wider_than_the_limit() -> None:
    assert FAIR.window(100) > 100


# -- throttles -----------------------------------------------------------------
def test_a_fresh_throttled_endpoint_sends_one_and_waits_its_interval() -> None:
    throttles = {"slow": Throttle(rate=5, tat=None)}  # 5/s: one every 200 ms
    choice = claim(due("slow", 10) + due("fast", 3), endpoint_throttles=throttles)
    assert per_endpoint(choice) == {"slow": 1, "fast": 3}
    assert choice.endpoint_tats == {"slow": NOW + 200}
    assert choice.wake_at == NOW + 200


def test_a_throttle_paces_sends_over_a_fake_clock() -> None:
    """Claim every 50 ms for two seconds of fake time: 5/s lets exactly one through every 200 ms."""
    throttle = Throttle(rate=5, tat=None)
    sent_at: list[int] = []
    for now in range(NOW, NOW + 2000, 50):
        choice = claim(due("slow", 10), now=now, endpoint_throttles={"slow": throttle})
        if choice.picked:
            sent_at.append(now)
            throttle = Throttle(5, choice.endpoint_tats["slow"])
        else:
            assert choice.wake_at is not None and choice.wake_at > now
    assert sent_at == [NOW + 200 * n for n in range(10)]


def test_a_blocked_throttle_excludes_the_endpoint_and_says_when_it_opens() -> None:
    load = Load(NOW, 100, 10, endpoint_throttles={"slow": Throttle(5, NOW + 150)})
    excluded = FAIR.exclude(load)
    assert excluded.endpoints == {"slow"} and excluded.wake_at == NOW + 150
    # A throttle whose next slot has come is not excluded.
    assert not FAIR.exclude(Load(NOW + 150, 100, 10, endpoint_throttles={"slow": Throttle(5, NOW + 150)})).endpoints


def test_an_application_throttle_spans_its_endpoints() -> None:
    apps = {"app": Throttle(rate=4, tat=None)}
    choice = claim(due("a", 5) + due("b", 5) + due("other", 2, app="free"), app_throttles=apps)
    picked_of_app = [c for c in choice.picked if c.app_id == "app"]
    assert len(picked_of_app) == 1
    assert per_endpoint(choice)["other"] == 2
    assert choice.app_tats == {"app": NOW + 250} and choice.wake_at == NOW + 250


def test_throttle_state_is_written_only_for_owners_that_send() -> None:
    throttles = {"slow": Throttle(rate=5, tat=None), "idle": Throttle(rate=5, tat=None)}
    choice = claim(due("slow", 2), endpoint_throttles=throttles)
    assert choice.endpoint_tats == {"slow": NOW + 200}


def test_a_cap_and_a_throttle_together_take_the_tighter() -> None:
    throttles = {"a": Throttle(rate=1000, tat=None)}  # one at a time, one per ms
    assert per_endpoint(claim(due("a", 10), cap=3, endpoint_throttles=throttles)) == {"a": 1}
    assert not claim(due("a", 10), cap=3, in_flight={"a": 3}, endpoint_throttles=throttles).picked
