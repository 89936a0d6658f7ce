"""Idempotency keys: a POST whose ``idempotency-key`` repeats gets the first one's response.

The official Svix SDKs send a key with every POST, so every publish made with them reserves a
key before it runs and stores its response after. Those two writes would cost more than the
publish itself, each with its own commit; instead the reservations (and the responses) of the
requests that arrive together are written together, in one statement and one commit.
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from hookline.store import idempotency
from hookline.store.database import Database, now_ms
from hookline.store.idempotency import Stored

__all__ = ["Stored", "reserve", "settle"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Coalesced(Generic[Item, Result]):
    """Calls that arrive while a batch runs wait, and run together as the next batch. Nothing
    waits on a timer: under load the batches grow, alone a call is a batch of one."""

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        unwanted: Callable[[Item, Result], None] = lambda _item, _result: None,
    ) -> None:
        self._run = run
        self._unwanted = unwanted  # a result whose caller went away meanwhile
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:  # the database failed them all
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (item, future), result in zip(batch, results, strict=True):
                    if future.done():
                        self._unwanted(item, result)
                    else:
                        future.set_result(result)
        except BaseException:  # cancelled (the server stops): no caller waits forever
            for _, future in batch + self._waiting:
                future.cancel()
            raise
        finally:
            self._draining = None


@dataclass(frozen=True, slots=True)
class _Settle:
    key_hash: str
    response: tuple[int, bytes] | None  # None: the request failed, free its key


class _Keys:
    """One database handle's batches of reservations and settlements."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reserve = _Coalesced(self._reserve, self._forget)
        self.settle = _Coalesced(self._settle)
        self._freeing: set[asyncio.Task[None]] = set()

    async def _reserve(self, keys: list[str]) -> list[Stored | None]:
        # Two requests of one batch with the same key: the first reserves it, the others
        # find it pending, as they would a moment later.
        distinct = list(dict.fromkeys(keys))
        async with self.db.autocommit() as conn:
            earlier = await idempotency.claim_many(conn, distinct, now_ms())
        firsts = {key: i for i, key in reversed(list(enumerate(keys)))}
        return [earlier.get(key) if firsts[key] == i else _PENDING for i, key in enumerate(keys)]

    def _forget(self, key: str, earlier: Stored | None) -> None:
        """A reservation whose request went away before it heard of it: free the key."""
        if earlier is None:
            task = asyncio.get_running_loop().create_task(self.settle(_Settle(key, None)))
            self._freeing.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self._freeing.discard)

    async def _settle(self, items: list[_Settle]) -> list[None]:
        done = [(item.key_hash, *item.response) for item in items if item.response is not None]
        released = [item.key_hash for item in items if item.response is None]
        async with self.db.autocommit() as conn:
            await idempotency.settle_many(conn, done, released)
        return [None] * len(items)


_PENDING = Stored("pending", None, None)
_KEYS: "weakref.WeakKeyDictionary[Database, _Keys]" = weakref.WeakKeyDictionary()


def _keys(db: Database) -> _Keys:
    found = _KEYS.get(db)
    if found is None:
        found = _KEYS[db] = _Keys(db)
    return found


async def reserve(db: Database, key_hash: str) -> Stored | None:
    """Reserve ``key_hash`` for this request; return the earlier request's entry if it has
    one (pending, or done with the response to replay)."""
    return await _keys(db).reserve(key_hash)


async def settle(db: Database, key_hash: str, response: tuple[int, bytes] | None) -> None:
    """Store this request's response (status, body) for replay; ``None``: it did not
    succeed, so free the key for the client's retry."""
    await _keys(db).settle(_Settle(key_hash, response))
