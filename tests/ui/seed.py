"""Rows written straight into the tables, for the dashboard's read tests and its screenshots."""

from typing import Any

from sqlalchemy import insert

from hookline.domain.ids import new_id
from hookline.store import tables as t
from hookline.store.database import Database, now_ms


async def add_attempts(db: Database, rows: list[tuple[int, bool, int]], endpoint_id: str = "ep_seed") -> None:
    """One attempt per ``(created_at_ms, succeeded, duration_ms)``; ids carry the same time."""
    values: list[dict[str, Any]] = [
        {
            "id": new_id("atmpt", at),
            "delivery_id": "dlv_seed",
            "msg_id": "msg_seed",
            "endpoint_id": endpoint_id,
            "app_id": "app_seed",
            "url": "https://example.com/hook",
            "status": 0 if ok else 2,
            "response_status_code": 200 if ok else 500,
            "response": "ok" if ok else "error",
            "response_duration_ms": duration,
            "error": None,
            "trigger": 0,
            "attempt_number": 1,
            "created_at": at,
        }
        for at, ok, duration in rows
    ]
    async with db.write() as conn:
        await conn.execute(insert(t.attempt), values)


async def add_endpoint(db: Database, app_id: str, url: str, *, disabled: bool, failing_since: int | None) -> str:
    endpoint_id = new_id("ep")
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            insert(t.endpoint).values(
                id=endpoint_id,
                app_id=app_id,
                url=url,
                description="",
                disabled=disabled,
                metadata={},
                headers={},
                secret="whsec_seed",
                old_secrets=[],
                failing_since=failing_since,
                created_at=now,
                updated_at=now,
            )
        )
    return endpoint_id


async def add_delivery(db: Database, next_attempt_at: int, status: int = 1) -> None:
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            insert(t.delivery).values(
                id=new_id("dlv"),
                msg_id=new_id("msg"),
                endpoint_id="ep_seed",
                app_id="app_seed",
                status=status,
                attempts=0,
                next_attempt_at=next_attempt_at,
                trigger=0,
                created_at=now,
                updated_at=now,
            )
        )
