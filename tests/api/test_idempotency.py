"""A POST whose idempotency-key repeats gets the first 2xx answer again, and the work is done once."""

from tests.support.api import make_endpoint


def test_repeated_key_replays_the_first_answer(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        body = {"eventType": "order.paid", "payload": {"n": 1}}
        first = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-1"})
        again = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-1"})
        other = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-2"})
        listed = c.get("/api/v1/app/acme/msg").json()["data"]
        receiver.wait_for(2)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]
    assert len(listed) == 2


def test_failed_first_request_does_not_poison_the_key(hookline) -> None:
    with hookline.client() as c:
        bad = c.post("/api/v1/app", json={"uid": "no-name"}, headers={"idempotency-key": "k"})
        good = c.post("/api/v1/app", json={"name": "ok", "uid": "ok"}, headers={"idempotency-key": "k"})
    assert bad.status_code == 422
    assert good.status_code == 201


def test_keys_are_scoped_to_the_path(hookline) -> None:
    with hookline.client() as c:
        app = c.post("/api/v1/app", json={"name": "a", "uid": "a"}, headers={"idempotency-key": "same"})
        et = c.post("/api/v1/event-type", json={"name": "x.y", "description": "d"}, headers={"idempotency-key": "same"})
    assert app.status_code == 201 and et.status_code == 201
    assert et.json()["name"] == "x.y"
