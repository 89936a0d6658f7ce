"""The hot routes, answered before FastAPI's router.

Publishing and the ingest URLs are the hot paths: a producer may publish, and a provider
post, thousands of times a second. Under load, FastAPI's router, dependency solver and
exception middleware cost as much CPU as storing the message (docs/benchmarks.md); the
router alone walks every route of the app, in order, for each request. This answers
``POST /api/v1/app/{app_id}/msg`` and ``/in/{token}...`` with the very same handlers and
exception handlers the app registers, inside every middleware of ours (body limits, JSON
checks, idempotency, rate limits); every other request goes on to FastAPI unchanged.
"""

import inspect
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

# Starlette's exception handlers: (request, exc) -> a response, or an awaitable of one.
Handler = Callable[[Request, Any], Any]


class FastRoute:
    """Answer requests of ``methods`` to one path pattern with ``endpoint``."""

    def __init__(
        self,
        app: ASGIApp,
        methods: Collection[str],
        pattern: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        route: BaseRoute,
        handlers: Callable[[], Mapping[Any, Handler]],
    ) -> None:
        self.app = app
        self.methods = frozenset(methods)
        self.pattern = re.compile(pattern)
        self.endpoint = endpoint
        self.route = route  # what auth reads the route's template from, as under the router
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] in self.methods:
            match = self.pattern.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = match.groupdict()
        scope["route"] = self.route
        scope["endpoint"] = self.endpoint
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Handler | None:
        handlers = self.handlers()
        for kind in type(exc).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None
