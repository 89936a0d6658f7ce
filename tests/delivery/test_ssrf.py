"""SSRF guard: the address table, and real requests through the guarded connector.

Traffic only ever goes to 127.0.0.1 / ::1: the ``connects`` fixture wraps the
loop's ``sock_connect`` to record every connect and refuse any other target, so
even a broken guard cannot reach 10.x or 169.254.x from the test suite.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from hookline.delivery.ssrf import (
    BlockedAddressError,
    Network,
    blocked_reason,
    describe_error,
    make_connector,
)

LOOPBACK_V4 = (ipaddress.IPv4Network("127.0.0.0/8"),)

BLOCKED: list[tuple[str, str]] = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("0.0.0.0", "'this network'"),
    ("0.1.2.3", "'this network'"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.255", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.0.8", "IETF protocol assignment"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("100::1", "discard-only"),
    ("::ffff:127.0.0.1", "IPv4-mapped address embedding 127.0.0.1 which is a loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped address embedding 169.254.169.254"),
    ("::ffff:0:10.0.0.1", "IPv4-translated address embedding 10.0.0.1"),
    ("::127.0.0.1", "IPv4-compatible address embedding 127.0.0.1"),
    ("::10.1.2.3", "IPv4-compatible address embedding 10.1.2.3"),
    ("2002:7f00:1::", "6to4 address embedding 127.0.0.1"),
    ("2002:a9fe:a9fe::1", "6to4 address embedding 169.254.169.254"),
    ("64:ff9b::7f00:1", "NAT64 address embedding 127.0.0.1"),
    ("64:ff9b::a00:1", "NAT64 address embedding 10.0.0.1"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001::1", "Teredo"),
]

PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "100.128.0.1",  # just past CGNAT
    "172.32.0.1",  # just past 172.16/12
    "2606:4700::1111",
    "2a00:1450:4001:800::200e",
    "::ffff:8.8.8.8",
    "2002:808:808::1",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize(("address", "expected"), BLOCKED)
def test_blocked_addresses(address: str, expected: str) -> None:
    ip = ipaddress.ip_address(address)
    reason = blocked_reason(ip)
    assert reason is not None
    assert reason.startswith(f"{ip} is ")
    assert expected in reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "allowed", "is_open"),
    [
        ("127.0.0.1", "127.0.0.0/8", True),
        ("10.1.2.3", "10.1.0.0/16", True),
        ("10.2.0.1", "10.1.0.0/16", False),
        ("::1", "127.0.0.0/8", False),
        ("::1", "::1/128", True),
        ("fd00::5", "fd00::/8", True),
        # Embedded IPv4: either the IPv6 form or the embedded IPv4 may be allowed.
        ("::ffff:127.0.0.1", "127.0.0.0/8", True),
        ("::ffff:127.0.0.1", "::ffff:0:0/96", True),
        ("2002:a00:1::", "10.0.0.0/8", True),
        ("2002:a00:1::", "2002::/16", True),
        ("64:ff9b::a00:1", "192.168.0.0/16", False),
    ],
)
def test_allowed_cidrs_open_a_range(address: str, allowed: str, is_open: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert blocked_reason(ip) is not None
    reason = blocked_reason(ip, (ipaddress.ip_network(allowed),))
    assert (reason is None) is is_open


def test_error_message_and_type() -> None:
    exc = BlockedAddressError("127.0.0.1", "127.0.0.1 is a loopback address")
    assert isinstance(exc, OSError)
    assert str(exc) == ("blocked: 127.0.0.1 is a loopback address (set HOOKLINE_ALLOWED_CIDRS to allow it)")


def test_describe_error_follows_cause_chain() -> None:
    inner = BlockedAddressError("10.0.0.1", "10.0.0.1 is a private (RFC 1918) address")
    try:
        try:
            raise inner
        except OSError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert describe_error(outer) == str(inner)
    assert describe_error(ValueError("nope")) is None
    assert describe_error(OSError(13, "Multiple exceptions: a, b")) is None


# --- real requests --------------------------------------------------------------


@dataclass
class Server:
    port: int
    hits: list[str] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(port=0)

    async def handler(request: web.Request) -> web.Response:
        srv.hits.append(request.path)
        if request.path == "/redirect":
            # Never followed to the real address: the guard refuses the hop.
            raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.port = runner.addresses[0][1]
    yield srv
    await runner.cleanup()


@pytest.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the loop is asked to connect to; only loopback really is."""
    loop = asyncio.get_running_loop()
    real = loop.sock_connect
    seen: list[str] = []

    async def guarded(sock: socket.socket, address: Any) -> None:
        seen.append(str(address[0]))
        if address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(f"test refuses to connect to {address[0]}")
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", guarded)
    return seen


class ScriptedResolver(AbstractResolver):
    """Answers every lookup with the next entry of ``answers`` (the last repeats)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [_result(host, addr, port) for addr in addresses]

    async def close(self) -> None:
        return None


def _result(hostname: str, addr: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return ResolveResult(hostname=hostname, host=addr, port=port, family=family, proto=0, flags=0)


async def fetch(
    url: str, allowed: Sequence[Network] = (), resolver: AbstractResolver | None = None
) -> int | BaseException:
    """The response status, or the exception the request raised."""
    timeout = aiohttp.ClientTimeout(total=5)
    connector = make_connector(allowed, resolver=resolver)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        try:
            async with session.post(url, data=b"{}") as resp:
                return resp.status
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            return exc


def assert_blocked(result: int | BaseException, *expected: str) -> str:
    assert isinstance(result, aiohttp.ClientConnectorError), result
    reason = describe_error(result)
    assert reason is not None, repr(result)
    assert reason.startswith("blocked: ")
    assert "HOOKLINE_ALLOWED_CIDRS" in reason
    for text in expected:
        assert text in reason
    return reason


async def test_loopback_refused_by_default(server: Server, connects: list[str]) -> None:
    result = await fetch(f"http://127.0.0.1:{server.port}/")
    assert_blocked(result, "127.0.0.1 is a loopback address")
    assert server.hits == []
    assert connects == []


async def test_loopback_allowed_by_cidr(server: Server, connects: list[str]) -> None:
    assert await fetch(f"http://127.0.0.1:{server.port}/hook", LOOPBACK_V4) == 200
    assert server.hits == ["/hook"]
    assert connects == ["127.0.0.1"]


async def test_localhost_name_refused(server: Server, connects: list[str]) -> None:
    assert_blocked(await fetch(f"http://localhost:{server.port}/"), "loopback")
    assert server.hits == []
    assert connects == []


async def test_ipv4_mapped_literal_refused(server: Server, connects: list[str]) -> None:
    result = await fetch(f"http://[::ffff:127.0.0.1]:{server.port}/")
    assert_blocked(result, "IPv4-mapped", "127.0.0.1")
    assert server.hits == []
    assert connects == []


@pytest.mark.parametrize("host", ["0x7f000001", "2130706433", "0177.0.0.1", "127.1"])
async def test_odd_ipv4_spellings_never_connect(host: str, server: Server, connects: list[str]) -> None:
    # aiohttp rejects non-canonical numeric literals (InvalidUrlClientError);
    # "0x7f000001" is not numeric to it, so the system resolver maps it to
    # 127.0.0.1 and the guard refuses. Either way nothing is sent.
    result = await fetch(f"http://{host}:{server.port}/")
    if not isinstance(result, aiohttp.InvalidUrlClientError):
        assert_blocked(result, "127.0.0.1 is a loopback address")
    assert server.hits == []
    assert connects == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
        ("http://10.0.0.1/", "10.0.0.1 is a private"),
        ("http://[fd00::1]:8080/", "fd00::1 is a unique-local"),
    ],
)
async def test_internal_targets_refused_before_connect(url: str, expected: str, connects: list[str]) -> None:
    started = time.monotonic()
    result = await fetch(url)
    # A refusal, not a timeout: the guard fires before any socket exists.
    assert_blocked(result, expected)
    assert not isinstance(result, TimeoutError)
    assert time.monotonic() - started < 1.0
    assert connects == []


async def test_redirect_to_internal_target_refused(server: Server, connects: list[str]) -> None:
    result = await fetch(f"http://127.0.0.1:{server.port}/redirect", LOOPBACK_V4)
    assert_blocked(result, "169.254.169.254 is a link-local")
    assert server.hits == ["/redirect"]
    assert connects == ["127.0.0.1"]


async def test_dns_rebinding_caught_at_connect(server: Server, connects: list[str]) -> None:
    resolver = ScriptedResolver(["93.184.216.34"], ["127.0.0.1"])
    # A name-based pre-check sees only the harmless first answer...
    precheck = await resolver.resolve("rebind.example", server.port)
    assert blocked_reason(ipaddress.ip_address(precheck[0]["host"])) is None
    # ...but the connection made afterwards is judged by the address it uses.
    result = await fetch(f"http://rebind.example:{server.port}/", resolver=resolver)
    assert_blocked(result, "127.0.0.1 is a loopback address")
    assert resolver.lookups == ["rebind.example", "rebind.example"]
    assert server.hits == []
    assert connects == []


async def test_all_addresses_of_a_name_blocked(server: Server, connects: list[str]) -> None:
    # Two families: happy eyeballs merges both refusals into one plain OSError.
    resolver = ScriptedResolver(["127.0.0.1", "::1"])
    result = await fetch(f"http://multi.example:{server.port}/", resolver=resolver)
    assert_blocked(result, "127.0.0.1 is a loopback", "::1 is a loopback")
    assert server.hits == []
    assert connects == []


async def test_three_blocked_addresses(server: Server, connects: list[str]) -> None:
    resolver = ScriptedResolver(["127.0.0.1", "::1", "10.0.0.1"])
    result = await fetch(f"http://multi.example:{server.port}/", resolver=resolver)
    assert_blocked(result)
    assert server.hits == []
    assert connects == []


async def test_blocked_address_skipped_for_allowed_one(server: Server, connects: list[str]) -> None:
    resolver = ScriptedResolver(["10.0.0.1", "127.0.0.1"])
    url = f"http://mixed.example:{server.port}/"
    assert await fetch(url, LOOPBACK_V4, resolver=resolver) == 200
    assert server.hits == ["/"]
    assert connects == ["127.0.0.1"]


async def test_describe_error_ignores_connection_refused(connects: list[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = await fetch(f"http://127.0.0.1:{closed_port}/", LOOPBACK_V4)
    assert isinstance(result, aiohttp.ClientConnectorError)
    assert describe_error(result) is None
    assert connects == ["127.0.0.1"]
