"""Token use-cases: issuing, checking, listing and revoking API tokens, for the API and the CLI.

Every token may expire; a revoked or expired token is refused. Portal tokens (app-portal-access)
default to Svix's 7 days and may be read-only or limited to Svix's portal capabilities.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hookline.domain.model import Application
from hookline.errors import Invalid
from hookline.store import applications
from hookline.store import tokens as store
from hookline.store.database import Database, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.tokens import GENERATED_NAME, NewToken, Origin, StoredToken, TokenPage, hash_token

__all__ = [
    "MADE_ORIGINS",
    "PORTAL_EXPIRY_DEFAULT",
    "PORTAL_EXPIRY_MAX",
    "PORTAL_EXPIRY_MIN",
    "SIGN_IN_ORIGINS",
    "AdminTokens",
    "Capability",
    "PortalAccess",
    "PortalGrant",
    "PortalSession",
    "StoredToken",
    "TokenPage",
    "check",
    "create_token",
    "expire_all",
    "hash_token",
    "list_made",
    "list_page",
    "list_tokens",
    "open_portal_link",
    "portal_access",
    "portal_session",
    "revoke_token",
    "settle_admin_tokens",
]

HOUR = 3600
DAY = 24 * HOUR
PORTAL_EXPIRY_MIN = HOUR
PORTAL_EXPIRY_MAX = 7 * DAY
PORTAL_EXPIRY_DEFAULT = 7 * DAY
# Tokens made by the operator (CLI, API) may live long, but not past anyone's memory of them.
TOKEN_EXPIRY_MAX = 10 * 365 * DAY
TOKEN_EXPIRY_MIN = 60  # seconds: a token must live long enough to be used once
LIFETIME_RULE = "a token lives from 60s to 10 years (521w)"
NAME_RULE = "must be 1 to 256 characters, without NUL"


class Capability(StrEnum):
    """Svix's app portal capabilities. A portal token given some gets only what they allow."""

    VIEW_BASE = "ViewBase"
    VIEW_ENDPOINT_SECRET = "ViewEndpointSecret"  # noqa: S105 - a capability's name
    MANAGE_ENDPOINT_SECRET = "ManageEndpointSecret"  # noqa: S105 - a capability's name
    MANAGE_TRANSFORMATIONS = "ManageTransformations"
    CREATE_ATTEMPTS = "CreateAttempts"
    MANAGE_ENDPOINT = "ManageEndpoint"


@dataclass(frozen=True)
class PortalGrant:
    expiry: int = PORTAL_EXPIRY_DEFAULT  # seconds
    read_only: bool = False
    capabilities: Sequence[Capability] | None = None  # None: the whole application
    session_id: str | None = None


@dataclass(frozen=True)
class PortalAccess:
    """What app-portal-access hands out: the API token, and the single-use link that opens
    the portal once (both end when the token ends)."""

    app: Application
    token: str
    link: str


@dataclass(frozen=True)
class PortalSession:
    """A portal session, while its token works: one application, maybe fewer rights."""

    token: StoredToken
    app_id: str

    def can(self, capability: "Capability") -> bool:
        if capability is not Capability.VIEW_BASE and self.token.read_only:
            return False
        return self.token.capabilities is None or capability in self.token.capabilities


@dataclass(frozen=True)
class AdminTokens:
    """What start-up did to the stored admin tokens."""

    generated: str | None  # a new admin token, to print once
    revoked: list[str]  # ids of generated tokens revoked because HOOKLINE_ADMIN_TOKEN is set


def _expiry_ms(seconds: float | None) -> int | None:
    return None if seconds is None else now_ms() + int(seconds * 1000)


async def check(db: Database, token: str) -> StoredToken | None:
    """The stored token, whatever its state (the caller tells expired from revoked), or None."""
    async with db.read() as conn:
        return await store.lookup(conn, token)


USE_NOTED_EVERY_MS = 60_000  # how fresh a token's last_used_at is kept: a write a minute at most


async def note_use(db: Database, token: StoredToken, now: int) -> None:
    """Keep ``token``'s ``last_used_at`` within a minute of ``now``: the API's authentication
    calls this each time it reads the token (not on every request, which its cache answers),
    and writes only when the stored time is older than that."""
    if token.last_used_at is None or now - token.last_used_at >= USE_NOTED_EVERY_MS:
        async with db.write() as conn:
            await store.mark_used(conn, token.id, now)


DASHBOARD_SESSION = "dashboard session"
_ENV_OPENER = "env:"


def _env_fingerprint(admin_token: str) -> str:
    """What a session opened with HOOKLINE_ADMIN_TOKEN keeps of it: enough to tell that the
    setting changed, and (salted, unlike a token's hash) no stand-in for it anywhere else."""
    return _ENV_OPENER + hash_token("hookline dashboard session opener:" + admin_token)


async def start_dashboard_session(
    db: Database, lifetime_seconds: float, *, opened_with: str | None, admin_token: str | None
) -> str:
    """An operator's dashboard session, after signing in with an admin token: a token of its
    own (admin, expiring, revocable like any other), so that every process of a deployment
    knows it and ``hookline token revoke`` ends it. ``opened_with``: the id of the stored admin
    token signed in with, None for HOOKLINE_ADMIN_TOKEN (``admin_token``); the session ends
    when that token is revoked or expires, or when the setting changes."""
    if opened_with is None:
        if not admin_token:
            raise ValueError("a dashboard session needs the admin token it was opened with")
        opened_with = _env_fingerprint(admin_token)
    new = NewToken(
        app_id=None,
        name=DASHBOARD_SESSION,
        origin="dashboard",
        expires_at=_expiry_ms(lifetime_seconds),
        opened_with=opened_with,
    )
    async with db.write() as conn:
        _, token = await store.insert_token(conn, new)
    return token


async def dashboard_session(db: Database, token: str, *, admin_token: str | None) -> StoredToken | None:
    """The live dashboard session ``token`` names; None when unknown, expired or ended, or when
    the admin token it was opened with no longer works (revoked, expired, or, for
    HOOKLINE_ADMIN_TOKEN (``admin_token``), changed or unset). One query."""
    async with db.read() as conn:
        found = await store.lookup_with_opener(conn, token)
    if found is None:
        return None
    session, opener = found
    now = now_ms()
    if session.origin != "dashboard" or session.app_id is not None or not session.usable_at(now):
        return None
    if session.opened_with is not None and session.opened_with.startswith(_ENV_OPENER):
        return session if admin_token and session.opened_with == _env_fingerprint(admin_token) else None
    # A session from before sessions kept their token (opened_with NULL) has nothing to check: ended.
    if opener is None or opener.app_id is not None or not opener.usable_at(now):
        return None
    if opener.origin == "generated" and admin_token:
        return None  # HOOKLINE_ADMIN_TOKEN replaces it, even before this process's start revoked it
    return session


async def end_dashboard_session(db: Database, token_id: str) -> None:
    async with db.write() as conn:
        await store.revoke(conn, [token_id])


async def portal_access(
    db: Database, app_id: str, grant: PortalGrant, *, new_app: dict[str, Any] | None = None
) -> PortalAccess:
    """A token for one application's portal, creating the application from ``new_app`` if
    missing, and a single-use link that opens the portal at /portal/ with the same rights."""
    capabilities = None
    if grant.capabilities is not None:
        # Svix requires ViewBase with any other capability: every grant can at least read.
        capabilities = sorted({Capability.VIEW_BASE, *grant.capabilities})
    async with db.write() as conn:
        app = await applications.find(conn, app_id)
        if app is None:
            if new_app is None:
                raise NotFoundError("application")
            fields = {**new_app, "uid": new_app.get("uid") or app_id}
            app, _ = await applications.create_or_find(conn, fields, app_id)
        new = NewToken(
            app_id=app.id,
            name="app portal access",
            origin="portal",
            expires_at=_expiry_ms(grant.expiry),
            read_only=grant.read_only,
            capabilities=capabilities,
            session_id=grant.session_id,
        )
        stored, token = await store.insert_token(conn, new)
        link = await store.insert_portal_link(conn, stored.id, stored.expires_at or now_ms())
    return PortalAccess(app=app, token=token, link=link)


async def open_portal_link(db: Database, link: str, session: str) -> PortalSession | None:
    """Turn a magic link into the portal session ``session`` names: once only, even across
    processes (the use is stored), and only while the link's token works. None: refused."""
    async with db.write() as conn:
        token = await store.use_portal_link(conn, link, session)
    return _live(token)


async def portal_session(db: Database, session: str) -> PortalSession | None:
    """The portal session ``session`` names, while its token works (revoked or expired by
    expire-all or by time: None)."""
    async with db.read() as conn:
        token = await store.portal_session_token(conn, session)
    return _live(token)


def _live(token: StoredToken | None) -> PortalSession | None:
    if token is None or token.app_id is None or not token.usable_at(now_ms()):
        return None
    return PortalSession(token=token, app_id=token.app_id)


async def create_token(
    db: Database, *, app: str | None, name: str, expires_in: float | None, origin: Origin
) -> tuple[StoredToken, str]:
    """A token for the admin (``app`` None) or one application (id or uid), made on purpose.
    Invalid (``name``, ``expires``) for a name or a lifetime a token cannot have."""
    if not 1 <= len(name) <= 256 or "\x00" in name:
        raise Invalid(["name"], NAME_RULE)
    if expires_in is not None and not TOKEN_EXPIRY_MIN <= expires_in <= TOKEN_EXPIRY_MAX:
        raise Invalid(["expires"], LIFETIME_RULE)
    async with db.write() as conn:
        app_id = None
        if app is not None:
            row = await applications.find(conn, app)
            if row is None:
                raise NotFoundError("application")
            app_id = row.id
        return await store.insert_token(
            conn, NewToken(app_id=app_id, name=name, origin=origin, expires_at=_expiry_ms(expires_in))
        )


async def list_tokens(db: Database) -> list[StoredToken]:
    async with db.read() as conn:
        return await store.list_all(conn)


# Tokens made to call the API (printed at first start, hookline token create, an integration's
# key, POST /api/v1/auth/token, the dashboard's tokens page), and those that stand for a sign-in.
MADE_ORIGINS = ("generated", "cli", "api")
SIGN_IN_ORIGINS = store.SIGN_IN_ORIGINS


async def list_made(db: Database, origins: Sequence[str], *, limit: int) -> list[StoredToken]:
    """The newest ``limit`` tokens of these origins, whatever their state."""
    async with db.read() as conn:
        return await store.list_newest(conn, origins, limit=limit)


async def list_page(db: Database, *, limit: int, iterator: str | None) -> TokenPage:
    async with db.read() as conn:
        return await store.list_page(conn, limit=limit, iterator=iterator)


async def revoke_token(db: Database, token_id: str) -> StoredToken:
    """Revoke one token by id (revoking it twice is harmless)."""
    async with db.write() as conn:
        await store.revoke(conn, [token_id])
        found = await store.find(conn, token_id)
    if found is None:
        raise NotFoundError("token")
    return found


async def expire_all(db: Database, app_id: str, *, expiry: int | None, session_ids: Sequence[str] | None) -> int:
    """Svix's expire-all: end an application's portal tokens (maybe only some sessions') now,
    or ``expiry`` seconds from now. Tokens made on purpose for the application (CLI, API) stay."""
    async with db.write() as conn:
        app = await applications.find(conn, app_id)
        if app is None or app.internal:
            raise NotFoundError("application")
        ids = await store.usable_ids(conn, app_id=app.id, origins=["portal"], session_ids=session_ids)
        if expiry:
            return await store.expire_by(conn, ids, now_ms() + expiry * 1000)
        return await store.revoke(conn, ids)


async def settle_admin_tokens(db: Database, *, admin_token_configured: bool) -> AdminTokens:
    """Make HOOKLINE_ADMIN_TOKEN the only admin token unless others were made on purpose.

    With it set, the token generated at first start stops working (admin tokens made with
    ``hookline token create`` or the API stay). Without it, and with no working admin token,
    a new one is generated for the caller to print once.
    """
    async with db.write() as conn:
        if admin_token_configured:
            ids = await store.usable_ids(conn, app_id=None, origins=["generated"])
            await store.revoke(conn, ids)
            return AdminTokens(generated=None, revoked=ids)
        if await store.has_admin(conn):
            return AdminTokens(generated=None, revoked=[])
        token = await store.create(conn, app_id=None, name=GENERATED_NAME, origin="generated")
    return AdminTokens(generated=token, revoked=[])
