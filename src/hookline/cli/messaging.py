"""``hookline send``, ``messages``, ``attempts`` and ``resend``."""

from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

import click

from hookline.cli.options import Session, api_command, json_document, limit_option, read_text
from hookline.cli.output import cell, clip, show
from hookline.client import Attempt, Message, MessageEndpoint

STATUSES = {"success": 0, "pending": 1, "fail": 2, "sending": 3}
TRIGGERS = {0: "scheduled", 1: "manual"}
ATTEMPT_COLUMNS = ("id", "time", "msg", "endpoint", "status", "code", "ms", "trigger", "#", "url", "error")
URL_WIDTH = 40
ERROR_WIDTH = 60


def message_input(document: Any, event_type: str | None) -> dict[str, Any]:
    """The message to publish from a JSON document: the whole ``{"eventType", "payload", ...}``
    object, or, when ``event_type`` is given, just the payload."""
    if not isinstance(document, dict):
        raise ValueError("the JSON must be an object")
    if event_type is not None:
        return {"eventType": event_type, "payload": document}
    if not isinstance(document.get("eventType"), str) or not isinstance(document.get("payload"), dict):
        raise ValueError('expected {"eventType": "...", "payload": {...}} (or pass --event-type and the payload)')
    return document


def status_summary(destinations: Sequence[MessageEndpoint]) -> str:
    """``success``, ``2 success, 1 fail`` or ``no endpoints``."""
    if not destinations:
        return "no endpoints"
    counts = Counter(d.status_text for d in destinations)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{n} {text}" for text, n in sorted(counts.items()))


def failure(a: Attempt) -> str | None:
    """Why an attempt failed: the engine's error when no answer came (refused, timed out,
    blocked address), else the start of the receiver's answer. None for a success."""
    if a.error:
        return a.error
    if a.status_text == "success":
        return None
    return a.response or None


def attempt_url(a: Attempt) -> str:
    return clip(cell(a.url), URL_WIDTH)


def attempt_error(a: Attempt) -> str:
    return clip(cell(failure(a)), ERROR_WIDTH)


def show_attempts(session: Session, attempts: Sequence[Attempt]) -> None:
    rows = [
        (
            a.id,
            a.timestamp,
            a.msg_id,
            a.endpoint_id,
            a.status_text,
            a.response_status_code or "-",
            a.response_duration_ms,
            TRIGGERS.get(a.trigger_type, a.trigger_type),
            a.attempt_number,
            attempt_url(a),
            attempt_error(a),
        )
        for a in attempts
    ]
    show(session.as_json, [a.raw for a in attempts], ATTEMPT_COLUMNS, rows)


@click.command("send")
@click.argument("app_id", metavar="APP")
@click.argument("source", metavar="[FILE]", type=click.File("r"), default="-", required=False)
@click.option("--event-type", help="The event type; then FILE holds only the payload")
@click.option("--event-id", help="Your id for the event (deduplicated by the server)")
@click.option("--channel", "channels", multiple=True, help="Channel(s) of the message (repeat)")
@click.option("--idempotency-key", help="Repeat the send safely with the same key")
@api_command
def send(
    session: Session,
    app_id: str,
    source: IO[str],
    event_type: str | None,
    event_id: str | None,
    channels: tuple[str, ...],
    idempotency_key: str | None,
) -> None:
    """Publish a message to APP from a JSON FILE (or standard input when FILE is - or absent).

    FILE holds {"eventType": "...", "payload": {...}} (and optionally "eventId",
    "channels"), or only the payload when --event-type is given.
    """
    try:
        data = message_input(json_document(read_text(source)), event_type)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE") from None
    message = session.client.messages.create(
        app_id,
        data["eventType"],
        data["payload"],
        event_id=event_id or data.get("eventId"),
        channels=list(channels) or data.get("channels"),
        idempotency_key=idempotency_key,
    )
    rows = [(message.id, message.event_type, message.event_id, message.timestamp)]
    show(session.as_json, message.raw, ("id", "event type", "event id", "created"), rows)


@click.command("messages")
@click.argument("app_id", metavar="APP")
@click.option("--endpoint", "endpoint_id", help="Only messages sent to this endpoint, with its status")
@click.option("--event-type", "event_types", multiple=True, help="Only these event types (repeat)")
@click.option("--status", type=click.Choice(list(STATUSES)), help="Only this delivery status (needs --endpoint)")
@limit_option(20)
@api_command
def messages(
    session: Session,
    app_id: str,
    endpoint_id: str | None,
    event_types: tuple[str, ...],
    status: str | None,
    limit: int,
) -> None:
    """Recent messages of APP, newest first, with their delivery status."""
    client = session.client
    types = list(event_types) or None
    if endpoint_id is not None:
        found = session.take(
            client.messages.list_by_endpoint,
            limit,
            app_id,
            endpoint_id,
            event_types=types,
            status=STATUSES[status] if status else None,
        )
        columns = ("id", "event type", "created", "status", "next attempt")
        show(
            session.as_json,
            [m.raw for m in found],
            columns,
            [(m.id, m.event_type, m.timestamp, m.status_text, m.next_attempt) for m in found],
        )
        return
    if status is not None:
        raise click.UsageError("--status needs --endpoint (a message's status is per endpoint)")
    listed: list[Message] = session.take(
        client.messages.list, limit, app_id, event_types=types, with_content=session.as_json
    )
    statuses = {m.id: list(client.iterate(client.messages.destinations, app_id, m.id, limit=250)) for m in listed}
    data = [{**m.raw, "destinations": [_destination(d) for d in statuses[m.id]]} for m in listed]
    rows = [(m.id, m.event_type, m.timestamp, status_summary(statuses[m.id])) for m in listed]
    show(session.as_json, data, ("id", "event type", "created", "status"), rows)


def _destination(d: MessageEndpoint) -> dict[str, Any]:
    return {
        "endpointId": d.id,
        "url": d.url,
        "status": d.status,
        "statusText": d.status_text,
        "nextAttempt": d.raw.get("nextAttempt"),
    }


@click.command("attempts")
@click.argument("app_id", metavar="APP")
@click.option("--endpoint", "endpoint_id", help="Attempts made to this endpoint")
@click.option("--msg", "msg_id", help="Attempts made for this message")
@click.option("--status", type=click.Choice(list(STATUSES)), help="Only attempts with this outcome")
@limit_option()
@api_command
def attempts(
    session: Session, app_id: str, endpoint_id: str | None, msg_id: str | None, status: str | None, limit: int
) -> None:
    """Delivery attempts of APP, newest first: all of them, or by --endpoint, by --msg, or both."""
    client = session.client
    code = STATUSES[status] if status else None
    if msg_id is not None:
        found = session.take(client.attempts.list_by_msg, limit, app_id, msg_id, endpoint_id=endpoint_id, status=code)
    elif endpoint_id is not None:
        found = session.take(client.attempts.list_by_endpoint, limit, app_id, endpoint_id, status=code)
    else:
        # The API lists attempts per endpoint or per message only: the newest `limit` of the
        # application are among the newest `limit` of each endpoint.
        endpoint_ids = [e.id for e in client.iterate(client.endpoints.list, app_id, limit=250)]
        lists = [session.take(client.attempts.list_by_endpoint, limit, app_id, e, status=code) for e in endpoint_ids]
        found = newest_first(lists, limit)
    show_attempts(session, found)


def newest_first(lists: Sequence[Sequence[Attempt]], limit: int) -> list[Attempt]:
    """Several attempt lists merged, newest first (ids break ties: they grow with time), cut to ``limit``."""
    merged = [a for attempts in lists for a in attempts]
    return sorted(merged, key=lambda a: (a.timestamp, a.id), reverse=True)[:limit]


@click.command("resend")
@click.argument("app_id", metavar="APP")
@click.argument("msg_id", metavar="MSG")
@click.argument("endpoint_id", metavar="ENDPOINT")
@api_command
def resend(session: Session, app_id: str, msg_id: str, endpoint_id: str) -> None:
    """Send message MSG to ENDPOINT once more, now (a manual attempt)."""
    session.client.attempts.resend(app_id, msg_id, endpoint_id)
    data = {"queued": True, "msgId": msg_id, "endpointId": endpoint_id}
    show(session.as_json, data, ("msg", "endpoint", "resend"), [(msg_id, endpoint_id, "queued")])
