"""SSRF guard for outgoing webhook deliveries.

Every socket aiohttp opens for a delivery is created by :func:`guarded_socket_factory`,
which judges the numeric address that is about to be connected to. Because the
check sees the very address handed to ``connect()`` -- after DNS resolution, for
IP literals as well as names, for every address of a multi-address name and on
every redirect hop -- DNS names, odd literal spellings and DNS rebinding are all
caught without trusting the URL.

The judgement itself (:func:`blocked_reason`) is pure and table-driven; Python's
``is_global`` is only the final backstop because it differs between Python
releases (multicast, for instance, counts as "global").
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from collections.abc import Iterator, Sequence
from typing import Final

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver

from hookline.domain.addresses import IPAddress, Network, blocked_reason

__all__ = [
    "ALLOW_HINT",
    "BlockedAddressError",
    "IPAddress",
    "Network",
    "blocked_reason",
    "check_host",
    "make_connector",
]

ALLOW_HINT: Final = "set HOOKLINE_ALLOWED_CIDRS to allow it"


class BlockedAddressError(OSError):
    """A connection refused by the SSRF guard.

    Raised from the socket factory, i.e. before any socket exists, so nothing is
    sent to the address. ``errno`` is EACCES so that aiohappyeyeballs keeps the
    errno when it merges the refusals of several addresses into one OSError.
    """

    def __init__(self, address: str, reason: str) -> None:
        self.message = f"blocked: {reason} ({ALLOW_HINT})"
        super().__init__(errno.EACCES, self.message)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def check_host(host: str, allowed: Sequence[Network] = ()) -> None:
    """Raise BlockedAddressError unless the numeric ``host`` may be connected to."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # The socket would resolve a non-numeric host itself, behind our back.
        raise BlockedAddressError(host, f"{host!r} is not a numeric IP address") from None
    reason = blocked_reason(ip, allowed)
    if reason is not None:
        raise BlockedAddressError(host, reason)


def guarded_socket_factory(allowed: Sequence[Network] = ()) -> SocketFactoryType:
    """A ``TCPConnector(socket_factory=...)`` that refuses blocked addresses."""
    frozen = tuple(allowed)

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        # sockaddr is (host, port) or (host, port, flowinfo, scope_id).
        check_host(str(sockaddr[0]), frozen)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def make_connector(
    allowed: Sequence[Network] = (),
    *,
    limit: int = 0,
    limit_per_host: int = 0,
    resolver: AbstractResolver | None = None,
) -> aiohttp.TCPConnector:
    """A TCPConnector whose every connection passes the SSRF guard.

    Must be called inside a running event loop (aiohttp binds it to the loop).
    ``limit``/``limit_per_host`` of 0 mean unlimited, as in aiohttp.
    """
    return aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=limit_per_host,
        resolver=resolver,
        socket_factory=guarded_socket_factory(allowed),
    )


# aiohappyeyeballs' merged error when several addresses of one name all fail.
_MERGED_PREFIX: Final = "Multiple exceptions: "
_BLOCK_TEXT: Final = re.compile(r"blocked: (?P<reason>.+?) \(" + re.escape(ALLOW_HINT) + r"\)")


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, aiohttp.ClientConnectorError):
            pending.append(current.os_error)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _merged_block_text(exc: BaseException) -> str | None:
    # The merge keeps only text and errno, so recognise it by both, and only when
    # every merged part is a refusal (not, say, a firewall's real EACCES).
    if not isinstance(exc, OSError) or exc.errno != errno.EACCES:
        return None
    text = exc.strerror or ""
    if not text.startswith(_MERGED_PREFIX):
        return None
    matches = [_BLOCK_TEXT.fullmatch(part) for part in text[len(_MERGED_PREFIX) :].split(", ")]
    reasons = [m.group("reason") for m in matches if m is not None]
    if len(reasons) != len(matches):
        return None
    return f"blocked: {'; '.join(reasons)} ({ALLOW_HINT})"


def describe_error(exc: BaseException) -> str | None:
    """The refusal text if ``exc`` (from a request) was caused by the guard, else None."""
    for cause in _exception_chain(exc):
        if isinstance(cause, BlockedAddressError):
            return str(cause)
        merged = _merged_block_text(cause)
        if merged is not None:
            return merged
    return None
