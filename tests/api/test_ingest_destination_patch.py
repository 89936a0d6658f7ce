"""PATCH of a source's destination: only the fields given change, as the app endpoint PATCH; the
destination keeps its id, secret and attempts, and its new URL gets the next request."""

from typing import Any

import httpx
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from tests.support.servers import Hookline, Receiver, run, wait_until

from hookline.store import tables
from hookline.store.database import Database

ROOT = "/ingest/api/v1/source"
DEST_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _source(admin: httpx.Client, name: str) -> dict[str, Any]:
    made = admin.post(ROOT, json={"name": name, "type": "generic-webhook", "config": {}})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _destination(admin: httpx.Client, source_id: str, **body: Any) -> dict[str, Any]:
    made = admin.post(f"{ROOT}/{source_id}/endpoint", json={"secret": DEST_SECRET, **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _send(hookline: Hookline, source: dict[str, Any], below: str, body: bytes) -> None:
    """A request to the source's ingest URL (the test server's port, not the public URL's); a
    body sent before is a duplicate, forwarded once."""
    token = source["ingestUrl"].rsplit("/in/", 1)[1]
    sent = httpx.post(f"{hookline.url}/in/{token}{below}", content=body, timeout=30)
    assert sent.status_code == 200, sent.text


def _app_of(hookline: Hookline, source_id: str) -> str:
    """The source's internal application, whose attempts the ordinary API lists."""

    async def read() -> str:
        db = Database(hookline.settings.database_url)
        try:
            async with db.read() as conn:
                query = select(tables.ingest_source.c.app_id).where(tables.ingest_source.c.id == source_id)
                return str((await conn.execute(query)).scalar_one())
        finally:
            await db.close()

    return str(run(read()))


def test_a_patched_destination_gets_the_next_request_at_its_new_url_and_keeps_its_id_secret_and_attempts(
    hookline: Hookline, receiver: Receiver
) -> None:
    with hookline.client() as admin:
        source = _source(admin, "crm")
        dest = _destination(admin, source["id"], url=receiver.url("/old"), description="crm", metadata={"team": "a"})
        _send(hookline, source, "/orders?shop=x", b'{"n": 1}')
        assert [r.path for r in receiver.wait_for(1)] == ["/old/orders?shop=x"]

        path = f"{ROOT}/{source['id']}/endpoint/{dest['id']}"
        patched = admin.patch(path, json={"url": receiver.url("/new"), "pathForwardingDisabled": True})
        assert patched.status_code == 200, patched.text
        changed = patched.json()
        assert changed["id"] == dest["id"] and changed["url"] == receiver.url("/new")
        assert changed["pathForwardingDisabled"] is True
        # What the PATCH left out is as it was.
        assert (changed["description"], changed["metadata"], changed["uid"]) == ("crm", {"team": "a"}, None)
        assert admin.get(path).json() == changed
        assert admin.get(f"{path}/secret").json()["key"] == DEST_SECRET

        _send(hookline, source, "/orders?shop=y", b'{"n": 2}')
        got = receiver.wait_for(2)[1]
        assert got.path == "/new"  # path forwarding now off: the URL as it is
        Webhook(DEST_SECRET).verify(got.body, got.headers)  # still signed with the same secret

        attempts = f"/api/v1/app/{_app_of(hookline, source['id'])}/attempt/endpoint/{dest['id']}"
        wait_until(lambda: len(admin.get(attempts).json()["data"]) == 2, 20, "both attempts listed")
        urls = sorted(a["url"] for a in admin.get(attempts).json()["data"])
        assert urls == [receiver.url("/new"), receiver.url("/old/orders?shop=x")]


def test_null_clears_what_can_be_cleared_and_leaves_the_rest(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = _source(admin, "gh")
        dest = _destination(
            admin,
            source["id"],
            url="https://crm.example.org/in",
            uid="crm",
            description="to the CRM",
            eventTypes=["push"],
            throttleRate=5,
            filter={"payload": {"ref": "main"}},
            pathForwardingDisabled=True,
        )
        path = f"{ROOT}/{source['id']}/endpoint/{dest['id']}"
        nothing = admin.patch(path, json={})
        assert nothing.status_code == 200, nothing.text
        assert {k: v for k, v in nothing.json().items() if k != "updatedAt"} == {
            k: v for k, v in dest.items() if k != "updatedAt"
        }

        nulls = {
            "url": None,
            "description": None,
            "disabled": None,
            "metadata": None,
            "pathForwardingDisabled": None,
            "eventTypes": None,
            "throttleRate": None,
            "filter": None,
        }
        cleared = admin.patch(path, json=nulls)
        assert cleared.status_code == 200, cleared.text
        out = cleared.json()
        assert (out["url"], out["description"], out["disabled"]) == ("https://crm.example.org/in", "to the CRM", False)
        assert out["pathForwardingDisabled"] is True and out["uid"] == "crm"
        assert (out["eventTypes"], out["throttleRate"], out["filter"]) == (None, None, None)

        # Addressed by its uid too, as the other destination routes; rate limit as the svix SDK names it.
        by_uid = admin.patch(f"{ROOT}/{source['id']}/endpoint/crm", json={"disabled": True, "rateLimit": 7})
        assert by_uid.status_code == 200, by_uid.text
        assert (by_uid.json()["disabled"], by_uid.json()["throttleRate"]) == (True, 7)

        # Checked as a create is: the use-case's rules, named by field.
        bad_url = admin.patch(path, json={"url": "ftp://crm.example.org/in"})
        assert bad_url.status_code == 422 and bad_url.json()["detail"][0]["loc"] == ["body", "url"], bad_url.text
        bad_filter = admin.patch(path, json={"filter": {"payload": {"$nope": 1}}})
        assert bad_filter.status_code == 422 and bad_filter.json()["detail"][0]["loc"][:2] == ["body", "filter"]
        assert admin.get(path).json()["url"] == "https://crm.example.org/in"


def test_unknown_fields_other_sources_and_app_tokens_are_refused(hookline: Hookline) -> None:
    with hookline.client() as admin:
        source = _source(admin, "one")
        other = _source(admin, "other")
        dest = _destination(admin, source["id"], url="https://one.example.org/in")
        path = f"{ROOT}/{source['id']}/endpoint/{dest['id']}"

        unknown = admin.patch(path, json={"url": "https://x.example.org/", "pathForwarding": False})
        assert unknown.status_code == 422, unknown.text
        [item] = unknown.json()["detail"]
        assert item["loc"] == ["body", "pathForwarding"] and "unknown field" in item["msg"]

        # Another source's destination is not this source's: 404, and it stays as it was.
        elsewhere = admin.patch(f"{ROOT}/{other['id']}/endpoint/{dest['id']}", json={"url": "https://x.example.org/"})
        assert elsewhere.status_code == 404, elsewhere.text
        missing = admin.patch(f"{ROOT}/src_nope/endpoint/{dest['id']}", json={"url": "https://x.example.org/"})
        assert missing.status_code == 404, missing.text

        admin.post("/api/v1/app", json={"name": "tenant", "uid": "tenant"})
        tokens = [
            admin.post("/api/v1/auth/app-portal-access/tenant", json=body).json()["token"]
            for body in ({}, {"readOnly": True})
        ]
    for token in tokens:
        with hookline.client(token) as tenant:
            refused = tenant.patch(path, json={"url": "https://x.example.org/"})
            assert refused.status_code == 403, refused.text
    with hookline.client() as admin:
        assert admin.get(path).json()["url"] == "https://one.example.org/in"
