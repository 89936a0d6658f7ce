"""Payload filters on a real server: stored on endpoints, refused with the path when invalid,
applied at fan-out (no delivery for a message the filter does not match), and testable."""

import json
from collections import Counter
from typing import Any

from tests.support.api import make_endpoint
from tests.support.servers import Receiver

FILTERS: dict[str, tuple[dict[str, Any] | None, Any]] = {
    # path: (filter, the same rule in plain Python over (event_type, channels, payload))
    "/all": (None, lambda et, ch, p: True),
    "/paid": ({"payload": {"status": "paid"}}, lambda et, ch, p: p["status"] == "paid"),
    "/big": ({"payload": {"amount": {"$gte": 500}}}, lambda et, ch, p: p["amount"] >= 500),
    "/eu-or-vip": (
        {"$or": [{"payload": {"customer": {"region": "eu"}}}, {"payload": {"tags": "vip"}}]},
        lambda et, ch, p: p["customer"]["region"] == "eu" or "vip" in p["tags"],
    ),
    "/not-refund": (
        {"eventType": {"$not": {"$startsWith": "refund."}}, "payload": {"note": {"$exist": False}}},
        lambda et, ch, p: not et.startswith("refund.") and "note" not in p,
    ),
    "/channel-us-small": (
        {"channels": "us", "payload": {"amount": {"$lt": 100}, "status": {"$in": ["paid", "open"]}}},
        lambda et, ch, p: "us" in ch and p["amount"] < 100 and p["status"] in ("paid", "open"),
    ),
}


def _message(i: int) -> tuple[str, list[str], dict[str, Any]]:
    event_type = ["invoice.paid", "invoice.open", "refund.created"][i % 3]
    channels = [["eu"], ["us"], ["us", "eu"], ["apac"]][i % 4]
    payload: dict[str, Any] = {
        "n": i,
        "status": ["paid", "open", "void", "paid", "draft"][i % 5],
        "amount": (i * 37) % 1000,
        "customer": {"region": ["eu", "us", "apac"][i % 7 % 3], "id": i},
        "tags": [["vip"], [], ["new", "vip"], ["new"]][i % 4 if i % 11 else 1],
    }
    if i % 6 == 0:
        payload["note"] = "manual"
    return event_type, channels, payload


def test_messages_reach_exactly_the_endpoints_whose_filters_match(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        for path, (flt, _rule) in FILTERS.items():
            make_endpoint(c, receiver.url(path), **({"filter": flt} if flt is not None else {}))
        expected: Counter[str] = Counter()
        wanted: set[tuple[str, int]] = set()
        for i in range(200):
            event_type, channels, payload = _message(i)
            body = {"eventType": event_type, "channels": channels, "payload": payload}
            assert c.post("/api/v1/app/acme/msg", json=body).status_code == 202
            for path, (_flt, rule) in FILTERS.items():
                if rule(event_type, channels, payload):
                    expected[path] += 1
                    wanted.add((path, i))
        assert all(expected[p] not in (0, 200) for p in FILTERS if p != "/all")  # each filter discriminates
        # The deliveries made at fan-out are exactly those the filters match...
        eps = {e["url"].rsplit("/", 1)[1]: e["id"] for e in c.get("/api/v1/app/acme/endpoint").json()["data"]}
        made = set()
        for path in FILTERS:
            listed = c.get(f"/api/v1/app/acme/endpoint/{eps[path[1:]]}/msg", params={"limit": 250})
            assert listed.status_code == 200, listed.text
            made |= {(path, m["payload"]["n"]) for m in listed.json()["data"]}
        assert made == wanted
        # ...and the receiver gets each of them.
        receiver.wait_for(len(wanted), timeout=120)
        got = {(r.path, json.loads(r.body)["n"]) for r in receiver.requests}
        assert got == wanted


def test_filter_is_stored_changed_cleared_and_tested(hookline) -> None:
    with hookline.client() as c:
        flt = {"payload": {"status": "paid"}}
        _app, ep = make_endpoint(c, "https://hooks.example/a", filter=flt)
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["filter"] == flt

        test = f"/api/v1/app/acme/endpoint/{ep}/filter/test"
        yes = c.post(test, json={"payload": {"status": "paid", "x": 1}})
        assert yes.status_code == 200, yes.text
        assert yes.json() == {"matches": True, "filter": flt}
        assert c.post(test, json={"payload": {"status": "open"}}).json()["matches"] is False
        # A candidate filter is tried without being stored.
        other = {"eventType": "a.b", "payload": {"n": {"$gt": 1}}}
        tried = c.post(test, json={"payload": {"n": 2}, "eventType": "a.b", "filter": other}).json()
        assert tried == {"matches": True, "filter": other}
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["filter"] == flt

        patched = c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"filter": {"payload": {"n": {"$in": [1, 2]}}}})
        assert patched.status_code == 200 and patched.json()["filter"] == {"payload": {"n": {"$in": [1, 2]}}}
        # A PATCH without the field keeps it; an explicit null clears it.
        kept = c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"description": "d"})
        assert kept.json()["filter"] == {"payload": {"n": {"$in": [1, 2]}}}
        cleared = c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"filter": None})
        assert cleared.json()["filter"] is None
        assert c.post(test, json={"payload": {}}).json() == {"matches": True, "filter": None}
        put = c.put(f"/api/v1/app/acme/endpoint/{ep}", json={"url": "https://hooks.example/a", "filter": flt})
        assert put.status_code == 200 and put.json()["filter"] == flt
        # A PUT without the field replaces it with none, as for every other field.
        put = c.put(f"/api/v1/app/acme/endpoint/{ep}", json={"url": "https://hooks.example/a"})
        assert put.json()["filter"] is None


def test_invalid_filters_get_a_422_naming_the_path(hookline) -> None:
    with hookline.client() as c:
        _app, ep = make_endpoint(c, "https://hooks.example/a")
        bad = [
            ({"payload": {"amount": {"$between": [1, 2]}}}, ["body", "filter", "payload", "amount", "$between"]),
            ({"payload": {"amount": {"$gt": [1]}}}, ["body", "filter", "payload", "amount", "$gt"]),
            ({"body": {"a": 1}}, ["body", "filter", "body"]),
            ({"$or": []}, ["body", "filter", "$or"]),
        ]
        for flt, loc in bad:
            for resp in (
                c.post("/api/v1/app/acme/endpoint", json={"url": "https://hooks.example/b", "filter": flt}),
                c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"filter": flt}),
                c.post(f"/api/v1/app/acme/endpoint/{ep}/filter/test", json={"payload": {}, "filter": flt}),
            ):
                assert resp.status_code == 422, (flt, resp.text)
                detail = resp.json()["detail"][0]
                assert detail["loc"] == loc, (flt, detail)
                assert "filter $." in detail["msg"]
        deep: dict[str, Any] = {"x": 1}
        for _ in range(12):
            deep = {"a": deep}
        resp = c.patch(f"/api/v1/app/acme/endpoint/{ep}", json={"filter": {"payload": deep}})
        assert resp.status_code == 422 and "too deep" in resp.json()["detail"][0]["msg"]
        assert c.get(f"/api/v1/app/acme/endpoint/{ep}").json()["filter"] is None
