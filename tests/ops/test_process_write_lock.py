"""Processes writing one SQLite file hand its write lock over in the kernel, in turn."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hookline.store.database import Database, DatabaseBusyError
from hookline.store.migrate import migrate

# Another hookline process: takes the lock, says so, and does what its stdin tells it.
_OTHER = textwrap.dedent(
    """
    import asyncio, sys, threading, time
    from pathlib import Path
    from hookline.store.writelock import ProcessWriteLock

    async def main(path, mode):
        lock = ProcessWriteLock(Path(path))
        if mode == "hold":
            await lock.acquire(30)
            print("held", flush=True)
            sys.stdin.readline()
            lock.release()
            print("released", flush=True)
            sys.stdin.readline()
        elif mode == "hog":  # takes the lock again as soon as it lets go, until stdin closes
            print("hogging", flush=True)
            # A thread's flag, not an executor's future: an uncontended acquire never yields
            # to the event loop, so a future's completion would never be seen.
            stop = threading.Event()
            threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
            turns = 0
            while not stop.is_set():
                await lock.acquire(30)
                time.sleep(0.005)
                lock.release()
                turns += 1
            print(turns, flush=True)
        elif mode == "try":
            await lock.acquire(float(sys.argv[3]))
            print("got it", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def _other(db: Path, mode: str, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _OTHER, str(db), mode, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc


def _expect(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == line


def _say(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()


async def _database(path: Path, lock_timeout: float = 10.0) -> Database:
    db = Database(f"sqlite:///{path}", lock_timeout=lock_timeout)
    await migrate(db)
    return db


async def _write(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(_INSERT)


_INSERT = text("INSERT INTO kv (v) VALUES (1)")


async def _with_table(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS kv (v INTEGER)"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hookline.db"


@contextlib.asynccontextmanager
async def _beside_another(
    db_path: Path, mode: str, says: str, lock_timeout: float = 10.0
) -> AsyncIterator[tuple[Database, subprocess.Popen[str]]]:
    """This process's database, and another process on the same file, once it says ``says``."""
    db = await _database(db_path, lock_timeout)
    await _with_table(db)
    other = _other(db_path, mode)
    try:
        await asyncio.to_thread(_expect, other, says)
        yield db, other
    finally:
        other.kill()
        other.wait(10)
        await db.close()


def test_a_write_waits_for_another_process_and_goes_on_when_it_lets_go(db_path: Path) -> None:
    async def main() -> None:
        async with _beside_another(db_path, "hold", "held") as (db, other):
            write = asyncio.create_task(_write(db))
            await asyncio.sleep(0.5)
            assert not write.done(), "wrote while another process held the lock"
            _say(other)
            await asyncio.to_thread(_expect, other, "released")
            await asyncio.wait_for(write, 10)

    asyncio.run(main())


WRITES = 30


def test_the_lock_goes_back_and_forth_under_contention(db_path: Path) -> None:
    """A process that takes the lock again the moment it lets it go does not starve another:
    the other's wait puts it first in line."""

    async def main() -> None:
        async with _beside_another(db_path, "hog", "hogging", lock_timeout=5.0) as (db, hog):
            for _ in range(WRITES):
                await _write(db)  # DatabaseBusyError if the hog kept the lock for 5 s
            _say(hog)
            turns = int(await asyncio.to_thread(hog.stdout.readline) if hog.stdout else "-1")
            # In turn: one of the hog's turns per write (30 or 31 measured); without the
            # queue it took the lock back while this process waited (63 to 124).
            assert turns < 2 * WRITES, turns

    asyncio.run(main())


def test_a_process_that_dies_holding_the_lock_lets_it_go(db_path: Path) -> None:
    async def main() -> None:
        async with _beside_another(db_path, "hold", "held") as (db, other):
            write = asyncio.create_task(_write(db))
            await asyncio.sleep(0.2)
            os.kill(other.pid, signal.SIGKILL)
            await asyncio.wait_for(write, 10)

    asyncio.run(main())


def test_a_wait_given_up_does_not_keep_the_lock_when_it_ends(db_path: Path) -> None:
    async def main() -> None:
        async with _beside_another(db_path, "hold", "held", lock_timeout=0.3) as (db, other):
            with pytest.raises(DatabaseBusyError):
                await _write(db)
            _say(other)  # the wait given up ends now, in its thread, and must let go at once
            await asyncio.to_thread(_expect, other, "released")
            third = _other(db_path, "try", "10")
            got = await asyncio.to_thread(third.stdout.readline) if third.stdout else ""
            third.wait(10)
            assert got.strip() == "got it"
            await _write(db)  # and this process can write again

    asyncio.run(main())
