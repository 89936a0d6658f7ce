"""Query parameters a route does not take are refused, not ignored.

A filter the API does not know (a misspelt ``evnt_types``, or one of Svix's that hookline
lacks) would otherwise be dropped, and the caller would take an unfiltered list for a filtered
one. Every API route runs :func:`refuse_unknown_query` (a router dependency); the publish route,
which skips FastAPI's machinery, calls :func:`publish_with_content` itself.
"""

from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request

from hookline.errors import Invalid

# (path, method) -> the query parameters its OpenAPI operation lists; None: not in the document.
_taken: dict[tuple[str, str], frozenset[str] | None] = {}


def _names(request: Request, route: APIRoute) -> frozenset[str] | None:
    """What the OpenAPI document says the route takes: the contract callers read."""
    key = (route.path_format, request.method.lower())
    if key not in _taken:
        document: dict[str, Any] = request.app.openapi()
        operation = document.get("paths", {}).get(key[0], {}).get(key[1])
        if operation is None:
            _taken[key] = None
        else:
            _taken[key] = frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
    return _taken[key]


def _unknown(name: str, taken: frozenset[str]) -> Invalid:
    known = ", ".join(sorted(taken)) if taken else "none"
    return Invalid(["query", name], f"unknown query parameter (this route takes: {known})")


async def refuse_unknown_query(request: Request) -> None:
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    taken = _names(request, route)
    if taken is None:
        return
    for name in request.query_params:
        if name not in taken:
            raise _unknown(name, taken)


_WITH_CONTENT = frozenset({"with_content"})
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def publish_with_content(request: Request) -> bool:
    """The publish route's one query parameter: ``with_content`` (default true)."""
    query = request.scope.get("query_string")
    if not query:
        return True
    if query == b"with_content=false":  # what the svix SDKs send: no parsing on the hot path
        return False
    with_content = True
    for name, value in request.query_params.multi_items():
        if name not in _WITH_CONTENT:
            raise _unknown(name, _WITH_CONTENT)
        parsed = _BOOLEANS.get(value.lower())
        if parsed is None:
            raise Invalid(["query", "with_content"], f"must be true or false, not {value!r}")
        with_content = parsed
    return with_content
