"""Claim policies: which due deliveries one claim takes, decided over plain data.

The store reads the facts (leases in flight, throttle state, due candidates in
due order) and writes the decision (leases, new throttle state); every rule in
between lives here, pure. A policy answers two questions: what to leave out
before candidates are read (:meth:`ClaimPolicy.exclude`), and which candidates to
take (:meth:`ClaimPolicy.choose`). Another policy (FIFO, say) sits beside
:class:`FairPolicy` and reuses the same facts, so the SQL never changes for it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from hookline.domain.throttle import admit, blocked_until


class Candidate(NamedTuple):
    """A due delivery, as the store lists them: earliest due first. (A tuple: a claim
    reads several times as many candidates as it takes, and builds each one.)"""

    id: str
    endpoint_id: str
    app_id: str
    fifo_key: str | None = None  # set while the delivery is in a FIFO queue
    fifo_seq: int | None = None


@dataclass(frozen=True)
class Throttle:
    rate: int  # sends per second
    tat: int | None  # GCRA theoretical arrival time, ms (see throttle.py)


@dataclass(frozen=True)
class Load:
    """What a claim knows before it reads candidates."""

    now: int
    limit: int  # most deliveries this claim may take
    endpoint_cap: int  # most leases in flight per endpoint, over every process
    in_flight: Mapping[str, int] = field(default_factory=dict)  # unexpired leases per endpoint
    # Throttled endpoints and applications that sent recently (the others cannot be blocked).
    endpoint_throttles: Mapping[str, Throttle] = field(default_factory=dict)
    app_throttles: Mapping[str, Throttle] = field(default_factory=dict)
    # FIFO queues (endpoint id, key) with a delivery leased now: none of theirs may be taken.
    fifo_busy: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Exclusions:
    endpoints: frozenset[str]
    apps: frozenset[str]
    wake_at: int | None  # when a blocked throttle admits again


@dataclass(frozen=True)
class Choice:
    picked: list[Candidate]
    # New GCRA state for each throttled endpoint and application that sends now.
    endpoint_tats: dict[str, int]
    app_tats: dict[str, int]
    # Candidates were left behind that a claim could take at once: only the limit held them
    # back. Leftovers of a cap or a throttle wait for a freed slot or for wake_at instead.
    more_due: bool
    wake_at: int | None


class ClaimPolicy(Protocol):
    def window(self, limit: int) -> int:
        """How many due candidates to read for a claim of ``limit``."""
        ...

    def exclude(self, load: Load) -> Exclusions: ...

    def choose(
        self,
        load: Load,
        excluded: Exclusions,
        candidates: Sequence[Candidate],
        endpoint_throttles: Mapping[str, Throttle],
        app_throttles: Mapping[str, Throttle],
    ) -> Choice:
        """Pick from ``candidates``; the throttles cover every owner among them."""
        ...


def _earliest(*moments: int | None) -> int | None:
    return min((m for m in moments if m is not None), default=None)


def blocked(throttles: Mapping[str, Throttle], now: int) -> dict[str, int]:
    """Owners whose throttle admits nothing at ``now``: {id: when it admits again}."""
    return {
        owner: blocked_until(t.tat, t.rate)
        for owner, t in throttles.items()
        if admit(t.tat, now, t.rate, 1).admitted == 0
    }


def exclusions(load: Load) -> Exclusions:
    """Endpoints at their cap or throttled, and throttled applications: not worth reading."""
    endpoints = blocked(load.endpoint_throttles, load.now)
    apps = blocked(load.app_throttles, load.now)
    full = {e for e, n in load.in_flight.items() if n >= load.endpoint_cap}
    return Exclusions(
        frozenset(endpoints) | frozenset(full), frozenset(apps), _earliest(*endpoints.values(), *apps.values())
    )


def room(throttles: Mapping[str, Throttle], now: int, limit: int) -> dict[str, int]:
    """How many sends each throttled owner admits at ``now`` (at most ``limit``)."""
    return {owner: admit(t.tat, now, t.rate, limit).admitted for owner, t in throttles.items()}


def settle(
    throttles: Mapping[str, Throttle], sent: Mapping[str, int], waiting: set[str], now: int
) -> tuple[dict[str, int], int | None]:
    """New TATs for owners that send now, and when the first one its throttle held back admits again."""
    tats: dict[str, int] = {}
    wake: list[int] = []
    for owner, t in throttles.items():
        tat = t.tat
        if sent.get(owner):
            tat = tats[owner] = admit(t.tat, now, t.rate, sent[owner]).tat
        # Work left behind by a cap or the limit is not a reason to wake early.
        if owner in waiting and admit(tat, now, t.rate, 1).admitted == 0:
            wake.append(blocked_until(tat, t.rate))
    return tats, min(wake, default=None)


@dataclass(frozen=True)
class FairPolicy:
    """Round-robin across endpoints in due order, within each endpoint's cap and throttle
    and each application's throttle: a busy endpoint cannot starve a quiet one."""

    # Read more candidates than we may take, so one crowded endpoint leaves room for others.
    overread: int = 4

    def window(self, limit: int) -> int:
        return limit * self.overread

    def exclude(self, load: Load) -> Exclusions:
        return exclusions(load)

    def choose(
        self,
        load: Load,
        excluded: Exclusions,
        candidates: Sequence[Candidate],
        endpoint_throttles: Mapping[str, Throttle],
        app_throttles: Mapping[str, Throttle],
    ) -> Choice:
        queues: dict[str, list[Candidate]] = {}
        for c in candidates:
            queues.setdefault(c.endpoint_id, []).append(c)
        ep_room = {e: load.endpoint_cap - load.in_flight.get(e, 0) for e in queues}
        for e, admitted in room(endpoint_throttles, load.now, load.limit).items():
            ep_room[e] = min(ep_room.get(e, 0), admitted)
        app_room = room(app_throttles, load.now, load.limit)
        picked: list[Candidate] = []
        progressed = True
        while progressed and len(picked) < load.limit:
            progressed = False
            for endpoint_id, waiting in queues.items():
                if len(picked) == load.limit:
                    break
                if not waiting or ep_room[endpoint_id] <= 0 or app_room.get(waiting[0].app_id, 1) <= 0:
                    continue
                chosen = waiting.pop(0)
                picked.append(chosen)
                ep_room[endpoint_id] -= 1
                if chosen.app_id in app_room:
                    app_room[chosen.app_id] -= 1
                progressed = True
        # The loop ends at the limit, or when every leftover waits for a cap or a throttle.
        at_limit = len(picked) == load.limit
        return _choice(load, excluded, candidates, picked, endpoint_throttles, app_throttles, at_limit)


def _choice(
    load: Load,
    excluded: Exclusions,
    candidates: Sequence[Candidate],
    picked: list[Candidate],
    endpoint_throttles: Mapping[str, Throttle],
    app_throttles: Mapping[str, Throttle],
    at_limit: bool,
) -> Choice:
    taken = {c.id for c in picked}
    left = [c for c in candidates if c.id not in taken]
    sent_eps: dict[str, int] = {}
    sent_apps: dict[str, int] = {}
    for c in picked:
        sent_eps[c.endpoint_id] = sent_eps.get(c.endpoint_id, 0) + 1
        sent_apps[c.app_id] = sent_apps.get(c.app_id, 0) + 1
    ep_tats, ep_wake = settle(endpoint_throttles, sent_eps, {c.endpoint_id for c in left}, load.now)
    app_tats, app_wake = settle(app_throttles, sent_apps, {c.app_id for c in left}, load.now)
    return Choice(picked, ep_tats, app_tats, at_limit and bool(left), _earliest(excluded.wake_at, ep_wake, app_wake))


FAIR = FairPolicy()


# -- FIFO endpoints ----------------------------------------------------------------------
FIFO_ON_EXHAUSTED = ("skip", "block")


def fifo_key(ordering_key: str | None, channels: Sequence[str] | None) -> str:
    """The FIFO order a message belongs to on a FIFO endpoint: its ordering key, else its
    channels, else the endpoint's one order."""
    if ordering_key is not None:
        return "k:" + ordering_key
    if channels:
        return "c:" + ",".join(sorted(channels))
    return ""


def starts_due(queue_is_empty: bool) -> bool:
    """A new delivery to a FIFO queue is due at once only if nothing is ahead of it; else it
    waits (not due) until the deliveries ahead leave the queue."""
    return queue_is_empty


def leaves_queue(succeeded: bool, exhausted: bool, on_exhausted: str) -> bool:
    """Whether a finished attempt lets the next delivery of its FIFO queue go: a success
    does; an exhausted delivery does with ``skip``, and blocks the queue with ``block``
    until an operator resends or skips it."""
    if succeeded:
        return True
    return exhausted and on_exhausted == "skip"


@dataclass(frozen=True)
class FifoPolicy:
    """FIFO endpoints beside ``inner`` (the fair policy): of each FIFO queue, only its head,
    and only while none of the queue is leased. Deliveries outside FIFO queues are left to
    ``inner`` as they are, so other endpoints are not slowed.

    The store keeps one delivery per queue due (the others wait undue until the head leaves
    the queue, see ``leaves_queue``); this policy is what makes "one at a time, lowest first"
    hold even when more are due (a manual resend) or several processes claim."""

    inner: ClaimPolicy = FAIR

    def window(self, limit: int) -> int:
        return self.inner.window(limit)

    def exclude(self, load: Load) -> Exclusions:
        return self.inner.exclude(load)

    def choose(
        self,
        load: Load,
        excluded: Exclusions,
        candidates: Sequence[Candidate],
        endpoint_throttles: Mapping[str, Throttle],
        app_throttles: Mapping[str, Throttle],
    ) -> Choice:
        heads: dict[tuple[str, str], Candidate] = {}
        for c in candidates:
            if c.fifo_key is None:
                continue
            queue = (c.endpoint_id, c.fifo_key)
            if queue in load.fifo_busy:
                continue
            best = heads.get(queue)
            if best is None or (c.fifo_seq or 0) < (best.fifo_seq or 0):
                heads[queue] = c
        allowed = {c.id for c in heads.values()}
        eligible = [c for c in candidates if c.fifo_key is None or c.id in allowed]
        # Held-back rows are not "more due": they wait for their head, not for a slot.
        return self.inner.choose(load, excluded, eligible, endpoint_throttles, app_throttles)


FIFO = FifoPolicy()
