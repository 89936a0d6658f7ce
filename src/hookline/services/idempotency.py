"""Idempotency keys: a POST whose ``idempotency-key`` repeats gets the first one's response.

The official Svix SDKs send a key with every POST, so every publish made with them reserves a
key before it runs and stores its response after. Those two writes would cost more than the
publish itself, each with its own commit; instead the reservations (and the responses) of the
requests that arrive together are written together, in one statement and one commit.
A publish goes further (``reserve_in``): its key is reserved, and its answer stored, in the
very batch that stores the message, so a keyed publish costs one commit, not three.
"""

import asyncio
import weakref
from dataclasses import dataclass

from hookline.services.batches import Coalesced
from hookline.store import idempotency
from hookline.store.database import Conn, Database, now_ms
from hookline.store.idempotency import PENDING, Stored

__all__ = ["KeyTaken", "Stored", "reserve", "reserve_in", "settle"]


class KeyTaken(Exception):
    """The request's idempotency-key is an earlier request's: replay its answer, or 409 while
    that request still runs."""

    def __init__(self, earlier: Stored) -> None:
        super().__init__("idempotency-key taken")
        self.earlier = earlier


async def reserve_in(conn: Conn, keys: list[str]) -> list[Stored | None]:
    """Reserve each key on ``conn``, for its request; for each, the earlier request's entry
    if it has one. Two requests with the same key: the first reserves it, the others find
    it pending, as they would a moment later."""
    earlier = await idempotency.claim_many(conn, list(dict.fromkeys(keys)), now_ms())
    seen: set[str] = set()
    answers: list[Stored | None] = []
    for key in keys:
        answers.append(PENDING if key in seen else earlier.get(key))
        seen.add(key)
    return answers


@dataclass(frozen=True, slots=True)
class _Settle:
    key_hash: str
    response: tuple[int, bytes] | None  # None: the request failed, free its key


class _Keys:
    """One database handle's batches of reservations and settlements."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reserve = Coalesced(self._reserve, self._forget)
        self.settle = Coalesced(self._settle)
        self._freeing: set[asyncio.Task[None]] = set()

    async def _reserve(self, keys: list[str]) -> list[Stored | None]:
        async with self.db.autocommit() as conn:
            return await reserve_in(conn, keys)

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
