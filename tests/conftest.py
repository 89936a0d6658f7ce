"""Fixtures shared by every test. Storage tests run on SQLite and on PostgreSQL."""

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import asyncpg
import pytest
from tests.support.servers import Hookline, Receiver, run_hookline, test_settings

from hookline.config import Settings
from hookline.logs import configure_logging
from hookline.store.database import Database
from hookline.store.migrate import migrate

configure_logging(Settings(log_level="warning", log_format="console"))

PG_URL = os.environ.get("HOOKLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Per test session, so that sessions running side by side do not collide.
_TEMPLATE = f"hookline_test_template_{os.getpid()}"


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# Tests that run several hookline processes under load (a kill -9, an outage, a scale-out) take
# both of a CI machine's cores while they run: with ``--dist loadgroup`` they share one xdist
# worker and run one at a time, instead of starving each other and the tests beside them.
_MANY_PROCESSES = ("tests/acceptance/", "tests/scale/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(_MANY_PROCESSES):
            item.add_marker(pytest.mark.xdist_group("many-processes"))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test copies (fast, and isolated)."""

    async def build() -> None:
        await _admin(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")
        await _admin(f"CREATE DATABASE {_TEMPLATE}")
        db = Database(_with_database(PG_URL, _TEMPLATE))
        await migrate(db)
        await db.close()

    asyncio.run(build())
    yield _TEMPLATE
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)"))


@contextmanager
def new_pg_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own, a copy of ``template`` (or empty), dropped after."""
    name = f"hookline_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield _with_database(PG_URL, name)
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


class _PgSupply:
    """Copies of the template, one made ahead: the next test's database is copied while this
    test runs, and a finished test's is dropped behind it, so neither waits in a test's setup
    or teardown (each takes PostgreSQL a quarter of a second, mostly waiting on the disk)."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="pg-supply")
        self._next = self._worker.submit(self._copy)

    def _copy(self) -> str:
        name = f"hookline_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f"CREATE DATABASE {name} TEMPLATE {self._template}"))
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._worker.submit(self._copy)
        return name

    def drop(self, name: str) -> None:
        # WITH (FORCE): a connection the test left open cannot keep the database alive.
        self._worker.submit(asyncio.run, _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.drop(self._next.result())
        self._worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def pg_supply(pg_template: str) -> Iterator[_PgSupply]:
    supply = _PgSupply(pg_template)
    yield supply
    supply.close()


@pytest.fixture
def pg_database_url(pg_supply: _PgSupply) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own."""
    name = pg_supply.take()
    try:
        yield _with_database(PG_URL, name)
    finally:
        pg_supply.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A database with no schema at all (what ``hookline serve`` first meets)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hookline.db"
        return
    with new_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/hookline.db"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


HooklineFactory = Callable[..., AbstractContextManager[Hookline]]


@pytest.fixture
def hookline_factory(database_url: str) -> HooklineFactory:
    """Start hookline with settings overrides: ``with hookline_factory(retry_schedule=(1,)) as hl:``."""

    def factory(**overrides: Any) -> AbstractContextManager[Hookline]:
        run_engine = overrides.pop("run_engine", True)
        prepare = overrides.pop("prepare", None)
        return run_hookline(test_settings(database_url, **overrides), run_engine=run_engine, prepare=prepare)

    return factory


@pytest.fixture
def hookline(hookline_factory: HooklineFactory) -> Iterator[Hookline]:
    with hookline_factory() as hl:
        yield hl
