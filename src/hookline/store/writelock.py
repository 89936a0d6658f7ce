"""SQLite's write lock between processes, handed over without sleeping.

SQLite tells a second writer only "busy", and it can only try again later: two
processes writing one file (``serve --workers 2``, a CLI command beside a server)
took turns with sleeps of 2 to 100 ms between tries. Every hookline process takes
this lock around its write transactions instead, from ``BEGIN IMMEDIATE`` to the end
of its ``COMMIT``: a process that waits sleeps in the kernel and wakes when the lock
is let go. SQLite's own lock still guards the file against anything else.

Two ``flock`` files beside the database: the lock, and a queue in front of it. A
waiter holds the queue while it waits for the lock, so a holder that lets go and
comes straight back for more must wait behind it: under contention the lock goes
back and forth instead of staying with whoever asks again first. The kernel lets
both go when a process ends, however it ends.
"""

import asyncio
import contextlib
import fcntl
import os
import threading
from pathlib import Path


class WriteLockTimeoutError(Exception):
    """Another process held the write lock longer than the caller would wait."""


class ProcessWriteLock:
    def __init__(self, database: Path) -> None:
        self._paths = (database.with_name(database.name + "-writequeue"), database.with_name(database.name + "-writer"))
        self._fds: tuple[int, int] | None = None
        # A wait for the lock still going on in its thread, after its caller gave up.
        self._waiting: asyncio.Future[None] | None = None
        self._abandoned = False
        self.held = False

    def _open(self) -> tuple[int, int]:
        if self._fds is None:
            queue, lock = (os.open(p, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644) for p in self._paths)
            self._fds = (queue, lock)
        return self._fds

    def _try(self, queue: int, lock: int) -> bool:
        """The lock at once, if no one holds it or waits for it."""
        try:
            fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            fcntl.flock(queue, fcntl.LOCK_UN)
        return True

    @staticmethod
    def _wait(queue: int, lock: int, loop: asyncio.AbstractEventLoop, done: "asyncio.Future[None]") -> None:
        try:
            fcntl.flock(queue, fcntl.LOCK_EX)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
            finally:
                fcntl.flock(queue, fcntl.LOCK_UN)
        except OSError as exc:
            loop.call_soon_threadsafe(_settle, done, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, None)

    async def acquire(self, timeout: float) -> None:
        try:
            queue, lock = self._open()
        except OSError:
            return  # no lock files beside the database (a read-only directory): SQLite's lock alone
        if self._waiting is None:
            if self._try(queue, lock):
                self.held = True
                return
            loop = asyncio.get_running_loop()
            self._waiting = loop.create_future()
            self._waiting.add_done_callback(self._arrived)
            # A daemon thread, not an executor's: a wait that never ends must not keep the
            # process from exiting.
            threading.Thread(
                target=self._wait, args=(queue, lock, loop, self._waiting), name="hookline-write-lock", daemon=True
            ).start()
        self._abandoned = False
        waiting = self._waiting
        try:
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except TimeoutError:
            self._abandoned = True
            raise WriteLockTimeoutError from None
        self._waiting = None
        self.held = True

    def _arrived(self, waiting: "asyncio.Future[None]") -> None:
        """A wait ended; if its caller had given up, let the lock go at once."""
        if self._abandoned and self._waiting is waiting:
            self._waiting = None
            self._abandoned = False
            if waiting.exception() is None:
                self._unlock()

    def release(self) -> None:
        if self.held:
            self.held = False
            self._unlock()

    def _unlock(self) -> None:
        assert self._fds is not None
        fcntl.flock(self._fds[1], fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self._fds is not None and self._waiting is None:
            for fd in self._fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._fds = None


def _settle(done: "asyncio.Future[None]", exc: BaseException | None) -> None:
    if done.done():
        return
    if exc is None:
        done.set_result(None)
    else:
        done.set_exception(exc)
