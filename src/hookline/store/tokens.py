"""API tokens. Only a SHA-256 of each token is stored."""

import hashlib
import secrets

from sqlalchemy import insert, select

from hookline.domain.ids import new_id
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms
from hookline.store.errors import NotFoundError
from hookline.store.tables import Row

TOKEN_PREFIX = "hl_"  # noqa: S105 - a prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create(conn: Conn, *, app_id: str | None, name: str) -> str:
    """Store a new token and return it; it cannot be read back later."""
    if app_id is not None:
        # hookline's internal applications (operational webhooks) are never a tenant's.
        query = select(t.application.c.internal).where(t.application.c.id == app_id)
        if (await conn.execute(query)).scalar_one_or_none() in (None, True):
            raise NotFoundError("application")
    token = generate_token()
    await conn.execute(
        insert(t.api_token).values(
            id=new_id("tok"), token_hash=hash_token(token), app_id=app_id, name=name, created_at=now_ms()
        )
    )
    return token


async def lookup(conn: Conn, token: str) -> Row | None:
    query = select(t.api_token).where(t.api_token.c.token_hash == hash_token(token))
    return (await conn.execute(query)).mappings().first()


async def list_all(conn: Conn) -> list[Row]:
    return list((await conn.execute(select(t.api_token).order_by(t.api_token.c.id))).mappings())


async def has_admin(conn: Conn) -> bool:
    query = select(t.api_token.c.id).where(t.api_token.c.app_id.is_(None)).limit(1)
    return (await conn.execute(query)).first() is not None
