"""Cursor pagination over time-sortable ids, both ways, as Svix does it.

``iterator`` continues after the given id in the listing's order; an iterator
starting with ``-`` (a ``prevIterator``) walks back towards the start.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import ColumnElement, Select

from hookline.store.database import Conn
from hookline.store.tables import Row

MAX_LIMIT = 250


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    iterator: str | None
    prev_iterator: str | None
    done: bool


@overload
async def paginate(
    conn: Conn,
    query: Select[Any],
    cursor: ColumnElement[Any],
    *,
    limit: int,
    iterator: str | None,
    descending: bool,
) -> Page[Row]: ...


@overload
async def paginate(
    conn: Conn,
    query: Select[Any],
    cursor: ColumnElement[Any],
    *,
    limit: int,
    iterator: str | None,
    descending: bool,
    record: Callable[[Row], T],
) -> Page[T]: ...


async def paginate(
    conn: Conn,
    query: Select[Any],
    cursor: ColumnElement[Any],
    *,
    limit: int,
    iterator: str | None,
    descending: bool,
    record: Callable[[Row], Any] | None = None,
) -> Page[Any]:
    """One page of ``query`` in ``cursor`` order, each row made a record by ``record``."""
    backwards = bool(iterator and iterator.startswith("-"))
    position = iterator[1:] if iterator and backwards else iterator
    walk_descending = descending != backwards
    if position:
        query = query.where(cursor < position if walk_descending else cursor > position)
    query = query.order_by(cursor.desc() if walk_descending else cursor.asc()).limit(limit + 1)
    rows = list((await conn.execute(query)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    key = str(cursor.key)
    if not rows:
        # Walking back found nothing: ``position`` starts the listing, so going forward
        # again starts from the top (continuing after ``position`` would skip it).
        return Page(rows=[], iterator=None if backwards else iterator, prev_iterator=None, done=True)
    return Page(
        rows=rows if record is None else [record(row) for row in rows],
        iterator=str(rows[-1][key]),
        prev_iterator="-" + str(rows[0][key]),
        done=not more if not backwards else False,
    )
