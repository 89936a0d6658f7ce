"""The batches behind publishing and idempotency keys (services/batches.py), on their own:
calls that arrive together run together, and a result whose caller went away is handed back."""

import asyncio

from hookline.services.batches import Coalesced


def test_calls_that_arrive_while_a_batch_runs_run_together_next() -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0.01)
        return [n * 10 for n in items]

    async def scenario() -> list[int]:
        coalesced = Coalesced(run)
        first = asyncio.ensure_future(coalesced(1))
        await asyncio.sleep(0)  # the first batch starts, with 1 alone
        return [await first, *await asyncio.gather(*(coalesced(n) for n in (2, 3, 4)))]

    assert asyncio.run(scenario()) == [10, 20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


def test_a_result_whose_caller_went_away_is_handed_back() -> None:
    unwanted: list[tuple[int, int]] = []

    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        return [n * 10 for n in items]

    async def scenario() -> int:
        coalesced = Coalesced(run, lambda item, result: unwanted.append((item, result)))
        gone = asyncio.ensure_future(coalesced(1))
        kept = asyncio.ensure_future(coalesced(2))
        await asyncio.sleep(0)
        gone.cancel()
        return await kept

    assert asyncio.run(scenario()) == 20
    assert unwanted == [(1, 10)]


def test_a_failed_batch_fails_each_of_its_calls_and_the_next_batch_runs() -> None:
    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        if 1 in items:
            raise ConnectionError("database gone")
        return items

    async def scenario() -> tuple[BaseException | int, ...]:
        coalesced = Coalesced(run)
        failing = asyncio.ensure_future(coalesced(1))
        await asyncio.sleep(0)
        later = asyncio.ensure_future(coalesced(2))
        return tuple(await asyncio.gather(failing, later, return_exceptions=True))

    failed, later = asyncio.run(scenario())
    assert isinstance(failed, ConnectionError)
    assert later == 2
