"""An outcome the database refuses for what it holds cannot hold up the others.

The recorder retries a failed write for as long as the database is away. A write that a
reachable database refuses (a value it cannot store) would fail the same way forever, and
with it every outcome batched after it. A trigger stands in for such a value here, on both
databases: the batch is then recorded outcome by outcome, and the one refused is recorded
without its answer, or, refused even so, left to go out again when its lease runs out."""

import time

from sqlalchemy import text
from tests.support.api import attempts, make_endpoint, publish, wait_attempts
from tests.support.servers import Receiver, Reply, run

from hookline.store.database import Database

_PG_FUNCTION = """
CREATE FUNCTION refuse_marked() RETURNS trigger AS $$
BEGIN
  IF NEW.response LIKE '%poison%' OR NEW.endpoint_id = '{endpoint}' THEN
    RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22000';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
_PG_TRIGGER = "CREATE TRIGGER refuse_marked BEFORE INSERT ON attempt FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
_SQLITE_TRIGGER = """
CREATE TRIGGER refuse_marked BEFORE INSERT ON attempt
WHEN NEW.response LIKE '%poison%' OR NEW.endpoint_id = '{endpoint}'
BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
"""


def _refuse_attempts(url: str, *, endpoint: str = "") -> None:
    """Make the database refuse attempt rows whose answer says "poison", and every attempt
    row of ``endpoint``."""

    async def install() -> None:
        db = Database(url)
        try:
            async with db.write() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(text(_PG_FUNCTION.format(endpoint=endpoint)))
                    await conn.execute(text(_PG_TRIGGER))
                else:
                    await conn.execute(text(_SQLITE_TRIGGER.format(endpoint=endpoint)))
        finally:
            await db.close()

    run(install())


def test_a_refused_answer_is_recorded_without_it_and_holds_up_nothing(hookline, receiver: Receiver) -> None:
    receiver.respond = lambda r: Reply(status=200, body=b"poison" if r.path == "/odd" else b"fine")
    _refuse_attempts(hookline.settings.database_url)
    with hookline.client() as c:
        _app, odd = make_endpoint(c, receiver.url("/odd"))
        _app, fine = make_endpoint(c, receiver.url("/fine"))
        for _ in range(3):
            publish(c, "acme")
        refused = wait_attempts(c, "acme", odd, 3, timeout=60)
        others = wait_attempts(c, "acme", fine, 3, timeout=60)
        time.sleep(0.5)  # a lease that was never recorded would send again
        assert len(attempts(c, "acme", odd)) == 3 and len(attempts(c, "acme", fine)) == 3
        listed = c.get(f"/api/v1/app/acme/endpoint/{odd}/msg").json()["data"]
    assert {a["response"] for a in others} == {"fine"}
    for attempt in refused:
        assert attempt["response"] == "" and attempt["status"] == 0 and attempt["responseStatusCode"] == 200
        assert "hookline could not record this attempt as it was" in attempt["error"]
        assert "refused by the test" in attempt["error"]
    assert {m["status"] for m in listed} == {0}  # the deliveries succeeded, and say so
    assert len(receiver.requests) == 6


def test_an_outcome_refused_even_without_its_answer_holds_up_nothing(hookline_factory, receiver: Receiver) -> None:
    """Refused whole, it stays leased and goes out again when the lease runs out; every
    other endpoint's outcomes are recorded meanwhile."""
    with hookline_factory(request_timeout=1.0, lease_seconds=2.0) as hookline, hookline.client() as c:
        _app, odd = make_endpoint(c, receiver.url("/odd"))
        _app, fine = make_endpoint(c, receiver.url("/fine"))
        _refuse_attempts(hookline.settings.database_url, endpoint=odd)
        for _ in range(3):
            publish(c, "acme")
        wait_attempts(c, "acme", fine, 3, timeout=60)
        started = time.monotonic()
        while sum(r.path == "/odd" for r in receiver.requests) < 6 and time.monotonic() - started < 30:
            time.sleep(0.1)
        assert attempts(c, "acme", odd) == []
    # Each of the three went out again after its lease ran out: late, but not lost.
    assert sum(r.path == "/odd" for r in receiver.requests) >= 6
    # Three messages reached the other endpoint (a loaded machine may time one out at 1 s and send it
    # again: an honest at-least-once duplicate, so distinct messages are counted).
    assert len({r.headers["webhook-id"] for r in receiver.requests if r.path == "/fine"}) == 3
