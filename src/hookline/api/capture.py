"""Reads an incoming request, exactly as sent, into a ``CapturedRequest`` (ingest and
capture URLs). The body's size and time limits are the middleware's (``RAW_PREFIXES``)."""

import time

from fastapi import Request

from hookline.domain.captured import CapturedRequest, headers_from_raw


async def read_captured(request: Request, path: str) -> CapturedRequest:
    """``path`` is the part of the URL path below the token ("" when none)."""
    body = await request.body()
    return CapturedRequest(
        method=request.method,
        path=path,
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=headers_from_raw(list(request.scope["headers"])),
        body=body,
        client=request.client.host if request.client else None,
        received_at=time.time_ns() // 1_000_000,
    )
