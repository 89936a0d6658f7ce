"""Integrations: create, rename, rotate and delete an application's integration keys."""

from hookline.domain.model import Integration
from hookline.store import integrations
from hookline.store.database import Database
from hookline.store.pagination import Page
from hookline.store.secrets import SecretBox


async def page(db: Database, app_id: str, *, limit: int, iterator: str | None, descending: bool) -> Page[Integration]:
    async with db.read() as conn:
        return await integrations.page(conn, app_id, limit=limit, iterator=iterator, descending=descending)


async def create(db: Database, box: SecretBox, app_id: str, name: str) -> Integration:
    async with db.write() as conn:
        return await integrations.create(conn, app_id, name, [], box.seal)


async def get(db: Database, app_id: str, integ_id: str) -> Integration:
    async with db.read() as conn:
        return await integrations.get(conn, app_id, integ_id)


async def rename(db: Database, app_id: str, integ_id: str, name: str) -> Integration:
    async with db.write() as conn:
        row = await integrations.get(conn, app_id, integ_id)
        return await integrations.update_fields(conn, row, {"name": name})


async def remove(db: Database, app_id: str, integ_id: str) -> None:
    async with db.write() as conn:
        await integrations.remove(conn, await integrations.get(conn, app_id, integ_id))


async def key(db: Database, box: SecretBox, app_id: str, integ_id: str) -> str:
    async with db.read() as conn:
        row = await integrations.get(conn, app_id, integ_id)
    return box.open(row.key)


async def rotate_key(db: Database, box: SecretBox, app_id: str, integ_id: str) -> str:
    async with db.write() as conn:
        row = await integrations.get(conn, app_id, integ_id)
        return await integrations.rotate_key(conn, row, box.seal)
