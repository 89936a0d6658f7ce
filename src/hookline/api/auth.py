"""Bearer-token authentication. Admin tokens reach everything; app tokens one app."""

import hmac
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hookline.api.errors import ApiError
from hookline.store import tokens

_CACHE_SECONDS = 10.0
bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


@dataclass(frozen=True)
class Principal:
    app_id: str | None  # None: the admin, allowed everywhere

    @property
    def is_admin(self) -> bool:
        return self.app_id is None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ApiError(403, "forbidden", "this token is scoped to one application")


class TokenCache:
    """Remembers token lookups briefly so each request does not hit the database."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, token_hash: str) -> tuple[bool, Principal | None]:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token_hash: str, principal: Principal | None) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + _CACHE_SECONDS, principal)

    def clear(self) -> None:
        self._entries.clear()


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "authentication_failed", "missing bearer token", {"WWW-Authenticate": "Bearer"})
    token = credentials.credentials
    state = request.app.state
    admin = state.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Principal(app_id=None)
    cache: TokenCache = state.token_cache
    key = tokens.hash_token(token)
    hit, principal = cache.get(key)
    if not hit:
        async with state.db.read() as conn:
            row = await tokens.lookup(conn, token)
        principal = Principal(app_id=row["app_id"]) if row else None
        cache.put(key, principal)
    if principal is None:
        raise ApiError(401, "authentication_failed", "invalid bearer token", {"WWW-Authenticate": "Bearer"})
    return principal


def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The bearer token of a request, read without FastAPI's dependency machinery."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
