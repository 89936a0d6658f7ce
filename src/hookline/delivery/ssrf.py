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
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_HINT: Final = "set HOOKLINE_ALLOWED_CIDRS to allow it"

# Labels must not contain ", ": aiohappyeyeballs joins the errors of several
# refused addresses with ", " and describe_error() splits them apart again.
_IPV4_BLOCKED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = tuple(
    (ipaddress.IPv4Network(cidr), label)
    for cidr, label in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private (RFC 1918) address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata)"),
        ("172.16.0.0/12", "a private (RFC 1918) address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.168.0.0/16", "a private (RFC 1918) address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        # Before 240/4, which contains it, so the message names it precisely.
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

# Checked before the embedding table: :: and ::1 also lie inside ::/96.
_IPV6_BLOCKED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = tuple(
    (ipaddress.IPv6Network(cidr), label)
    for cidr, label in (
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        # RFC 8215 local-use NAT64: its embedding depends on local config.
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        # Teredo is refused outright: no webhook receiver lives behind it.
        ("2001::/32", "a Teredo address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)


def _low32(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _sixtofour(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    # 2002:AABB:CCDD::/48 carries the IPv4 address in bits 16-48.
    return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)


_Extract = Callable[[ipaddress.IPv6Address], ipaddress.IPv4Address]

# IPv6 forms that reach an IPv4 host: judged by the IPv4 address they carry.
_IPV6_EMBEDDING: Final[tuple[tuple[ipaddress.IPv6Network, str, _Extract], ...]] = tuple(
    (ipaddress.IPv6Network(cidr), label, extract)
    for cidr, label, extract in (
        ("::ffff:0:0/96", "an IPv4-mapped address", _low32),
        ("::ffff:0:0:0/96", "an IPv4-translated address", _low32),
        ("::/96", "an IPv4-compatible address", _low32),
        ("64:ff9b::/96", "a NAT64 address", _low32),
        ("2002::/16", "a 6to4 address", _sixtofour),
    )
)


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


def _label(ip: IPAddress, table: Sequence[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]) -> str | None:
    return next((label for net, label in table if ip in net), None)


def _is_allowed(ip: IPAddress, allowed: Sequence[Network]) -> bool:
    # Membership across IP versions is simply False, so mixed lists are fine.
    return any(ip in net for net in allowed)


def _ipv4_label(ip: ipaddress.IPv4Address) -> str | None:
    label = _label(ip, _IPV4_BLOCKED)
    if label is None and not ip.is_global:
        label = "not a globally routable address"
    return label


def _ipv6_reason(ip: ipaddress.IPv6Address, allowed: Sequence[Network]) -> str | None:
    label = _label(ip, _IPV6_BLOCKED)
    if label is not None:
        return f"{ip} is {label}"
    for net, form, extract in _IPV6_EMBEDDING:
        if ip in net:
            inner = extract(ip)
            if _is_allowed(inner, allowed):
                return None
            inner_label = _ipv4_label(inner)
            if inner_label is None:
                return None
            return f"{ip} is {form} embedding {inner} which is {inner_label}"
    if not ip.is_global:
        return f"{ip} is not a globally routable address"
    return None


def blocked_reason(ip: IPAddress, allowed: Sequence[Network] = ()) -> str | None:
    """Why connecting to ``ip`` is refused, or None when it is permitted.

    ``allowed`` ranges win over every rule; for IPv6 forms embedding an IPv4
    address, either the IPv6 address or the embedded one may be allowed.
    """
    if _is_allowed(ip, allowed):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        label = _ipv4_label(ip)
        return None if label is None else f"{ip} is {label}"
    return _ipv6_reason(ip, allowed)


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
