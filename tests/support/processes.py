"""Real processes for acceptance tests: hookline as a subprocess, a load
generator that publishes through the API, and a private PostgreSQL cluster that
a test may stop and start without touching anyone else's database.

Only 127.0.0.1 is ever contacted, and every wait is bounded in time.
"""

import contextlib
import http.server
import os
import pwd
import random
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.support.servers import ADMIN_TOKEN, free_port

HOOKLINE_SERVE = [sys.executable, "-m", "hookline", "serve"]


def hookline_env(database_url: str, port: int, **settings: object) -> dict[str, str]:
    """The environment of a hookline process: this one's, minus any HOOKLINE_* it had, plus ours.

    Defaults keep crashes cheap to recover from: a 3 s lease over a 2 s request
    timeout, a short retry schedule and a fast poll. ``settings`` override them by
    name (``max_in_flight=40`` sets HOOKLINE_MAX_IN_FLIGHT).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    values: dict[str, object] = {
        "database_url": database_url,
        "port": port,
        "host": "127.0.0.1",
        "admin_token": ADMIN_TOKEN,
        "allowed_cidrs": "127.0.0.0/8",
        "lease_seconds": 3,
        "request_timeout": 2,
        "retry_schedule": "0.2,0.5,1,1,1",
        "poll_interval": 0.1,
        "log_level": "warning",
        "log_format": "json",
    }
    values.update(settings)
    env.update({f"HOOKLINE_{name.upper()}": str(value) for name, value in values.items()})
    return env


class HooklineProcess:
    """``hookline serve`` in a child process; start it again on the same database after a kill."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.port = int(self.env["HOOKLINE_PORT"])
        # Over TLS (HOOKLINE_TLS_CERT), clients trust that certificate and nothing else.
        self.verify: ssl.SSLContext | bool = True
        if "HOOKLINE_TLS_CERT" in self.env:
            self.trust(self.env["HOOKLINE_TLS_CERT"])
        scheme = "https" if "HOOKLINE_TLS_CERT" in self.env else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=timeout, verify=self.verify
        )

    def trust(self, ca_file: str) -> None:
        self.ca_file = ca_file
        self.verify = ssl.create_default_context(cafile=ca_file)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Start the process and wait until ``GET /api/v1/health/ping`` answers 204."""
        assert not self.alive, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(HOOKLINE_SERVE, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1, verify=self.verify) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hookline exited with {self.proc.returncode} at start:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/api/v1/health/ping").status_code == 204:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hookline did not answer within {timeout} s:\n{self.log_tail()}")
                time.sleep(0.05)

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs at all."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def children(self) -> list[psutil.Process]:
        """The processes of ``serve --workers N`` (empty once the parent is gone)."""
        assert self.proc is not None
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def close(self) -> None:
        """For ``finally``: make sure nothing is left running, workers included."""
        if self.proc is not None and self.proc.poll() is None:
            children = self.children()
            self.proc.kill()
            self.proc.wait(10)
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# What the ``spawn_hookline`` fixture hands a test: ``spawn_hookline(database_url, **settings)``.
SpawnHookline = Callable[..., HooklineProcess]


@dataclass
class PublishStats:
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    # (monotonic time, outcome): "202", "503", ... or "connect" / "timeout" / "error"
    events: list[tuple[float, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # bodies of answers other than 202 and 503
    unavailable: list[Any] = field(default_factory=list)  # a few 503 bodies, parsed


class Publisher:
    """Publishes messages through the API from ``threads`` threads, as fast as it is answered, until stopped.

    Only a 202 counts as accepted: while the server is dead or the database is gone,
    a publish that fails is simply not accepted (the producer would retry it).
    """

    def __init__(self, url: str, app: str, *, threads: int = 1, pause: float = 0.0, timeout: float = 5.0) -> None:
        self.url = url
        self.app = app
        self.pause = pause
        self.timeout = timeout
        self.stats = PublishStats()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"publisher-{i}", daemon=True) for i in range(threads)
        ]

    def start(self) -> "Publisher":
        for thread in self._threads:
            thread.start()
        return self

    def accepted(self) -> list[str]:
        with self._lock:
            return list(self.stats.accepted)

    def first_accept_after(self, moment: float) -> float | None:
        with self._lock:
            return next((t for t, what in self.stats.events if t > moment and what == "202"), None)

    def seen_since(self, moment: float, outcome: str) -> int:
        with self._lock:
            return sum(1 for t, what in self.stats.events if t > moment and what == outcome)

    def stop(self, timeout: float = 15) -> PublishStats:
        self._stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), "publisher did not stop"
        return self.stats

    def _note(self, outcome: str) -> None:
        with self._lock:
            self.stats.statuses[outcome] += 1
            self.stats.events.append((time.monotonic(), outcome))

    def _run(self, worker: int) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout) as client:
            n = 0
            while not self._stop_event.is_set():
                n += 1
                body = {"eventType": "load.test", "payload": {"worker": worker, "n": n, "pad": "x" * 64}}
                try:
                    resp = client.post(f"/api/v1/app/{self.app}/msg", json=body)
                except httpx.TimeoutException:
                    self._note("timeout")
                    continue
                except httpx.HTTPError:
                    self._note("connect")
                    self._stop_event.wait(0.02)  # the server is down: do not spin
                    continue
                self._note(str(resp.status_code))
                if resp.status_code == 202:
                    with self._lock:
                        self.stats.accepted.append(resp.json()["id"])
                elif resp.status_code == 503:
                    with self._lock:
                        if len(self.stats.unavailable) < 20:
                            self.stats.unavailable.append(_json_or_text(resp))
                    self._stop_event.wait(0.02)
                else:
                    with self._lock:
                        self.stats.unexpected.append(f"{resp.status_code} {resp.text[:300]}")
                if self.pause:
                    self._stop_event.wait(self.pause)


def _json_or_text(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


@dataclass(frozen=True)
class Delivery:
    path: str
    msg_id: str  # the webhook-id header
    at: float  # monotonic time the 2xx answer was written


def _peer_closed(sock: socket.socket) -> bool:
    """True when the sender hung up (a killed process's sockets are closed by the kernel)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a sender killed mid-request is expected here
            super().handle_error(request, client_address)


class CountingReceiver:
    """A webhook receiver on 127.0.0.1 that counts a delivery only once it has *answered* it 2xx.

    Each request takes a little time (``delay``, a random range in seconds), and a
    fraction ``fail_rate`` is answered 503 so retries are part of the load. A request
    whose sender hung up before the answer (hookline was killed meanwhile) is not a
    delivery: hookline never learnt of it, and must send it again once its lease expires.
    """

    def __init__(self, *, delay: tuple[float, float] = (0.0, 0.0), fail_rate: float = 0.0, seed: int = 0) -> None:
        self.delivered: list[Delivery] = []
        self.refused = 0  # answered 503 on purpose
        self.interrupted = 0  # the sender was gone before the answer
        self._lock = threading.Lock()
        rng = random.Random(seed)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                msg_id = self.headers.get("webhook-id", "")
                with receiver._lock:
                    pause, fail = rng.uniform(*delay), rng.random() < fail_rate
                if pause:
                    time.sleep(pause)
                if _peer_closed(self.connection):
                    receiver._count("interrupted")
                    self.close_connection = True
                    return
                body = b"try again" if fail else b"ok"
                self.send_response(503 if fail else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if fail:
                    receiver._count("refused")
                    return
                with receiver._lock:
                    receiver.delivered.append(Delivery(self.path, msg_id, time.monotonic()))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="receiver", daemon=True)
        self.thread.start()

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self.delivered)

    def counts(self) -> Counter[tuple[str, str]]:
        """How often each (path, webhook-id) was delivered."""
        return Counter((d.path, d.msg_id) for d in self.deliveries())

    def missing(self, accepted: Iterable[str], paths: Iterable[str]) -> set[tuple[str, str]]:
        arrived = set(self.counts())
        return {(path, msg_id) for msg_id in accepted for path in paths} - arrived

    def wait_for_count(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.delivered) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {count} deliveries (got {len(self.delivered)})")
            time.sleep(0.02)

    def wait_for_all(self, accepted: Iterable[str], paths: Iterable[str], timeout: float) -> set[tuple[str, str]]:
        """Wait until every accepted id has arrived at every path; return what is still missing."""
        accepted, paths = list(accepted), list(paths)
        deadline = time.monotonic() + timeout
        while (missing := self.missing(accepted, paths)) and time.monotonic() < deadline:
            time.sleep(0.2)
        return missing

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- a private PostgreSQL cluster --------------------------------------------
def _pg_bin_dir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def private_postgres_unavailable() -> str | None:
    """Why a private cluster cannot be run here, or None when it can."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root and runuser is not available"
    return None


class PrivatePostgres:
    """A throwaway cluster on a free port, ours to stop and start at will.

    As root, PostgreSQL refuses to run: its binaries run as the ``postgres`` user,
    in a directory under /tmp that user owns.
    """

    def __init__(self) -> None:
        bin_dir = _pg_bin_dir()
        assert bin_dir is not None
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hookline-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def url(self, database: str = "hookline") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr.decode(errors='replace')}\n{self.log_tail()}"
            )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str = "hookline") -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
