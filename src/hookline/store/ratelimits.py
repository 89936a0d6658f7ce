"""The GCRA state of the rate limits at the front door (ingest sources, inspector bins): one
``rate_tat`` column on the limited row, read under a row lock so that every process shares it."""

from typing import Literal

from sqlalchemy import Table, select, update

from hookline.store import tables as t
from hookline.store.database import Conn

Kind = Literal["source", "bin"]
_TABLES: dict[str, Table] = {"source": t.ingest_source, "bin": t.inspect_bin}


async def lock_tat(conn: Conn, kind: Kind, row_id: str) -> int | None:
    """The row's TAT, locked until the transaction ends (PostgreSQL; SQLite's writer is alone)."""
    table = _TABLES[kind]
    query = select(table.c.rate_tat).where(table.c.id == row_id).with_for_update()
    value: int | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def set_tat(conn: Conn, kind: Kind, row_id: str, tat: int) -> None:
    table = _TABLES[kind]
    await conn.execute(update(table).where(table.c.id == row_id).values(rate_tat=tat))
