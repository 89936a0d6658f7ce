"""What every client command shares: where the server is, how to print, how to fail."""

import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import IO, Any, TypeVar

import click

from hookline.client import Client, HooklineError, Page
from hookline.client._operations import EndpointChanges, EndpointOptions, FifoOnExhausted, KeyType

T = TypeVar("T")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_HINT = "use a number and a unit: 90s, 15m, 12h, 30d or 2w"


class UsageLine(click.ClickException):
    """A usage error said on one line, exit code 2 (click's own prints usage, a hint and a blank line first)."""

    exit_code = 2


@contextmanager
def one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # a group called alone prints its help: that is not an error line
    except click.UsageError as exc:
        message = exc.format_message().rstrip()
        if exc.ctx is not None:
            end = "" if message.endswith((".", "?", "!")) else "."
            message += f"{end} See '{exc.ctx.command_path} --help'."
        raise UsageLine(message) from None


class CommandGroup(click.Group):
    """The ``hookline`` group: every usage error beneath it, in any subcommand, ends in one line."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_usage_errors():
            return super().invoke(ctx)


@dataclass
class Session:
    """One command's connection to the server, made on first use."""

    url: str | None
    token: str | None
    timeout: float
    as_json: bool
    _client: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        if self._client is None:
            if not self.token:
                raise click.UsageError("no API token: pass --token or set HOOKLINE_TOKEN (or HOOKLINE_ADMIN_TOKEN)")
            try:
                self._client = Client(self.url, self.token, timeout=self.timeout)
            except OSError as exc:  # e.g. SSL_CERT_FILE naming a file that is not there
                where = os.environ.get("SSL_CERT_FILE")
                hint = f" (SSL_CERT_FILE={where})" if where else ""
                raise click.ClickException(f"cannot set up TLS{hint}: {exc.strerror or exc}") from None
        return self._client

    def take(self, list_method: Callable[..., Page[T]], limit: int, *args: Any, **kwargs: Any) -> list[T]:
        """Up to ``limit`` items of a list, following its pages."""
        items: Iterator[T] = self.client.iterate(list_method, *args, limit=min(limit, 250), **kwargs)
        return list(islice(items, limit))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def api_command(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command ``--url``, ``--token``, ``--timeout`` and ``--json``, and a :class:`Session`
    as its first argument. API errors end it with one line and exit code 1."""

    @functools.wraps(func)
    def command(
        *args: Any, server_url: str | None, api_token: str | None, api_timeout: float, as_json: bool, **kwargs: Any
    ) -> None:
        # The README's quickstart exports HOOKLINE_ADMIN_TOKEN for the server; the CLI run beside it
        # uses the same token unless told otherwise.
        token = api_token or os.environ.get("HOOKLINE_ADMIN_TOKEN") or None
        session = Session(server_url, token, api_timeout, as_json)
        try:
            func(session, *args, **kwargs)
        except HooklineError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            session.close()

    options = [
        click.option(
            "--url", "server_url", envvar="HOOKLINE_URL", help="Server URL [$HOOKLINE_URL, else http://127.0.0.1:8071]"
        ),
        click.option(
            "--token",
            "api_token",
            envvar="HOOKLINE_TOKEN",
            help="API token [$HOOKLINE_TOKEN, else $HOOKLINE_ADMIN_TOKEN]",
        ),
        click.option(
            "--timeout",
            "api_timeout",
            type=Seconds(0, 3600, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds per request",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class Seconds(click.FloatRange):
    """A FloatRange of finite numbers: click's own takes nan and inf, which passed every bound
    and then broke the sleep, timer or request they went to with a traceback."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number: JSON has no NaN or Infinity")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number for JSON to carry (it would be infinite)")
    return number


def json_document(text: str) -> Any:
    """A JSON document the command reads (a file, standard input, ``--config``), held to what
    can be sent on: no NaN or Infinity, no number that overflows, no nesting beyond Python's
    parser. Raises ValueError with a one-line reason."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to read") from None


def read_text(source: IO[str]) -> str:
    """A file or standard input as text, or ValueError when it is not UTF-8."""
    try:
        return source.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 text (byte {exc.start} cannot be read)") from None


def limit_option(default: int = 50) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--limit",
        type=click.IntRange(1, 1_000_000),
        default=default,
        show_default=True,
        help="How many to show at most",
    )


def parse_duration(text: str) -> timedelta:
    """A number and a unit: ``90s``, ``15m``, ``2h``, ``1.5d``, ``1w``. Raises ValueError otherwise."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration: {DURATION_HINT}")
    try:
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    except OverflowError:
        raise ValueError(f"{text!r} is longer than a duration can be") from None


def duration_seconds(text: str, option: str = "--older-than") -> float:
    """``parse_duration`` in seconds, failing as a usage error about ``option`` (``prune --older-than``)."""
    try:
        return parse_duration(text).total_seconds()
    except ValueError:
        raise click.BadParameter(f"{text!r}: {DURATION_HINT}", param_hint=f"'{option}'") from None


def parse_when(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or a duration ago: ``90s``, ``15m``, ``2h``, ``3d``, ``1w``."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    except OverflowError:  # a duration reaching before the year 1
        raise ValueError(f"{text!r} reaches back before the year 1") from None
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Option callback: ``--since 2h`` or ``--since 2024-05-01T12:00``."""
    if value is None:
        return None
    try:
        return parse_when(value, datetime.now(UTC))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither an ISO 8601 time nor a duration such as 30m, 2h or 7d", ctx, param
        ) from None


def metadata_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Replace the metadata (repeat)"
    )(func)


def parse_metadata(items: tuple[str, ...]) -> dict[str, str] | None:
    """``--metadata tier=gold --metadata region=eu`` as a dict; None when not given."""
    if not items:
        return None
    pairs = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--metadata'")
        pairs[key] = value
    return pairs


def confirm_deletion(what: str, yes: bool) -> None:
    if not yes:
        click.confirm(f"Delete {what}?", abort=True, err=True)


# -- an endpoint's settings: `endpoint create/update` and `source destination add/update` --------
FIFO_EXHAUSTED = click.Choice(["skip", "block"])
KEY_TYPE = click.Choice(["hmac", "ed25519"])
FILTER_HELP = "Only messages matching this JSON payload filter (docs/policies.md)"
FIFO_EXHAUSTED_HELP = "With --fifo: after a message exhausts its retries, skip it or block the order [skip]"
ENDPOINT_CHANGES = (
    "--event-type, --any-event-type, --channel, --any-channel, --filter, --no-filter, --description, --uid, "
    "--no-uid, --metadata, --no-metadata, --throttle-rate, --no-throttle-rate, --fifo, --no-fifo, "
    "--fifo-on-exhausted"
)


def one_of(given: bool, clear: bool, options: str) -> bool:
    """Whether an option or its clearing twin was passed; both at once is a usage error."""
    if given and clear:
        raise click.UsageError(f"pass {options}, not both")
    return given or clear


def parse_filter(text: str) -> dict[str, Any]:
    """``--filter`` as the JSON object the API takes; the server checks the operators."""
    try:
        value = json_document(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--filter'") from None
    if not isinstance(value, dict):
        raise click.BadParameter(
            'is not a JSON object, e.g. \'{"payload": {"amount": {"$gte": 100}}}\'', param_hint="'--filter'"
        )
    return value


def parse_headers(items: tuple[str, ...]) -> dict[str, str] | None:
    """``--header 'X-Team: billing'`` (repeat) as a dict; None when not given."""
    if not items:
        return None
    headers = {}
    for item in items:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME: VALUE", param_hint="'--header'")
        headers[name.strip()] = value.strip()
    return headers


def _with(options: list[Callable[[Any], Any]], func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(options):
        func = option(func)
    return func


def endpoint_settings(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command the options a new endpoint takes (but --disabled, whose help names the way
    back), as the client's keyword options: its ``settings`` argument (None: not sent)."""

    @functools.wraps(func)
    def command(
        *args: Any,
        event_types: tuple[str, ...],
        channels: tuple[str, ...],
        filter_json: str | None,
        description: str,
        uid: str | None,
        metadata: tuple[str, ...],
        throttle_rate: int | None,
        fifo: bool,
        fifo_on_exhausted: FifoOnExhausted | None,  # FIFO_EXHAUSTED's choices
        headers: tuple[str, ...],
        secret: str | None,
        key_type: KeyType | None,  # KEY_TYPE's choices
        **kwargs: Any,
    ) -> None:
        one_of(secret is not None, key_type is not None, "--secret or --key-type")
        settings: EndpointOptions = {
            "description": description,
            "uid": uid,
            "event_types": list(event_types) or None,
            "channels": list(channels) or None,
            "filter": None if filter_json is None else parse_filter(filter_json),
            "metadata": parse_metadata(metadata),
            "throttle_rate": throttle_rate,
            "fifo": fifo or None,
            "fifo_on_exhausted": fifo_on_exhausted,
            "headers": parse_headers(headers),
            "secret": secret,
            "key_type": key_type,
        }
        func(*args, settings=settings, **kwargs)

    return _with(
        [
            click.option(
                "--event-type", "event_types", multiple=True, help="Only these event types (repeat; default: all)"
            ),
            click.option(
                "--channel", "channels", multiple=True, help="Only messages on these channels (repeat; default: all)"
            ),
            click.option("--filter", "filter_json", metavar="JSON", help=FILTER_HELP),
            click.option("--description", default="", help="A note for people"),
            click.option("--uid", help="Your own id for it"),
            click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Its metadata (repeat)"),
            click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second at most"),
            click.option("--fifo", is_flag=True, help="Deliver in publish order, one at a time"),
            click.option("--fifo-on-exhausted", type=FIFO_EXHAUSTED, help=FIFO_EXHAUSTED_HELP),
            click.option(
                "--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="Send this header too (repeat)"
            ),
            click.option("--secret", help="A whsec_ signing secret (default: generated)"),
            click.option("--key-type", type=KEY_TYPE, help="The kind of secret to generate [hmac]"),
        ],
        command,
    )


def endpoint_changes(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command the options that change an endpoint (but its URL) and the ``--any-...`` and
    ``--no-...`` ones that remove a restriction, as the keywords of the client's patch: its
    ``changes`` argument, only the options given (``ENDPOINT_CHANGES`` lists them), None for a
    restriction removed."""

    @functools.wraps(func)
    def command(
        *args: Any,
        event_types: tuple[str, ...],
        any_event_type: bool,
        channels: tuple[str, ...],
        any_channel: bool,
        filter_json: str | None,
        no_filter: bool,
        description: str | None,
        uid: str | None,
        no_uid: bool,
        metadata: tuple[str, ...],
        no_metadata: bool,
        throttle_rate: int | None,
        no_throttle_rate: bool,
        fifo: bool | None,
        fifo_on_exhausted: FifoOnExhausted | None,  # FIFO_EXHAUSTED's choices
        **kwargs: Any,
    ) -> None:
        changes: EndpointChanges = {}
        if description is not None:
            changes["description"] = description
        if fifo is not None:
            changes["fifo"] = fifo
        if fifo_on_exhausted is not None:
            changes["fifo_on_exhausted"] = fifo_on_exhausted
        if one_of(uid is not None, no_uid, "--uid or --no-uid"):
            changes["uid"] = uid
        if one_of(bool(metadata), no_metadata, "--metadata or --no-metadata"):
            changes["metadata"] = parse_metadata(metadata)
        if one_of(bool(event_types), any_event_type, "--event-type or --any-event-type"):
            changes["event_types"] = list(event_types) or None
        if one_of(bool(channels), any_channel, "--channel or --any-channel"):
            changes["channels"] = list(channels) or None
        if one_of(filter_json is not None, no_filter, "--filter or --no-filter"):
            changes["filter"] = None if filter_json is None else parse_filter(filter_json)
        if one_of(throttle_rate is not None, no_throttle_rate, "--throttle-rate or --no-throttle-rate"):
            changes["throttle_rate"] = throttle_rate
        func(*args, changes=changes, **kwargs)

    return _with(
        [
            click.option(
                "--event-type", "event_types", multiple=True, help="Only these event types (repeat; replaces the list)"
            ),
            click.option("--any-event-type", is_flag=True, help="Remove the event-type list: take every event type"),
            click.option(
                "--channel", "channels", multiple=True, help="Only these channels (repeat; replaces the list)"
            ),
            click.option(
                "--any-channel", is_flag=True, help="Remove the channel list: take messages on any channel or none"
            ),
            click.option("--filter", "filter_json", metavar="JSON", help=FILTER_HELP + " (replaces it)"),
            click.option("--no-filter", is_flag=True, help="Remove the payload filter"),
            click.option("--description", help="A note for people"),
            click.option("--uid", help="Your own id for it"),
            click.option("--no-uid", is_flag=True, help="Remove its uid"),
            metadata_option,
            click.option("--no-metadata", is_flag=True, help="Remove all metadata"),
            click.option("--throttle-rate", type=click.IntRange(1, 65535), help="Messages per second at most"),
            click.option("--no-throttle-rate", is_flag=True, help="Remove the throttle rate"),
            click.option("--fifo/--no-fifo", default=None, help="Deliver in publish order, one at a time, or not"),
            click.option("--fifo-on-exhausted", type=FIFO_EXHAUSTED, help=FIFO_EXHAUSTED_HELP),
        ],
        command,
    )


def secret_rotation_options(func: Callable[..., None]) -> Callable[..., None]:
    """``--key``, ``--key-type`` and ``--grace-period`` of a secret's rotation (check them with ``one_of``)."""
    return _with(
        [
            click.option("--key", help="The new whsec_ secret or whsk_ signing key (default: generated)"),
            click.option("--key-type", type=KEY_TYPE, help="The kind of secret to generate [hmac]"),
            click.option(
                "--grace-period",
                type=click.IntRange(0, 604800),
                help="Seconds the old secret keeps signing too [86400]",
            ),
        ],
        func,
    )
