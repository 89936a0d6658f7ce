"""PostgreSQL goes away under load and comes back: hookline rides it out by itself.

hookline runs on a private PostgreSQL cluster (never the machine's shared one)
while a publisher and the engine are busy. The cluster is stopped with
``pg_ctl stop -m immediate`` (a crash, as far as PostgreSQL is concerned) for a
few seconds and started again. Meanwhile the API must answer 503 with a JSON
error, never 500, and the process must stay up; afterwards publishing and
delivery must resume without a restart of hookline, and every accepted message
must arrive at every endpoint.
"""

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.api import make_endpoint
from tests.support.processes import CountingReceiver, PrivatePostgres, Publisher, SpawnHookline
from tests.support.servers import ADMIN_TOKEN, wait_until

pytestmark = pytest.mark.slow

MAX_IN_FLIGHT = 40
ENDPOINTS = ["/a", "/b"]
# Leases are capped per endpoint: no more than MAX_IN_FLIGHT deliveries can be leased at once.
ENDPOINT_CONCURRENCY = MAX_IN_FLIGHT // len(ENDPOINTS)
OUTAGE_SECONDS = 4.0


def test_postgres_restart_under_load_answers_503_and_recovers(
    private_postgres: PrivatePostgres, counting_receiver: CountingReceiver, spawn_hookline: SpawnHookline
) -> None:
    receiver = counting_receiver
    hl = spawn_hookline(private_postgres.url(), max_in_flight=MAX_IN_FLIGHT, endpoint_concurrency=ENDPOINT_CONCURRENCY)
    with hl.client() as client:
        for path in ENDPOINTS:
            make_endpoint(client, receiver.url(path), app_uid="outage")

    publisher = Publisher(hl.url, "outage", threads=3).start()
    probes: list[tuple[str, int, dict[str, object]]] = []
    try:
        receiver.wait_for_count(200, timeout=30)
        private_postgres.stop("immediate")
        down_at = time.monotonic()
        with httpx.Client(base_url=hl.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=5) as client:
            while time.monotonic() - down_at < OUTAGE_SECONDS:
                for path in ("/api/v1/app/outage/msg", "/api/v1/app", "/api/v1/health"):
                    resp = client.get(path)
                    probes.append((path, resp.status_code, _body(resp)))
                time.sleep(0.2)
        assert hl.alive, hl.log_tail()
        publishes_refused = publisher.seen_since(down_at, "503")
        private_postgres.start()
        up_at = time.monotonic()
        first_accept = wait_until(lambda: publisher.first_accept_after(up_at), 30, "publishing to resume")
        first_delivery = wait_until(
            lambda: next((r.at for r in receiver.deliveries() if r.at > up_at), None), 30, "delivery to resume"
        )
        time.sleep(1.0)  # a little more load on the recovered database
    finally:
        stats = publisher.stop()

    accepted = stats.accepted
    missing = receiver.wait_for_all(accepted, ENDPOINTS, timeout=60)
    duplicates = sum(n - 1 for n in receiver.counts().values() if n > 1)
    print(
        f"\n[private postgresql] accepted={len(accepted)} delivered={len(receiver.delivered)} "
        f"duplicates={duplicates} publishes_refused_503={publishes_refused} "
        f"api_recovered_in={first_accept - up_at:.2f}s engine_recovered_in={first_delivery - up_at:.2f}s "
        f"publish_outcomes={dict(stats.statuses)} backoffs={_engine_backoffs(hl.log_path)}"
    )
    assert not missing, f"{len(missing)} accepted deliveries never arrived, e.g. {sorted(missing)[:5]}"
    assert hl.alive, "hookline died with its database"

    # While the database was gone: 503 with a JSON {code, detail}, never a 500.
    assert not stats.unexpected, stats.unexpected[:5]
    assert stats.statuses["500"] == 0
    assert publishes_refused > 0, dict(stats.statuses)
    for body in stats.unavailable:
        assert isinstance(body, dict) and body.get("code") == "database_unavailable" and body.get("detail"), body
    api_probes = [(status, body) for path, status, body in probes if path != "/api/v1/health"]
    assert api_probes and all(status == 503 for status, _ in api_probes), api_probes
    assert all(body.get("code") == "database_unavailable" and body.get("detail") for _, body in api_probes), api_probes
    health = [(status, body) for path, status, body in probes if path == "/api/v1/health"]
    assert all(status == 503 and body.get("database") == "unavailable" for status, body in health), health

    # The engine backed off while the database was gone: a handful of failures, not a spin. The
    # claimer may fail only once: while outcomes wait to be recorded it waits for free slots
    # instead of claiming, and the writer is the loop that keeps retrying.
    backoffs = _engine_backoffs(hl.log_path)
    assert 1 <= sum(map(len, backoffs.values())) <= 30, backoffs
    assert backoffs["claim failed"], backoffs
    assert any(len(delays) >= 2 for delays in backoffs.values()), backoffs
    for delays in backoffs.values():
        if len(delays) >= 2:
            assert max(delays) > min(delays), backoffs

    # In flight at the outage and re-sent after their lease expired: at most what can be in flight.
    assert duplicates <= MAX_IN_FLIGHT


def _body(resp: httpx.Response) -> dict[str, object]:
    try:
        body = resp.json()
    except ValueError:
        return {"text": resp.text}
    return body if isinstance(body, dict) else {"json": body}


def _log_events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
    return events


def _engine_backoffs(path: Path) -> dict[str, list[float]]:
    """The back-off delays the engine logged each time claiming, or recording outcomes, failed."""
    found: dict[str, list[float]] = {"claim failed": [], "recording outcomes failed": []}
    for e in _log_events(path):
        if e.get("event") in found:
            found[e["event"]].append(float(e["retry_in"]))
    return found
