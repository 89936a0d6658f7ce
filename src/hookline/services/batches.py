"""Calls that arrive together, run together: publishes, idempotency keys."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from hookline.store.database import DatabaseUnavailableError

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalesced(Generic[Item, Result]):
    """Calls that arrive while a batch runs wait, and run together as the next batch. Nothing
    waits on a timer: under load the batches grow, alone a call is a batch of one.

    ``run`` returns one result per item, in order; an exception among them is raised to that
    item's caller only, and an exception from ``run`` itself to every caller of the batch.
    ``unwanted`` gets a result whose caller went away meanwhile.
    """

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]],
        unwanted: Callable[[Item, Result], None] = lambda _item, _result: None,
    ) -> None:
        self._run = run
        self._unwanted = unwanted
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
                results: Sequence[Result | Exception]
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:  # the database failed them all (unavailable, full)
                    results = [exc] * len(batch)
                for (item, future), result in zip(batch, results, strict=True):
                    if isinstance(result, Exception):
                        if not future.done():
                            future.set_exception(result)
                    elif future.done():
                        self._unwanted(item, result)
                    else:
                        future.set_result(result)
        except BaseException:  # cancelled (the server stops): no caller waits forever
            for _, future in batch + self._waiting:
                if not future.done():
                    future.set_exception(DatabaseUnavailableError())
            raise
        finally:
            self._draining = None
