"""Bearer-token authentication and what each token may do.

Admin tokens reach everything; app tokens one application. A portal token may also be read-only
(every write refused) or limited to Svix's capabilities, enforced by ``POLICY`` below.

Token lookups are cached for ``CACHE_SECONDS``. A process forgets its whole cache when it
revokes or expires a token, so nothing it revoked gets through it again; another process
(``serve --workers N``, ``hookline token revoke``) may let a revoked token through for up to
``CACHE_SECONDS``. Expiry is checked on every request, cached or not.
"""

import hmac
import time
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from hookline.api.errors import ApiError
from hookline.services import tokens
from hookline.services.tokens import Capability
from hookline.store.database import now_ms

CACHE_SECONDS = 10.0
bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")

# What a capability-limited token needs for a route: any one of the capabilities listed;
# "any": every token may (logging out); "full": only a token without capability limits, and
# not a read-only one.
Need = frozenset[Capability] | Literal["any", "full"]
_VIEW: Need = frozenset({Capability.VIEW_BASE})
_SECRET_VIEW: Need = frozenset(
    {Capability.VIEW_ENDPOINT_SECRET, Capability.MANAGE_ENDPOINT_SECRET, Capability.MANAGE_ENDPOINT}
)
_SECRET_MANAGE: Need = frozenset({Capability.MANAGE_ENDPOINT_SECRET, Capability.MANAGE_ENDPOINT})
_ENDPOINT_MANAGE: Need = frozenset({Capability.MANAGE_ENDPOINT})
_ATTEMPTS: Need = frozenset({Capability.CREATE_ATTEMPTS})
_TRANSFORMATIONS: Need = frozenset({Capability.MANAGE_TRANSFORMATIONS})
_APP = "/api/v1/app/{app_id}"
_EP = _APP + "/endpoint/{endpoint_id}"

# The one table of what capabilities allow. A route missing here needs ViewBase to read (GET,
# HEAD) and a token without capability limits for anything else, so new routes start closed.
POLICY: dict[tuple[str, str], Need] = {
    ("POST", "/api/v1/auth/logout"): "any",
    ("GET", _EP + "/secret"): _SECRET_VIEW,
    ("POST", _EP + "/secret/rotate"): _SECRET_MANAGE,
    ("POST", _APP + "/endpoint"): _ENDPOINT_MANAGE,
    ("PUT", _EP): _ENDPOINT_MANAGE,
    ("PATCH", _EP): _ENDPOINT_MANAGE,
    ("DELETE", _EP): _ENDPOINT_MANAGE,
    ("PUT", _EP + "/headers"): _ENDPOINT_MANAGE,
    ("PATCH", _EP + "/headers"): _ENDPOINT_MANAGE,
    ("PUT", _EP + "/client-certificate"): _ENDPOINT_MANAGE,
    ("DELETE", _EP + "/client-certificate"): _ENDPOINT_MANAGE,
    ("POST", _EP + "/filter/test"): _ENDPOINT_MANAGE,
    ("POST", _EP + "/fifo/skip-head"): _ENDPOINT_MANAGE,
    ("PATCH", _EP + "/transformation"): _TRANSFORMATIONS,
    ("POST", _EP + "/transformation/simulate"): _TRANSFORMATIONS,
    ("POST", _APP + "/msg/{msg_id}/endpoint/{endpoint_id}/resend"): _ATTEMPTS,
    ("POST", _EP + "/recover"): _ATTEMPTS,
    ("POST", _EP + "/replay-missing"): _ATTEMPTS,
    ("POST", _EP + "/bulk-replay"): _ATTEMPTS,
    ("POST", _APP + "/bulk-replay"): _ATTEMPTS,
    ("POST", _EP + "/send-example"): _ATTEMPTS,
    # An integration's key is a token for the whole application: reading it is never a read-only
    # or limited token's to do (it would lift the limits).
    ("GET", _APP + "/integration/{integ_id}/key"): "full",
    # A GET that writes: it moves the consumer's cursor past what it hands over, so that the
    # consumer's own next poll never gets it. A plain poll (remembering nothing) is a read.
    ("GET", _APP + "/poller/{sink_id}/consumer/{consumer_id}"): "full",
}
_READS = frozenset({"GET", "HEAD"})


def need(method: str, route: str) -> Need:
    return POLICY.get((method, route), _VIEW if method in _READS else "full")


@dataclass(frozen=True)
class Principal:
    app_id: str | None  # None: the admin, allowed everywhere
    token_id: str | None = None  # None: HOOKLINE_ADMIN_TOKEN, which lives in the settings
    expires_at: int | None = None
    read_only: bool = False
    capabilities: frozenset[Capability] | None = None  # None: whatever the scope allows
    generated: bool = False  # the admin token printed at first start

    @classmethod
    def from_token(cls, token: tokens.StoredToken) -> "Principal":
        caps = None if token.capabilities is None else frozenset(Capability(c) for c in token.capabilities)
        return cls(
            app_id=token.app_id,
            token_id=token.id,
            expires_at=token.expires_at,
            read_only=token.read_only,
            capabilities=caps,
            generated=token.origin == "generated",
        )

    @property
    def is_admin(self) -> bool:
        return self.app_id is None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ApiError(403, "forbidden", "this token is scoped to one application")

    def authorize(self, method: str, route: str) -> None:
        """Refuse what a read-only or capability-limited token may not do (403)."""
        needed = need(method, route)
        if needed == "any":
            return
        # Read-only is Svix's ViewBase alone: reads, but not the endpoints' signing secrets (a
        # secret would let its holder sign webhooks the tenant's receivers accept as ours).
        if self.read_only and (method not in _READS or needed == "full" or Capability.VIEW_BASE not in needed):
            raise ApiError(403, "forbidden", "this token is read-only")
        if self.capabilities is None:
            return
        if needed == "full":
            raise ApiError(403, "forbidden", "this token's capabilities do not include this operation")
        if not needed & self.capabilities:
            names = " or ".join(sorted(needed))
            raise ApiError(403, "forbidden", f"this token lacks the capability this needs: {names}")


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
        self._entries[token_hash] = (time.monotonic() + CACHE_SECONDS, principal)

    def clear(self) -> None:
        self._entries.clear()


def _refuse(detail: str) -> ApiError:
    return ApiError(401, "authentication_failed", detail, {"WWW-Authenticate": "Bearer"})


async def _principal(request: HTTPConnection, token: str) -> Principal:
    state = request.app.state
    admin = state.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Principal(app_id=None)
    cache: TokenCache = state.token_cache
    key = tokens.hash_token(token)
    hit, principal = cache.get(key)
    if not hit:
        stored = await tokens.check(state.db, token)
        # A dashboard session (its cookie holds a token) is not an API credential.
        usable = stored is not None and stored.revoked_at is None and stored.origin != "dashboard"
        principal = Principal.from_token(stored) if stored and usable else None
        refused_anyway = principal is not None and principal.generated and admin
        if stored is not None and principal is not None and stored.usable_at(now := now_ms()) and not refused_anyway:
            await tokens.note_use(state.db, stored, now)
        cache.put(key, principal)
    if principal is None:
        raise _refuse("invalid bearer token")
    if principal.expires_at is not None and principal.expires_at <= now_ms():
        raise _refuse("this token has expired")
    if principal.generated and admin:
        # A process that started before the generated token was revoked must not accept it either.
        raise _refuse("invalid bearer token: HOOKLINE_ADMIN_TOKEN replaces the token generated at first start")
    return principal


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or not credentials.credentials:
        raise _refuse("missing bearer token")
    principal = await _principal(request, credentials.credentials)
    route = request.scope.get("route")
    principal.authorize(request.method, route.path if route is not None else request.url.path)
    return principal


async def authenticate_connection(conn: HTTPConnection, method: str, route: str) -> Principal:
    """For what is not a plain request (a WebSocket): the bearer token of its handshake."""
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("missing bearer token")
    principal = await _principal(conn, token.strip())
    principal.authorize(method, route)
    return principal


def forget_tokens(request: Request) -> None:
    """After revoking or expiring tokens: this process must not let them through from its cache."""
    cache: TokenCache = request.app.state.token_cache
    cache.clear()


def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The bearer token of a request, read without FastAPI's dependency machinery."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    # Built without validation: both fields are plain strings already (a hot path).
    return HTTPAuthorizationCredentials.model_construct(scheme=scheme, credentials=token.strip())
