"""The outbound transport seam: the aiohttp transport's outcomes, and the fake."""

import ipaddress

import pytest
from tests.support.servers import Receiver, Reply

from hookline.delivery.outbound import GuardedOutbound
from hookline.delivery.transport import AiohttpTransport, FakeTransport, Request, TransportResult

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def _request(url: str) -> Request:
    return Request(url, b'{"a":1}', {"Content-Type": "application/json"}, timeout=2, body_limit=5)


async def test_a_refused_address_is_a_typed_blocked_outcome(receiver: Receiver) -> None:
    transport = AiohttpTransport()  # nothing allowed: loopback is refused
    try:
        result = await transport.send(_request(receiver.url()))
    finally:
        await transport.close()
    assert result.blocked and result.status_code == 0
    assert result.error is not None and "loopback" in result.error
    assert receiver.requests == []


async def test_an_answer_is_kept_up_to_the_body_limit(receiver: Receiver) -> None:
    receiver.respond = lambda _r: Reply(status=429, body=b"slow down please", headers={"Retry-After": "3"})
    transport = AiohttpTransport(LOOPBACK)
    try:
        result = await transport.send(_request(receiver.url()))
    finally:
        await transport.close()
    assert (result.status_code, result.body, result.retry_after, result.blocked) == (429, "slow ", "3", False)
    assert receiver.requests[0].body == b'{"a":1}'


async def test_a_connection_failure_is_not_blocked() -> None:
    transport = AiohttpTransport(LOOPBACK)
    try:
        result = await transport.send(_request("http://127.0.0.1:9/"))  # the discard port: nobody listens
    finally:
        await transport.close()
    assert result.status_code == 0 and result.error and not result.blocked


@pytest.mark.parametrize("status", [200, 503])
async def test_the_fake_answers_from_memory(status: int) -> None:
    fake = FakeTransport(lambda _req: TransportResult(status, "", 1, None))
    result = await fake.send(_request("https://example.com/hook"))
    await fake.close()
    assert result.status_code == status and [r.url for r in fake.sent] == ["https://example.com/hook"] and fake.closed


def _setting_cookies(receiver: Receiver) -> tuple[str, str]:
    """Two URLs on ``receiver`` by a host name (jars keep no cookies of IP hosts), which
    answers every request with a cookie."""
    receiver.respond = lambda _r: Reply(status=200, headers={"Set-Cookie": "session=tenant-a-secret; Path=/"})
    return receiver.url("/a").replace("127.0.0.1", "localhost"), receiver.url("/b").replace("127.0.0.1", "localhost")


async def test_cookies_an_endpoint_sets_are_never_sent_back(receiver: Receiver) -> None:
    """One session sends for every tenant: a cookie one endpoint sets must not ride along
    to the next delivery, its own or another application's on the same host."""
    first_url, second_url = _setting_cookies(receiver)
    transport = AiohttpTransport(LOOPBACK)
    try:
        first = await transport.send(_request(first_url))
        second = await transport.send(_request(second_url))
    finally:
        await transport.close()
    assert (first.status_code, second.status_code) == (200, 200), (first, second)
    assert [r.headers.get("cookie") for r in receiver.requests] == [None, None]


async def test_replays_carry_no_cookie_an_earlier_answer_set(receiver: Receiver) -> None:
    first_url, second_url = _setting_cookies(receiver)
    outbound = GuardedOutbound(LOOPBACK)
    try:
        first = await outbound.send("POST", first_url, (("X-Sig", "abc"),), b"1", timeout=2)
        second = await outbound.send("POST", second_url, (), b"2", timeout=2)
    finally:
        await outbound.close()
    assert (first.status, second.status) == (200, 200), (first, second)
    assert [r.headers.get("cookie") for r in receiver.requests] == [None, None]
