"""``hookline tail``: print delivery attempts as they happen."""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click

from hookline.cli.messaging import TRIGGERS, URL_WIDTH, attempt_error, attempt_url
from hookline.cli.options import Seconds, Session, api_command, when
from hookline.cli.output import cell
from hookline.client import Attempt, HooklineError

# Attempts are recorded a little after their id's time (batched writes), so
# every poll looks this far behind the newest attempt seen, and skips repeats.
LAG = timedelta(seconds=15)
# Unreachable, or a proxy's or a restarting server's answer: the next poll may well succeed.
_PASSING = frozenset({0, 502, 503, 504})
LINE = f"{{:<19}}  {{:<7}}  {{:>4}}  {{:>6}}  {{:<2}}  {{:<26}}  {{:<25}}  {{:<{URL_WIDTH}}}  {{}}"


@dataclass
class Tail:
    """Which attempts have been printed, and how far back the next poll must look."""

    after: datetime | None = None
    seen: dict[str, datetime] = field(default_factory=dict)

    def absorb(self, attempts: Iterable[Attempt]) -> list[Attempt]:
        """The attempts inside the window not seen before, oldest first; moves the window forward."""
        fresh = (a for a in attempts if a.id not in self.seen and (self.after is None or a.timestamp >= self.after))
        new = sorted(fresh, key=lambda a: a.id)
        for a in new:
            self.seen[a.id] = a.timestamp
        if self.seen:
            start = max(self.seen.values()) - LAG
            if self.after is None or start > self.after:
                self.after = start
                self.seen = {k: v for k, v in self.seen.items() if v >= start}
        return new


def header() -> str:
    return LINE.format("TIME", "STATUS", "CODE", "MS", "#", "MSG", "ENDPOINT", "URL", "ERROR").rstrip()


def line(a: Attempt) -> str:
    code = a.response_status_code or "-"
    number = f"{a.attempt_number}" + ("m" if TRIGGERS.get(a.trigger_type) == "manual" else "")
    return LINE.format(
        cell(a.timestamp),
        a.status_text,
        code,
        a.response_duration_ms,
        number,
        a.msg_id,
        a.endpoint_id,
        attempt_url(a),
        attempt_error(a),
    ).rstrip()


def _poll(session: Session, app_id: str, endpoint_ids: tuple[str, ...], after: datetime | None) -> list[Attempt]:
    client = session.client
    targets = endpoint_ids or tuple(e.id for e in client.iterate(client.endpoints.list, app_id, limit=250))
    found: list[Attempt] = []
    for endpoint_id in targets:
        if after is None:  # nothing seen yet: the newest page is enough
            found += client.attempts.list_by_endpoint(app_id, endpoint_id, limit=250).data
        else:
            found += client.iterate(client.attempts.list_by_endpoint, app_id, endpoint_id, limit=250, after=after)
    return found


@click.command("tail")
@click.argument("app_id", metavar="APP")
@click.option("--endpoint", "endpoint_ids", multiple=True, help="Only this endpoint (repeat; default: all of APP's)")
@click.option("--since", metavar="WHEN", callback=when, help="Also show attempts since then: 10m, 2h, or an ISO time")
@click.option("--interval", type=Seconds(0.05, 3600), default=1.0, show_default=True, help="Seconds between polls")
@click.option("--count", type=click.IntRange(1), help="Stop after this many attempts")
@click.option("--max-seconds", type=Seconds(0), help="Stop after this long")
@api_command
def tail(
    session: Session,
    app_id: str,
    endpoint_ids: tuple[str, ...],
    since: datetime | None,
    interval: float,
    count: int | None,
    max_seconds: float | None,
) -> None:
    """Follow APP's delivery attempts live, until Ctrl-C (or --count / --max-seconds).

    With --json, prints one attempt per line (JSON Lines).
    """
    state = Tail(after=since)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    printed = 0
    try:
        first = since is None
        polled = False  # a server down at the start is an error; one that goes away later is waited for
        outage = False
        while True:
            try:
                found = _poll(session, app_id, endpoint_ids, state.after)
            except HooklineError as exc:
                if not polled or exc.status not in _PASSING:
                    raise
                if not outage:
                    click.echo(f"hookline tail: {exc.message}; still trying", err=True)
                outage = True
                time.sleep(min(max(interval, 1.0), 5.0))
                continue
            if outage:
                click.echo("hookline tail: the server answers again", err=True)
            if not polled and not session.as_json:
                click.echo(header())  # once the server has answered: an unknown APP prints only its error
            polled, outage = True, False
            new = state.absorb(found)
            for attempt in [] if first else new:
                click.echo(json.dumps(attempt.raw) if session.as_json else line(attempt))
                printed += 1
                if count is not None and printed >= count:
                    return
            first = False
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))
    except KeyboardInterrupt:
        return
