"""Fixtures for the acceptance suite: hookline as a real process, a private PostgreSQL."""

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.processes import (
    CountingReceiver,
    HooklineProcess,
    PrivatePostgres,
    SpawnHookline,
    hookline_env,
    private_postgres_unavailable,
)
from tests.support.servers import free_port


@pytest.fixture
def spawn_hookline(tmp_path: Path) -> Iterator[SpawnHookline]:
    """Start ``hookline serve`` as a subprocess: ``spawn_hookline(database_url, max_in_flight=40)``.

    Every process started here is killed when the test ends, whatever happened.
    """
    started: list[HooklineProcess] = []

    def spawn(database_url: str, **settings: Any) -> HooklineProcess:
        log = tmp_path / f"hookline-{len(started)}.log"
        process = HooklineProcess(hookline_env(database_url, free_port(), **settings), log)
        started.append(process)
        process.start()
        return process

    try:
        yield spawn
    finally:
        for process in started:
            process.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, which it may stop and start.

    The machine's shared PostgreSQL is never restarted: other tests use it.
    """
    reason = private_postgres_unavailable()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def counting_receiver() -> Iterator[CountingReceiver]:
    """A receiver that takes 0 to 30 ms per request and refuses one in ten with 503."""
    receiver = CountingReceiver(delay=(0.0, 0.03), fail_rate=0.1, seed=random.randrange(1_000_000))
    try:
        yield receiver
    finally:
        receiver.close()
