"""API tokens. Only a SHA-256 of each token is stored; a token is never readable again."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, case, delete, insert, select, update

from hookline.domain.ids import new_id
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.pagination import paginate
from hookline.store.tables import Row

TOKEN_PREFIX = "hl_"  # noqa: S105 - a prefix, not a secret
GENERATED_NAME = "admin (generated at first start)"

# generated: printed at first start; cli: ``hookline token create``; api: POST /api/v1/auth/token;
# portal: POST /api/v1/auth/app-portal-access.
Origin = Literal["generated", "cli", "api", "portal", "dashboard"]


@dataclass(frozen=True)
class StoredToken:
    id: str
    app_id: str | None  # None: an admin token
    name: str
    origin: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    read_only: bool
    capabilities: tuple[str, ...] | None  # None: everything its scope allows
    session_id: str | None
    opened_with: str | None = None  # a dashboard session's admin token (its id, or "env:...")
    last_used_at: int | None = None  # to the minute; None: never

    @classmethod
    def from_row(cls, row: Row) -> "StoredToken":
        caps = row["capabilities"]
        return cls(
            id=row["id"],
            app_id=row["app_id"],
            name=row["name"],
            origin=row["origin"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            read_only=bool(row["read_only"]),
            capabilities=None if caps is None else tuple(caps),
            session_id=row["session_id"],
            opened_with=row["opened_with"],
            last_used_at=row["last_used_at"],
        )

    def usable_at(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class TokenPage:
    tokens: list[StoredToken]
    iterator: str | None
    prev_iterator: str | None
    done: bool


@dataclass(frozen=True)
class NewToken:
    app_id: str | None
    name: str
    origin: Origin
    expires_at: int | None = None
    read_only: bool = False
    capabilities: Sequence[str] | None = None
    session_id: str | None = None
    opened_with: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def insert_token(conn: Conn, new: NewToken) -> tuple[StoredToken, str]:
    """Store a new token; return it with its value, which cannot be read back later."""
    if new.app_id is not None:
        # hookline's internal applications (operational webhooks) are never a tenant's.
        query = select(t.application.c.internal).where(t.application.c.id == new.app_id)
        if (await conn.execute(query)).scalar_one_or_none() in (None, True):
            raise NotFoundError("application")
    token = generate_token()
    values = {
        "id": new_id("tok"),
        "token_hash": hash_token(token),
        "app_id": new.app_id,
        "name": new.name,
        "created_at": now_ms(),
        "origin": new.origin,
        "expires_at": new.expires_at,
        "revoked_at": None,
        "read_only": new.read_only,
        "capabilities": None if new.capabilities is None else list(new.capabilities),
        "session_id": new.session_id,
        "opened_with": new.opened_with,
        "last_used_at": None,
    }
    await conn.execute(insert(t.api_token).values(**values))
    return StoredToken.from_row(values), token


async def create(conn: Conn, *, app_id: str | None, name: str, origin: Origin = "cli") -> str:
    """Store a token that never expires and return its value."""
    _, token = await insert_token(conn, NewToken(app_id=app_id, name=name, origin=origin))
    return token


async def mark_used(conn: Conn, token_id: str, at: int) -> None:
    await conn.execute(update(t.api_token).where(t.api_token.c.id == token_id).values(last_used_at=at))


async def lookup(conn: Conn, token: str) -> StoredToken | None:
    query = select(t.api_token).where(t.api_token.c.token_hash == hash_token(token))
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else StoredToken.from_row(row)


_OPENER = t.api_token.alias("opener")
_OPENER_PREFIX = "opener_"


async def lookup_with_opener(conn: Conn, token: str) -> tuple[StoredToken, StoredToken | None] | None:
    """The token, and the one it was opened with (``opened_with``, a dashboard session's admin
    token) when that is a stored token, in one query: both by unique index."""
    c = t.api_token.c
    opener = [col.label(_OPENER_PREFIX + col.name) for col in _OPENER.c]
    query = (
        select(t.api_token, *opener)
        .select_from(t.api_token.outerjoin(_OPENER, _OPENER.c.id == c.opened_with))
        .where(c.token_hash == hash_token(token))
    )
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    opened = {k.removeprefix(_OPENER_PREFIX): v for k, v in row.items() if k.startswith(_OPENER_PREFIX)}
    return StoredToken.from_row(row), None if opened["id"] is None else StoredToken.from_row(opened)


async def find(conn: Conn, token_id: str) -> StoredToken | None:
    row = (await conn.execute(select(t.api_token).where(t.api_token.c.id == token_id))).mappings().first()
    return None if row is None else StoredToken.from_row(row)


async def list_all(conn: Conn, *, app_id: str | None = None, admin_only: bool = False) -> list[StoredToken]:
    query = select(t.api_token).order_by(t.api_token.c.id)
    if app_id is not None:
        query = query.where(t.api_token.c.app_id == app_id)
    if admin_only:
        query = query.where(t.api_token.c.app_id.is_(None))
    return [StoredToken.from_row(row) for row in (await conn.execute(query)).mappings()]


async def list_newest(conn: Conn, origins: Sequence[str], *, limit: int) -> list[StoredToken]:
    """The newest ``limit`` tokens made these ways, whatever their state."""
    c = t.api_token.c
    query = select(t.api_token).where(c.origin.in_(origins)).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
    return [StoredToken.from_row(row) for row in (await conn.execute(query)).mappings()]


# Tokens that stand for a sign-in (a dashboard session, a portal grant): one per sign-in or
# portal opening, so, unlike tokens made on purpose, they are not kept once they have ended.
SIGN_IN_ORIGINS = ("dashboard", "portal")


async def purge_ended_sign_ins(conn: Conn, ended_before: int) -> int:
    """Delete sign-in tokens that expired or were revoked before ``ended_before``."""
    c = t.api_token.c
    ended = (c.expires_at < ended_before) | (c.revoked_at < ended_before)
    result = await conn.execute(delete(t.api_token).where(c.origin.in_(SIGN_IN_ORIGINS), ended))
    return int(result.rowcount or 0)


async def list_page(conn: Conn, *, limit: int, iterator: str | None) -> TokenPage:
    page = await paginate(conn, select(t.api_token), t.api_token.c.id, limit=limit, iterator=iterator, descending=False)
    tokens = [StoredToken.from_row(row) for row in page.rows]
    return TokenPage(tokens, page.iterator, page.prev_iterator, page.done)


def _usable(now: int) -> list[ColumnElement[bool]]:
    c = t.api_token.c
    return [c.revoked_at.is_(None), c.expires_at.is_(None) | (c.expires_at > now)]


async def has_admin(conn: Conn) -> bool:
    """Whether any admin token still works."""
    query = select(t.api_token.c.id).where(t.api_token.c.app_id.is_(None), *_usable(now_ms())).limit(1)
    return (await conn.execute(query)).first() is not None


async def revoke(conn: Conn, token_ids: Sequence[str]) -> int:
    """Revoke these tokens now (those already revoked keep their first revocation time)."""
    if not token_ids:
        return 0
    c = t.api_token.c
    query = update(t.api_token).where(c.id.in_(token_ids), c.revoked_at.is_(None)).values(revoked_at=now_ms())
    result = await conn.execute(query)
    return int(result.rowcount or 0)


async def usable_ids(
    conn: Conn, *, app_id: str | None, origins: Sequence[str], session_ids: Sequence[str] | None = None
) -> list[str]:
    """Ids of the tokens still working, of this scope (None: admin) and origins, maybe only these sessions."""
    c = t.api_token.c
    query = select(c.id).where(c.origin.in_(origins), *_usable(now_ms()))
    query = query.where(c.app_id.is_(None) if app_id is None else c.app_id == app_id)
    if session_ids is not None:
        query = query.where(c.session_id.in_(session_ids))
    return [row[0] for row in await conn.execute(query)]


async def expire_by(conn: Conn, token_ids: Sequence[str], expires_at: int) -> int:
    """Make these tokens expire at ``expires_at`` at the latest."""
    if not token_ids:
        return 0
    c = t.api_token.c
    query = (
        update(t.api_token)
        .where(c.id.in_(token_ids))
        .values(expires_at=case((c.expires_at.is_(None) | (c.expires_at > expires_at), expires_at), else_=c.expires_at))
    )
    result = await conn.execute(query)
    return int(result.rowcount or 0)


async def insert_portal_link(conn: Conn, token_id: str, expires_at: int) -> str:
    """A single-use link secret for a portal token; only its hash is stored. Links past their
    expiry go at the same time (their sessions ended with their tokens), so the table stays small."""
    await conn.execute(delete(t.portal_link).where(t.portal_link.c.expires_at <= now_ms()))
    link = secrets.token_urlsafe(32)
    values = {
        "id": new_id("plk"),
        "link_hash": hash_token(link),
        "token_id": token_id,
        "expires_at": expires_at,
        "used_at": None,
        "session_hash": None,
    }
    await conn.execute(insert(t.portal_link).values(**values))
    return link


async def use_portal_link(conn: Conn, link: str, session: str) -> StoredToken | None:
    """Mark the link used and tie ``session`` to it, once: the UPDATE's row count decides
    between concurrent uses, in any number of processes. The link's token, or None."""
    c = t.portal_link.c
    now = now_ms()
    query = (
        update(t.portal_link)
        .where(c.link_hash == hash_token(link), c.used_at.is_(None), c.expires_at > now)
        .values(used_at=now, session_hash=hash_token(session))
    )
    if int((await conn.execute(query)).rowcount or 0) != 1:
        return None
    token_id = (await conn.execute(select(c.token_id).where(c.link_hash == hash_token(link)))).scalar_one()
    return await find(conn, token_id)


async def portal_session_token(conn: Conn, session: str) -> StoredToken | None:
    """The token behind a portal session, whatever its state, or None: one query, by the
    session's unique index and the token's primary key."""
    c = t.portal_link.c
    query = (
        select(t.api_token)
        .select_from(t.portal_link.join(t.api_token, t.api_token.c.id == c.token_id))
        .where(c.session_hash == hash_token(session))
    )
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else StoredToken.from_row(row)
