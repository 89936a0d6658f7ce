"""/api/v1/environment/import at its edges: times no answer can hold, concurrent imports of the
same rows, and endpoint fields the endpoint API would refuse (found by fuzzing)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from tests.support.servers import Hookline

IMPORT = "/api/v1/environment/import"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
APP = "app_" + "2AB1A6E62AB1A6E6ABCDEF"
EP = "ep_" + "2AB1A6E62AB1A6E6ABCDEF"
# 9999-12-31T23:59:59 an hour west of UTC is 10000-01-01 in UTC: past what a datetime holds.
PAST_Y9999 = "9999-12-31T23:59:59-01:00"
LAST_MOMENT = "9999-12-31T23:59:59.999Z"


def _endpoint(**fields: Any) -> dict[str, Any]:
    return {"id": EP, "url": "https://example.com/hook", "secret": SECRET, **fields}


def _app(*endpoints: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": APP, "name": "Acme", "endpoints": list(endpoints), **fields}


def _refused(c: httpx.Client, document: dict[str, Any]) -> list[Any]:
    resp = c.post(IMPORT, json=document)
    assert resp.status_code == 422, resp.text
    [item] = resp.json()["detail"]
    return list(item["loc"])


def _nothing_imported(c: httpx.Client) -> None:
    document = c.post("/api/v1/environment/export").json()
    assert document["applications"] == [] and document["eventTypes"] == []


@pytest.mark.parametrize("field", ["updatedAt", "createdAt"])
def test_an_event_type_stamp_past_year_9999_is_refused(hookline: Hookline, field: str) -> None:
    with hookline.client() as c:
        doc = {"eventTypes": [{"name": "y10k", "description": "", field: PAST_Y9999}]}
        assert _refused(c, doc) == ["body", "eventTypes", "y10k", field]
        assert c.get("/api/v1/event-type/y10k").status_code == 404
        assert c.get("/api/v1/event-type").status_code == 200
        _nothing_imported(c)


@pytest.mark.parametrize("field", ["updatedAt", "createdAt"])
def test_an_application_or_endpoint_stamp_past_year_9999_is_refused(hookline: Hookline, field: str) -> None:
    with hookline.client() as c:
        assert _refused(c, {"applications": [_app(**{field: PAST_Y9999})]}) == ["body", "applications", APP, field]
        endpoint = _endpoint(**{field: PAST_Y9999})
        loc = ["body", "applications", APP, "endpoints", EP, field]
        assert _refused(c, {"applications": [_app(endpoint)]}) == loc
        _nothing_imported(c)


def test_an_old_secret_expiring_past_year_9999_is_refused(hookline: Hookline) -> None:
    with hookline.client() as c:
        endpoint = _endpoint(oldSecrets=[{"key": SECRET, "expiresAt": PAST_Y9999}])
        loc = ["body", "applications", APP, "endpoints", EP, "oldSecrets", "0", "expiresAt"]
        assert _refused(c, {"applications": [_app(endpoint)]}) == loc
        _nothing_imported(c)


def test_the_last_moment_of_year_9999_is_kept_and_read_back(hookline: Hookline) -> None:
    with hookline.client() as c:
        stamps = {"createdAt": LAST_MOMENT, "updatedAt": LAST_MOMENT}
        endpoint = _endpoint(oldSecrets=[{"key": SECRET, "expiresAt": LAST_MOMENT}], **stamps)
        document = {
            "eventTypes": [{"name": "y9999", "description": "", **stamps}],
            "applications": [_app(endpoint, **stamps)],
        }
        resp = c.post(IMPORT, json=document)
        assert resp.status_code == 204, resp.text
        for path in ("/api/v1/event-type/y9999", "/api/v1/event-type", f"/api/v1/app/{APP}"):
            assert c.get(path).status_code == 200, path
        got = c.get(f"/api/v1/app/{APP}/endpoint/{EP}")
        # Read back to the millisecond (a float of seconds gave .998993).
        assert got.status_code == 200 and got.json()["updatedAt"].startswith("9999-12-31T23:59:59.999")
        exported = c.post("/api/v1/environment/export")
        assert exported.status_code == 200, exported.text
        [old] = exported.json()["applications"][0]["endpoints"][0]["oldSecrets"]
        assert old["expiresAt"].startswith("9999-12-31T23:59:59.999")


def _at_once(hookline: Hookline, count: int, document: dict[str, Any]) -> list[int]:
    """``count`` imports of ``document``, sent together, each on a connection of its own."""
    start = threading.Barrier(count)

    def send(_: int) -> int:
        with hookline.client() as c:
            start.wait()
            return c.post(IMPORT, json=document).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def test_concurrent_imports_of_the_same_new_rows_all_succeed(hookline: Hookline) -> None:
    # Each round brings new rows: the race is between inserts, so every round must insert.
    for round_ in range(6):
        app_id = f"app_{round_}AB1A6E62AB1A6E6ABCDEF"
        endpoint = _endpoint(id=f"ep_{round_}AB1A6E62AB1A6E6ABCDEF", uid=f"main{round_}")
        document = {
            "eventTypes": [{"name": f"race.{round_}", "description": "d"}],
            "applications": [{"id": app_id, "name": "n", "uid": f"race{round_}", "endpoints": [endpoint]}],
        }
        assert _at_once(hookline, 8, document) == [204] * 8
    with hookline.client() as c:
        apps = c.post("/api/v1/environment/export").json()["applications"]
        assert sorted(a["uid"] for a in apps) == [f"race{n}" for n in range(6)]
        assert all(len(a["endpoints"]) == 1 for a in apps)


def test_an_imported_uid_another_application_holds_is_refused_not_500(hookline: Hookline) -> None:
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "Taken", "uid": "taken"}).status_code == 201
        resp = c.post(IMPORT, json={"applications": [_app(uid="taken")]})
        assert resp.status_code == 409, resp.text


def test_import_refuses_the_custom_headers_the_endpoint_api_refuses(hookline: Hookline) -> None:
    headers = {"Content-Type": "x", "Host": "evil", "Transfer-Encoding": "chunked", "svix-id": "x"}
    with hookline.client() as c:
        for name, value in headers.items():
            loc = _refused(c, {"applications": [_app(_endpoint(headers={"X-Fine": "1", name: value}))]})
            assert loc == ["body", "applications", APP, "endpoints", EP, "headers", name]
        _nothing_imported(c)
        # The endpoint API says the same of the same headers.
        app = c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).json()["id"]
        ep = c.post(f"/api/v1/app/{app}/endpoint", json={"url": "https://example.com/h"}).json()["id"]
        resp = c.put(f"/api/v1/app/{app}/endpoint/{ep}/headers", json={"headers": headers})
        assert resp.status_code == 422, resp.text


def test_imported_headers_named_twice_are_refused_as_the_endpoint_api_refuses_them(hookline: Hookline) -> None:
    with hookline.client() as c:
        endpoint = _endpoint(headers={"X-Team": "a", "x-team": "b", "X-Other": "c"})
        loc = _refused(c, {"applications": [_app(endpoint)]})
        assert loc[:-1] == ["body", "applications", APP, "endpoints", EP, "headers"], loc
        assert loc[-1].lower() == "x-team", loc
        _nothing_imported(c)


def test_import_holds_endpoint_urls_to_https_only_as_the_endpoint_api_does(hookline_factory: Any) -> None:
    with hookline_factory(endpoint_https_only=True) as hl, hl.client() as c:
        loc = _refused(c, {"applications": [_app(_endpoint(url="http://example.com/h"))]})
        assert loc == ["body", "applications", APP, "endpoints", EP, "url"]
        app = c.post("/api/v1/app", json={"name": "Acme"}).json()["id"]
        assert c.post(f"/api/v1/app/{app}/endpoint", json={"url": "http://example.com/h"}).status_code == 422
        assert c.post(IMPORT, json={"applications": [_app(_endpoint(url="HTTPS://example.com/h"))]}).status_code == 204


@pytest.mark.parametrize(
    ("fields", "last"),
    [
        ({"url": "ftp://example.com/h"}, "url"),
        ({"url": "https://exa mple.com/h"}, "url"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": ["bad name"]}, "eventTypes"),
        ({"channels": [f"c{n}" for n in range(11)]}, "channels"),
        ({"throttleRate": 0}, "throttleRate"),
        ({"throttleRate": 65536}, "throttleRate"),
        ({"secret": "whsec_short"}, "secret"),
        ({"oldSecrets": [{"key": "nope", "expiresAt": LAST_MOMENT}]}, "oldSecrets"),
        ({"headers": {"Bad Name": "x"}}, "headers"),
        ({"headers": {"X-A": "line\r\nbreak"}}, "headers"),
    ],
)
def test_import_refuses_endpoint_fields_the_endpoint_api_refuses(
    hookline: Hookline, fields: dict[str, Any], last: str
) -> None:
    with hookline.client() as c:
        resp = c.post(IMPORT, json={"applications": [_app(_endpoint(**fields))]})
        assert resp.status_code == 422, resp.text
        assert last in resp.json()["detail"][0]["loc"], resp.text
        _nothing_imported(c)
        if "oldSecrets" not in fields:  # the endpoint API has no old secrets to send
            app = c.post("/api/v1/app", json={"name": "Acme"}).json()["id"]
            body = {"url": "https://example.com/h", **fields}
            assert c.post(f"/api/v1/app/{app}/endpoint", json=body).status_code == 422


def test_a_stamp_at_the_epoch_is_kept_not_replaced_by_now(hookline: Hookline) -> None:
    with hookline.client() as c:
        epoch = "1970-01-01T00:00:00Z"
        document = {"eventTypes": [{"name": "old.one", "description": "", "createdAt": epoch, "updatedAt": epoch}]}
        assert c.post(IMPORT, json=document).status_code == 204
        got = c.get("/api/v1/event-type/old.one").json()
        assert got["createdAt"].startswith("1970-01-01T00:00:00") and got["updatedAt"].startswith("1970-01-01")
