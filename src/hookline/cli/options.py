"""What every client command shares: where the server is, how to print, how to fail."""

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

import click

from hookline.client import Client, HooklineError, Page

T = TypeVar("T")
_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


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
                raise click.UsageError("no API token: pass --token or set HOOKLINE_TOKEN")
            self._client = Client(self.url, self.token, timeout=self.timeout)
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
        session = Session(server_url, api_token, api_timeout, as_json)
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
        click.option("--token", "api_token", envvar="HOOKLINE_TOKEN", help="API token [$HOOKLINE_TOKEN]"),
        click.option(
            "--timeout", "api_timeout", type=float, default=30.0, show_default=True, help="Seconds per request"
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def limit_option(default: int = 50) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--limit", type=click.IntRange(1), default=default, show_default=True, help="How many to show at most"
    )


def parse_when(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or a duration ago: ``90s``, ``15m``, ``2h``, ``3d``, ``1w``."""
    match = _RELATIVE.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
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
