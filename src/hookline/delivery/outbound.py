"""Any request, any method, through the SSRF guard: what replaying a captured request sends."""

import asyncio
import time
from collections.abc import Sequence

import aiohttp
from multidict import CIMultiDict

from hookline.delivery.ssrf import Network, describe_error, make_connector
from hookline.delivery.transport import sending_session
from hookline.domain.captured import Headers
from hookline.domain.inspect import OutboundResult

_BODY_LIMIT = 1024 * 1024


class GuardedOutbound:
    """Sends the headers given and nothing more (no default User-Agent, Accept or Content-Type);
    never follows redirects. Build it inside a running event loop."""

    def __init__(self, allowed_cidrs: Sequence[Network] = ()) -> None:
        self._session = sending_session(make_connector(allowed_cidrs))

    async def send(self, method: str, url: str, headers: Headers, body: bytes, timeout: float) -> OutboundResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        skip = {"User-Agent", "Accept", "Accept-Encoding", "Content-Type"}
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method,
                    url,
                    data=body,
                    headers=CIMultiDict(headers),
                    skip_auto_headers=skip,
                    allow_redirects=False,
                ) as resp:
                    raw = await resp.content.read(_BODY_LIMIT)
                    got = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers)
                    return OutboundResult(resp.status, got, raw, elapsed())
        except TimeoutError:
            return OutboundResult(0, (), b"", elapsed(), f"timed out after {timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            refusal = describe_error(exc)
            if refusal is not None:
                return OutboundResult(0, (), b"", elapsed(), refusal, blocked=True)
            return OutboundResult(0, (), b"", elapsed(), f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        await self._session.close()
