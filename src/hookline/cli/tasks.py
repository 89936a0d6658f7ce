"""``hookline recover`` and ``replay``: background tasks, followed with a progress bar."""

import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import click

from hookline.cli.messaging import STATUSES
from hookline.cli.options import Seconds, Session, api_command, when
from hookline.cli.output import show
from hookline.client import BackgroundTask

TASK_COLUMNS = ("id", "task", "status", "done", "total", "updated")


class Progress:
    """Draws a task's progress on standard error: a bar when the total is known, else a count."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.stack = ExitStack()
        self.bar: Any = None
        self.shown = 0

    def __call__(self, task: BackgroundTask) -> None:
        done, total = task.progress
        if total is not None and self.bar is None:
            bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self.bar = self.stack.enter_context(bar)
        if self.bar is not None:
            self.bar.update(max(done - self.shown, 0))
        elif sys.stderr.isatty():
            click.echo(f"\r{self.label}: {done} done", nl=False, err=True)
        self.shown = max(done, self.shown)

    def close(self) -> None:
        self.stack.close()
        if self.bar is None and sys.stderr.isatty():
            click.echo(err=True)


def show_task(session: Session, task: BackgroundTask) -> None:
    done, total = task.progress
    show(session.as_json, task.raw, TASK_COLUMNS, [(task.id, task.task, task.status, done, total, task.updated_at)])


def run_task(
    session: Session,
    start: Callable[..., BackgroundTask],
    args: tuple[Any, ...],
    wait: bool,
    interval: float,
    **options: Any,
) -> None:
    task = start(*args, **options)
    if wait and not task.finished:
        progress = Progress(f"{task.task} {task.id}") if not session.as_json else None
        try:
            task = session.client.tasks.wait(task, interval=interval, on_progress=progress)
        finally:
            if progress is not None:
                progress.close()
    show_task(session, task)
    if task.status == "failed":
        reason = task.data.get("error") or task.data.get("detail")
        raise click.ClickException(f"task {task.id} failed" + (f": {reason}" if reason else ""))


def task_command(name: str, help_text: str) -> Callable[[Callable[..., None]], click.Command]:
    """The arguments and options ``recover`` and ``replay`` share."""

    def decorate(func: Callable[..., None]) -> click.Command:
        func = api_command(func)
        func = click.option(
            "--interval", type=Seconds(0.05, 3600), default=0.5, show_default=True, help="Seconds between polls"
        )(func)
        func = click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the task to its end")(
            func
        )
        func = click.option("--until", metavar="WHEN", callback=when, help="Up to then (default: now)")(func)
        func = click.option(
            "--since", metavar="WHEN", required=True, callback=when, help="From then: 2h, 7d, or an ISO time"
        )(func)
        func = click.argument("endpoint_id", metavar="ENDPOINT")(func)
        func = click.argument("app_id", metavar="APP")(func)
        return click.command(name, help=help_text)(func)

    return decorate


@task_command(
    "recover",
    "Resend every message that failed to reach ENDPOINT since --since, with a progress bar.",
)
def recover(
    session: Session,
    app_id: str,
    endpoint_id: str,
    since: datetime,
    until: datetime | None,
    wait: bool,
    interval: float,
) -> None:
    run_task(session, session.client.endpoints.recover, (app_id, endpoint_id, since, until), wait, interval)


@task_command(
    "replay",
    "Send ENDPOINT the messages it never got since --since and would get now (its event types,"
    " channels and filter match), with a progress bar (replay-missing).",
)
def replay(
    session: Session,
    app_id: str,
    endpoint_id: str,
    since: datetime,
    until: datetime | None,
    wait: bool,
    interval: float,
) -> None:
    run_task(session, session.client.endpoints.replay_missing, (app_id, endpoint_id, since, until), wait, interval)


@click.command("bulk-replay")
@click.argument("app_id", metavar="APP")
@click.argument("endpoint_id", metavar="[ENDPOINT]", required=False)
@click.option("--since", metavar="WHEN", required=True, callback=when, help="From then: 2h, 7d, or an ISO time")
@click.option("--until", metavar="WHEN", callback=when, help="Up to then (default: now)")
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat)")
@click.option("--channel", help="Only messages on this channel")
@click.option("--status", type=click.Choice(list(STATUSES)), help="Only deliveries with this status")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the task to its end")
@click.option("--interval", type=Seconds(0.05, 3600), default=0.5, show_default=True, help="Seconds between polls")
@api_command
def bulk_replay(
    session: Session,
    app_id: str,
    endpoint_id: str | None,
    since: datetime,
    until: datetime | None,
    event_types: tuple[str, ...],
    channel: str | None,
    status: str | None,
    wait: bool,
    interval: float,
) -> None:
    """Send again the messages of the window that match the filters: to ENDPOINT, or to every
    endpoint of APP that had them (whatever their outcome then, unless --status says)."""
    filters: dict[str, Any] = {
        "until": until,
        "event_types": list(event_types) or None,
        "channel": channel,
        "status": STATUSES[status] if status else None,
    }
    client = session.client
    if endpoint_id is None:
        run_task(session, client.applications.bulk_replay, (app_id, since), wait, interval, **filters)
    else:
        run_task(session, client.endpoints.bulk_replay, (app_id, endpoint_id, since), wait, interval, **filters)
