"""Retention (cleaner and `hookline prune`) and endpoint statistics."""

import asyncio

from click.testing import CliRunner
from sqlalchemy import func, select, update
from tests.support.api import make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver, Reply, wait_until

from hookline.cli import main
from hookline.config import Settings
from hookline.maintenance import clean_once
from hookline.store import retention, tables
from hookline.store.database import Database, now_ms

DAY = 86_400_000


async def _age_everything(url: str, by_ms: int) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            m, a = tables.message, tables.attempt
            await conn.execute(update(m).values(created_at=m.c.created_at - by_ms, payload_expires_at=now_ms() - 1))
            await conn.execute(update(a).values(created_at=a.c.created_at - by_ms))
    finally:
        await db.close()


async def _counts(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.read() as conn:
            payloads = (await conn.execute(select(func.count()).where(tables.message.c.payload.is_not(None)))).scalar()
            attempts = (await conn.execute(select(func.count()).select_from(tables.attempt))).scalar()
            return int(payloads or 0), int(attempts or 0)
    finally:
        await db.close()


def test_cleaner_expunges_expired_payloads_and_prunes_old_attempts(hookline, receiver: Receiver) -> None:
    url = hookline.settings.database_url
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        msg = publish(c, "acme", payloadRetentionPeriod=5)
        wait_attempts(c, "acme", ep, 1)
        asyncio.run(_age_everything(url, 100 * DAY))

        async def clean() -> retention.Pruned | None:
            db = Database(url)
            try:
                return await clean_once(db, Settings(database_url=url, attempt_retention_days=90))
            finally:
                await db.close()

        pruned = asyncio.run(clean())
        assert pruned == retention.Pruned(payloads_expunged=1, attempts_deleted=1)
        assert c.get(f"/api/v1/app/acme/msg/{msg}").json()["payload"] == {}
    assert asyncio.run(_counts(url)) == (0, 0)


def test_prune_command_asks_first(hookline, receiver: Receiver) -> None:
    url = hookline.settings.database_url
    with hookline.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        publish(c, "acme")
        wait_attempts(c, "acme", ep, 1)
    asyncio.run(_age_everything(url, 40 * DAY))
    runner = CliRunner()
    refused = runner.invoke(main, ["prune", "--older-than", "30d", "--database-url", url], input="n\n")
    assert refused.exit_code == 1 and asyncio.run(_counts(url)) == (1, 1)
    assert runner.invoke(main, ["prune", "--older-than", "60d", "--yes", "--database-url", url]).exit_code == 0
    assert asyncio.run(_counts(url)) == (1, 1)  # nothing that old
    done = runner.invoke(main, ["prune", "--older-than", "30d", "--yes", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert "pruned 1 attempts, expunged 1 payloads" in done.output
    assert asyncio.run(_counts(url)) == (0, 0)
    assert runner.invoke(main, ["prune", "--older-than", "soon", "--yes", "--database-url", url]).exit_code == 2


def test_endpoint_stats_and_time_series(hookline_factory, receiver: Receiver) -> None:
    replies = iter([Reply(status=500)])
    receiver.respond = lambda _r: next(replies, Reply())
    with hookline_factory(retry_schedule=(60,)) as hl, hl.client() as c:
        _, ep = make_endpoint(c, receiver.url())
        for _ in range(3):
            publish(c, "acme")
        wait_until(lambda: len(receiver.requests) == 3, 10, "three attempts")
        stats = wait_until(
            lambda: (s := c.get(f"/api/v1/app/acme/endpoint/{ep}/stats").json())["success"] == 2 and s, 10, "stats"
        )
        series = c.get(f"/api/v1/app/acme/endpoint/{ep}/stats/timeseries").json()
        hourly = c.get(f"/api/v1/app/acme/endpoint/{ep}/stats/timeseries", params={"granularity": "hour"}).json()
    assert stats == {"success": 2, "pending": 1, "sending": 0, "fail": 0, "canceled": 0}
    assert series["granularity"] == "minute"
    assert sum(b["success"] for b in series["buckets"]) == 2 and sum(b["fail"] for b in series["buckets"]) == 1
    assert all(b["p99Ms"] is not None for b in series["buckets"])
    assert sum(b["success"] + b["fail"] for b in hourly["buckets"]) == 3


def test_only_one_process_cleans_at_a_time_on_postgresql(pg_database_url: str) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        first, second = Database(pg_database_url), Database(pg_database_url)
        try:
            async with first.write() as holder:
                held = await retention.take_cleaner_lock(holder)
                async with second.write() as other:
                    refused = not await retention.take_cleaner_lock(other)
            async with second.write() as other:
                free_again = await retention.take_cleaner_lock(other)
            return held, refused, free_again
        finally:
            await first.close()
            await second.close()

    assert asyncio.run(scenario()) == (True, True, True)


def test_the_cleaner_drops_sign_ins_a_week_after_they_end(database_url: str) -> None:
    """Every dashboard sign-in and portal opening is a token: kept while it works and for a week
    after (the dashboard lists ended sessions), then deleted. Tokens made on purpose stay."""
    from hookline.store import tokens
    from hookline.store.migrate import migrate

    async def scenario() -> set[str]:
        db = Database(database_url)
        try:
            await migrate(db)
            now = now_ms()
            made = {}
            async with db.write() as conn:
                for name, origin, expires, revoked in [
                    ("session-ended-long-ago", "dashboard", now - 8 * DAY, None),
                    ("session-ended-yesterday", "dashboard", now - DAY, None),
                    ("session-live", "dashboard", now + DAY, None),
                    ("portal-revoked-long-ago", "portal", now + 30 * DAY, now - 8 * DAY),
                    ("portal-revoked-today", "portal", None, now - 1000),
                    ("api-expired-long-ago", "api", now - 8 * DAY, None),
                    ("cli-revoked-long-ago", "cli", None, now - 8 * DAY),
                ]:
                    stored, _ = await tokens.insert_token(conn, tokens.NewToken(None, name, origin, expires))
                    made[stored.id] = name
                    if revoked is not None:
                        await conn.execute(
                            update(tables.api_token)
                            .where(tables.api_token.c.id == stored.id)
                            .values(revoked_at=revoked)
                        )
            assert await clean_once(db, Settings(database_url=database_url)) is not None
            async with db.read() as conn:
                kept = (await conn.execute(select(tables.api_token.c.id))).scalars()
                return {made[i] for i in kept if i in made}
        finally:
            await db.close()

    assert asyncio.run(scenario()) == {
        "session-ended-yesterday",
        "session-live",
        "portal-revoked-today",
        "api-expired-long-ago",
        "cli-revoked-long-ago",
    }
