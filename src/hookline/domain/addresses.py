"""Which network addresses outgoing requests may reach: the pure judgement of the SSRF guard.

Table-driven; Python's ``is_global`` is only the final backstop because it differs
between Python releases (multicast, for instance, counts as "global"). The guard in
``delivery/ssrf.py`` applies it to every socket; the services apply it to URLs
given as IP literals, to warn at once about endpoints that can never work.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    """Whether the textual ``address`` lies in one of ``networks`` (False for a non-address)."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str | None:
    """The address a request came from, seen through the operator's trusted proxies.

    ``X-Forwarded-For`` is believed only when the connection itself comes from a trusted
    proxy, and then only as far as the chain of trusted proxies goes: reading from the
    right, the first address that is not a trusted proxy is the client. Anything further
    left was written by the client and proves nothing.
    """
    if peer is None or not in_networks(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else peer


MAX_ALLOWED_NETWORKS = 100


def parse_networks(values: Sequence[str]) -> tuple[str, ...]:
    """An allow-list as given (CIDRs or single addresses), checked and written canonically.
    ValueError names the entry that is not a network, or has bits set beyond its prefix."""
    if not values:
        raise ValueError("must list at least one network (null allows every address)")
    if len(values) > MAX_ALLOWED_NETWORKS:
        raise ValueError(f"may list at most {MAX_ALLOWED_NETWORKS} networks")
    parsed: list[str] = []
    for value in values:
        try:
            parsed.append(str(ipaddress.ip_network(value.strip(), strict=True)))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a network in CIDR notation ({exc})") from None
    return tuple(parsed)


def allowed_from(address: str | None, networks: Sequence[str]) -> bool:
    """Whether a client ``address`` lies in one of the CIDRs of an allow-list (``parse_networks``)."""
    if address is None:
        return False
    return in_networks(address, [ipaddress.ip_network(n) for n in networks])
