"""Transformations in the V8 sandbox: Svix's contract, limits, and an event loop that keeps running."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookline.transform import (
    MAX_CODE_BYTES,
    Sandbox,
    TransformError,
    TransformResult,
    interpret,
    run,
    shutdown,
    simulate,
)

WEBHOOK = {
    "method": "POST",
    "url": "https://receiver.example/hooks/in",
    "payload": {"type": "invoice.paid", "amount": 1200},
    "eventType": "invoice.paid",
}


@pytest.fixture(autouse=True)
async def stop_shared_sandbox() -> AsyncIterator[None]:
    yield
    await shutdown()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(size=1)
    yield box
    await box.close()


async def test_adds_a_field_changes_the_path_and_sets_a_header(sandbox: Sandbox) -> None:
    code = """
    function handler(webhook) {
      webhook.payload.currency = "EUR";
      webhook.url = webhook.url.replace("/hooks/in", "/v2/invoices");
      webhook.headers["X-Tenant"] = "acme";
      webhook.method = "PUT";
      return webhook;
    }
    """
    result = await sandbox.run(code, {**WEBHOOK, "headers": {}})
    assert result == TransformResult(
        method="PUT",
        url="https://receiver.example/v2/invoices",
        payload={"type": "invoice.paid", "amount": 1200, "currency": "EUR"},
        headers={"X-Tenant": "acme"},
        cancel=False,
    )


async def test_cancel() -> None:
    code = "function handler(webhook) { webhook.cancel = webhook.payload.amount < 5000; return webhook; }"
    result = await run(code, WEBHOOK)
    assert isinstance(result, TransformResult) and result.cancel


async def test_simulate_gives_the_result_or_the_error() -> None:
    ok = await simulate("function handler(w) { w.payload = {wrapped: w.payload}; return w }", WEBHOOK)
    assert isinstance(ok, TransformResult) and ok.payload == {"wrapped": WEBHOOK["payload"]}
    failed = await simulate("function handler(w) { return w.nope.deeper }", WEBHOOK)
    assert isinstance(failed, TransformError) and failed.kind == "exception"
    assert "TypeError" in failed.message


async def test_event_type_is_read_only(sandbox: Sandbox) -> None:
    code = "function handler(w) { w.eventType = 'forged'; w.payload.seen = w.eventType; return w }"
    result = await sandbox.run(code, WEBHOOK)
    assert isinstance(result, TransformResult) and result.payload["seen"] == "invoice.paid"


async def test_syntax_error(sandbox: Sandbox) -> None:
    result = await sandbox.run("function handler(webhook) { return webhook", WEBHOOK)
    assert isinstance(result, TransformError) and result.kind == "syntax"
    assert "SyntaxError" in result.message


async def test_thrown_error(sandbox: Sandbox) -> None:
    result = await sandbox.run("function handler(w) { throw new Error('no customer id') }", WEBHOOK)
    assert result == TransformError("exception", "code:1: Error: no customer id")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("var x = 1;", "must define function handler"),
        ("function handler(w) { }", "must return the webhook object"),
        ("function handler(w) { w.method = 'GET'; return w }", "webhook.method must be one of POST, PUT"),
        ("function handler(w) { w.url = 'ftp://x'; return w }", "webhook.url must be an http(s) URL"),
        ("function handler(w) { w.headers = {a: 1}; return w }", "string values"),
        ("function handler(w) { w.cancel = 'yes'; return w }", "cancel must be true or false"),
    ],
)
async def test_results_outside_the_contract_are_refused(sandbox: Sandbox, code: str, reason: str) -> None:
    result = await sandbox.run(code, {**WEBHOOK, "headers": {}})
    assert isinstance(result, TransformError) and result.kind == "invalid"
    assert reason in result.message


async def test_code_over_50_kb_is_refused_without_running(sandbox: Sandbox) -> None:
    code = "function handler(w) { return w }\n" + "//" + "x" * MAX_CODE_BYTES
    result = await sandbox.run(code, WEBHOOK)
    assert isinstance(result, TransformError) and result.kind == "too_large"
    assert not sandbox._all  # no worker was even started


async def test_no_state_leaks_between_runs(sandbox: Sandbox) -> None:
    code = "var count = (typeof count === 'number' ? count : 0) + 1;"
    code += "function handler(w) { w.payload.count = count; return w }"
    first = await sandbox.run(code, WEBHOOK)
    second = await sandbox.run(code, WEBHOOK)
    assert isinstance(first, TransformResult) and isinstance(second, TransformResult)
    assert first.payload["count"] == second.payload["count"] == 1


class Ticker:
    """Counts how often the event loop gets to run it."""

    def __init__(self) -> None:
        self.ticks = 0

    async def __call__(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1


async def run_while_ticking(sandbox: Sandbox, code: str, **kwargs: Any) -> tuple[Any, int]:
    await sandbox.run("function handler(w) { return w }", WEBHOOK)  # start the worker first
    ticker = Ticker()
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # let the ticker start before the run
    try:
        result = await sandbox.run(code, WEBHOOK, **kwargs)
        await asyncio.sleep(0.02)  # one more tick closes the last gap
    finally:
        task.cancel()
    return result, ticker.ticks


async def test_infinite_loop_times_out_and_the_loop_keeps_running(sandbox: Sandbox) -> None:
    started = time.monotonic()
    result, ticks = await run_while_ticking(sandbox, "function handler(w) { while (true) {} }", timeout=0.2)
    assert result == TransformError("timeout", "the transformation ran longer than 200 ms")
    assert ticks > 0
    assert time.monotonic() - started < 10  # V8 stopped it; the watchdog was not needed
    after = await sandbox.run("function handler(w) { return w }", WEBHOOK)
    assert isinstance(after, TransformResult)


@pytest.mark.parametrize(
    ("allocation", "takes_a_while"),
    [
        ("new Uint8Array(1024 * 1024 * 1024).fill(1)", False),  # 1 GB outside the V8 heap: the process limit
        ("'x'.repeat(2 ** 29)", False),  # V8's string limit, refused at once
        ("(() => { const a = []; for (;;) a.push(new Array(1e6).fill(0.5)); })()", True),  # the run's heap limit
    ],
)
async def test_huge_allocation_is_a_memory_error(sandbox: Sandbox, allocation: str, takes_a_while: bool) -> None:
    code = f"function handler(w) {{ w.payload.big = {allocation}; return w }}"
    result, ticks = await run_while_ticking(sandbox, code, timeout=5.0)
    assert isinstance(result, TransformError) and result.kind == "memory", result
    # Filling the heap takes many ticks' time, and the loop must have kept ticking meanwhile.
    # (An allocation V8 refuses at once may end before the first tick: nothing to observe there.)
    if takes_a_while:
        assert ticks > 0
    after = await sandbox.run("function handler(w) { return w }", WEBHOOK)
    assert isinstance(after, TransformResult)


async def test_growing_strings_stop_at_a_limit(sandbox: Sandbox) -> None:
    # Which limit comes first (heap ceiling, process limit or clock) depends on the machine.
    code = "function handler(w) { const a = []; for (;;) a.push('x'.repeat(2 ** 20) + Math.random()); }"
    result, ticks = await run_while_ticking(sandbox, code, timeout=2.0)
    assert isinstance(result, TransformError) and result.kind in ("memory", "timeout"), result
    assert ticks > 0
    assert isinstance(await sandbox.run("function handler(w) { return w }", WEBHOOK), TransformResult)


async def test_a_worker_that_stops_answering_is_killed_and_replaced(sandbox: Sandbox) -> None:
    await sandbox.run("function handler(w) { return w }", WEBHOOK)
    (worker,) = sandbox._all
    os.kill(worker.process.pid, signal.SIGSTOP)
    ticker = Ticker()
    task = asyncio.create_task(ticker())
    result = await sandbox.run("function handler(w) { return w }", WEBHOOK, timeout=0.1)
    task.cancel()
    assert result == TransformError("timeout", "the transformation ran longer than 100 ms")
    assert ticker.ticks > 0
    assert worker.process.returncode is not None or await worker.process.wait() is not None
    assert isinstance(await sandbox.run("function handler(w) { return w }", WEBHOOK), TransformResult)


async def test_a_worker_that_dies_fails_only_its_run(sandbox: Sandbox) -> None:
    await sandbox.run("function handler(w) { return w }", WEBHOOK)
    (worker,) = sandbox._all
    pending = asyncio.create_task(sandbox.run("function handler(w) { while (true) {} }", WEBHOOK, timeout=5.0))
    await asyncio.sleep(0.3)
    worker.process.kill()
    result = await pending
    assert result == TransformError("crashed", "the sandbox process died running the transformation")
    assert isinstance(await sandbox.run("function handler(w) { return w }", WEBHOOK), TransformResult)


async def test_runs_in_parallel_on_a_pool() -> None:
    box = Sandbox(size=2)
    try:
        code = "function handler(w) { w.payload.n = w.payload.amount * 2; return w }"
        results = await asyncio.gather(*(box.run(code, {**WEBHOOK, "payload": {"amount": i}}) for i in range(6)))
        assert [r.payload["n"] for r in results if isinstance(r, TransformResult)] == [0, 2, 4, 6, 8, 10]
        assert len(box._all) <= 2
    finally:
        await box.close()


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"method": "POST", "url": "http://a.example/x", "payload": None},
            TransformResult("POST", "http://a.example/x", None),
        ),
        (
            {"method": "POST", "url": "http://a.example", "payload": 1, "headers": None},
            TransformResult("POST", "http://a.example", 1),
        ),
        (
            {"method": "POST", "url": "http://a.example", "headers": {}},
            TransformError("invalid", "webhook.payload is missing"),
        ),
        ([1], TransformError("invalid", "the handler must return the webhook object")),
        (
            {"method": "POST", "url": "http://a.example", "payload": 1, "headers": {"X-A": "1\r\nX-B: 2"}},
            TransformError("invalid", "webhook.headers values cannot contain line breaks"),
        ),
        (
            {"method": "POST", "url": "http://a.example", "payload": 1, "headers": {"bad name": "1"}},
            TransformError("invalid", "webhook.headers has an invalid header name 'bad name'"),
        ),
        (
            {"method": "POST", "url": "https:///nohost", "payload": 1},
            TransformError("invalid", "webhook.url must be an http(s) URL, not 'https:///nohost'"),
        ),
    ],
)
def test_interpret(result: object, expected: object) -> None:
    assert interpret(result) == expected


async def test_a_result_over_the_limit_is_refused(sandbox: Sandbox) -> None:
    code = "function handler(w) { w.payload = 'x'.repeat(10 * 1024 * 1024); return w }"
    result = await sandbox.run(code, WEBHOOK, timeout=5.0)
    assert result == TransformError("invalid", "the handler's result is too large")
    assert isinstance(await sandbox.run("function handler(w) { return w }", WEBHOOK), TransformResult)


async def test_caller_mistakes_raise(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="timeout"):
        await sandbox.run("function handler(w) { return w }", WEBHOOK, timeout=0)
    with pytest.raises(TypeError):
        await sandbox.run("function handler(w) { return w }", {**WEBHOOK, "payload": object()})


async def test_a_sandbox_that_cannot_start_is_an_error_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    box = Sandbox(size=1)
    monkeypatch.setattr("sys.executable", "/bin/false")
    result = await box.run("function handler(w) { return w }", WEBHOOK)
    assert isinstance(result, TransformError) and result.kind == "unavailable"
    assert "could not start" in result.message
    await box.close()


async def test_a_worker_that_died_while_idle_is_replaced_before_the_next_run(sandbox: Sandbox) -> None:
    await sandbox.run("function handler(w) { return w }", WEBHOOK)
    (worker,) = sandbox._all
    worker.process.kill()
    await worker.process.wait()
    assert isinstance(await sandbox.run("function handler(w) { return w }", WEBHOOK), TransformResult)
    assert worker not in sandbox._all
