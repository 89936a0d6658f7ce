"""A claim's deliveries go out before their leases commit (issue 16): on SQLite waiting for that
commit put a group commit on the path of every delivery, on PostgreSQL a COMMIT round trip on a
busy event loop. A commit that fails (a full disk) is seen before the next claim, which backs
off and, until a commit succeeds again, waits for each commit before sending anything: the
endpoint gets one early round, not a flood, and every delivery still arrives once the disk has
room."""

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from tests.support.servers import Receiver, Reply
from tests.support.store import endpoint_fields

from hookline.config import Settings
from hookline.delivery.engine import DeliveryEngine
from hookline.domain.model import DeliveryStatus
from hookline.store import applications, endpoints, messages, queue
from hookline.store import database as database_module
from hookline.store import tables as t
from hookline.store.database import Database, DatabaseFullError, now_ms
from hookline.store.messages import NewMessage
from hookline.store.migrate import migrate

MESSAGES = 5
LEASE = 60_000


class _Disk:
    """SQLite's commits, failing as on a full disk (the transaction is undone) while ``full``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        real_commit = database_module._SQLite._commit

        def commit(sqlite: Any, conn: Any, truncate: bool) -> None:
            if self.full:
                with contextlib.suppress(Exception):
                    conn.rollback()
                sqlite._end_turn()
                raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))
            real_commit(sqlite, conn, truncate)

        monkeypatch.setattr(database_module._SQLite, "_commit", commit)


async def _setup(db: Database, url: str, count: int) -> str:
    await migrate(db)
    async with db.write() as conn:
        app = await applications.create(conn, {"name": "early", "metadata": {}})
        endpoint = await endpoints.create(conn, app.id, {**endpoint_fields(0), "url": url})
        for n in range(count):
            await messages.create(conn, _message(app.id, n), endpoint_ids=[endpoint.id])
    return endpoint.id


def _message(app_id: str, n: int) -> NewMessage:
    return NewMessage(app_id=app_id, event_type="e", payload=b'{"n": %d}' % n)


async def _delivered(db: Database) -> int:
    async with db.read() as conn:
        query = select(func.count()).where(t.delivery.c.status == int(DeliveryStatus.SUCCESS))
        return int((await conn.execute(query)).scalar_one())


def test_a_lease_commit_that_fails_stops_sending_until_one_succeeds(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk(monkeypatch)

    async def fill(_db: Database) -> None:
        disk.full = True

    async def free(_db: Database) -> None:
        disk.full = False

    _one_round_while_full(receiver, f"sqlite:///{tmp_path}/hookline.db", fill, free)


Step = Callable[[Database], Awaitable[None]]


def _one_round_while_full(receiver: Receiver, url: str, fill: Step, free: Step) -> None:
    """Lease commits fail from ``fill`` to ``free``: one round goes out, then nothing until one
    succeeds, and then every delivery arrives."""
    settings = Settings(database_url=url, allowed_cidrs=(ip_network("127.0.0.0/8"),), poll_interval=0.05)

    async def scenario() -> tuple[int, int]:
        db = Database(url)
        engine = DeliveryEngine(db, settings)
        try:
            await _setup(db, receiver.url(), MESSAGES)
            await fill(db)
            await engine.start()
            await asyncio.sleep(1.5)
            while_full = len(receiver.requests)
            await free(db)
            for _ in range(200):
                if await _delivered(db) == MESSAGES:
                    break
                await asyncio.sleep(0.05)
            return while_full, await _delivered(db)
        finally:
            await engine.stop()
            await db.close()

    while_full, delivered = asyncio.run(scenario())
    # One round went out before its leases' commit failed; then nothing, however often it claimed.
    assert while_full == MESSAGES
    assert delivered == MESSAGES
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == MESSAGES and all(ids.count(i) >= 2 for i in set(ids))  # lost leases: sent again


# PostgreSQL: a COMMIT that fails, as a full disk makes it, from a deferred trigger on the
# deliveries (leases and outcomes alike), until it is dropped.
_REFUSE = (
    "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$",
    "CREATE CONSTRAINT TRIGGER refuse_commit AFTER UPDATE ON delivery"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()",
)


async def _sql(db: Database, *statements: str) -> None:
    async with db.write() as conn:
        for statement in statements:
            await conn.execute(text(statement))


def test_a_postgresql_lease_commit_that_fails_stops_sending_until_one_succeeds(
    receiver: Receiver, pg_database_url: str
) -> None:
    async def fill(db: Database) -> None:
        await _sql(db, *_REFUSE)

    async def free(db: Database) -> None:
        await _sql(db, "DROP TRIGGER refuse_commit ON delivery")

    _one_round_while_full(receiver, pg_database_url, fill, free)


def test_an_outcome_back_before_its_lease_commits_waits_for_it(receiver: Receiver, pg_database_url: str) -> None:
    """On PostgreSQL the lease commits on another task while its deliveries go out. An outcome
    recorded before that commit, fenced on the lease, would update nothing, and the delivery
    would stay leased until the lease ran out (then go out again)."""
    settings = Settings(
        database_url=pg_database_url,
        allowed_cidrs=(ip_network("127.0.0.0/8"),),
        poll_interval=0.05,
        lease_seconds=60.0,
    )

    async def scenario() -> int:
        db = Database(pg_database_url)
        engine = DeliveryEngine(db, settings)
        try:
            await _setup(db, receiver.url(), MESSAGES)
            # Every commit that moved a delivery takes 0.3 s: the receiver answers long before.
            await _sql(
                db,
                "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF current_setting('test.slept', true) IS DISTINCT FROM 'yes' THEN"
                " PERFORM set_config('test.slept', 'yes', true); PERFORM pg_sleep(0.3); END IF;"
                " RETURN NULL; END $$",
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON delivery"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
            )
            # Answered after the claimer has come round again and waits for the commit itself.
            receiver.respond = lambda _r: Reply(delay=0.1)
            await engine.start()
            for _ in range(200):
                if await _delivered(db) == MESSAGES:
                    break
                await asyncio.sleep(0.05)
            return await _delivered(db)
        finally:
            await engine.stop()
            await db.close()

    assert asyncio.run(scenario()) == MESSAGES
    assert len(receiver.requests) == MESSAGES  # each once: no lease ran out


def test_a_postgresql_lease_commit_that_fails_leases_nothing(pg_database_url: str) -> None:
    async def scenario() -> None:
        db = Database(pg_database_url)
        try:
            await _setup(db, "http://127.0.0.1:9/", 3)
            await _sql(db, *_REFUSE)
            async with db.write_early() as (conn, committed):
                result = await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)
            assert len(result.items) == 3
            with pytest.raises(DatabaseFullError, match="No space left"):
                await committed
            await _sql(db, "DROP TRIGGER refuse_commit ON delivery")
            async with db.write() as conn:  # all due again
                assert len((await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)).items) == 3
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_claim_ends_before_its_commit(database_url: str) -> None:
    """On SQLite, a claim that opens its write group; on PostgreSQL, every claim."""

    async def scenario() -> None:
        db = Database(database_url)
        try:
            await _setup(db, "http://127.0.0.1:9/", 3)
            async with db.write_early() as (conn, committed):
                result = await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)
            assert len(result.items) == 3
            assert not committed.done()  # the deliveries may go out now
            await committed
            async with db.write() as conn:  # leased: nothing is due
                assert not (await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)).items
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_claim_that_saw_an_uncommitted_publish_waits_for_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that joins the group of a publish not yet committed may lease that publish's
    delivery: it must not be sent before the commit, which may fail (the publish gets its 503,
    and its message must never have gone out)."""
    disk = _Disk(monkeypatch)

    async def scenario() -> tuple[BaseException | None, BaseException | queue.ClaimResult]:
        db = Database(f"sqlite:///{tmp_path}/hookline.db")
        try:
            endpoint_id = await _setup(db, "http://127.0.0.1:9/", 0)
            async with db.read() as conn:
                app_id = (await conn.execute(select(t.endpoint.c.app_id))).scalar_one()
            disk.full = True

            async def publish() -> None:
                async with db.write() as conn:
                    await messages.create(conn, _message(app_id, 1), endpoint_ids=[endpoint_id])

            async def claim() -> queue.ClaimResult:
                async with db.write_early() as (conn, _):
                    found = await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)
                    assert len(found.items) == 1  # the publish's row, in the same transaction
                return found

            published, claimed = await asyncio.gather(publish(), claim(), return_exceptions=True)
            return published if isinstance(published, BaseException) else None, claimed
        finally:
            await db.close()

    published, claimed = asyncio.run(scenario())
    assert isinstance(published, DatabaseFullError)  # the publish's 503
    # Nothing to send: the claim failed with the publish's commit.
    assert isinstance(claimed, OperationalError) and "disk is full" in str(claimed)
