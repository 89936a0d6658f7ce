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
