"""Values that were accepted, then broke an answer: each is now refused with a 422 naming it, or
kept and read back as it was sent. Found by fuzzing the API (schemathesis and by hand).
Every case runs on SQLite and PostgreSQL."""

import json

from tests.support.api import make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN

BIG = "9" * 30  # beyond 64 bits: orjson refuses it, the API keeps it exactly


def _spec(description: str = "Paid.", extra: str = "") -> str:
    return (
        "openapi: 3.1.0\n"
        "info: {title: t, version: '1'}\n"
        "webhooks:\n"
        "  invoice.paid:\n"
        "    post:\n"
        f"      description: {json.dumps(description)}\n"
        "      requestBody:\n"
        "        content:\n"
        "          application/json:\n"
        "            schema:\n"
        "              type: object\n"
        f"{extra}"
    )


def test_yaml_values_json_has_no_form_for(hookline) -> None:
    with hookline.client() as c:
        # A date and an integer key, as YAML documents have them: stored as JSON says them.
        dated = _spec(extra="              examples: [{since: 2024-01-31}]\n              x-codes: {200: ok}\n")
        done = c.post("/api/v1/event-type/import/openapi", json={"specRaw": dated})
        assert done.status_code == 200, done.text
        schema = c.get("/api/v1/event-type/invoice.paid").json()["schemas"]["1"]
        assert schema["examples"] == [{"since": "2024-01-31"}] and schema["x-codes"] == {"200": "ok"}
        not_a_number = _spec(extra="              maximum: .nan\n")
        nan = c.post("/api/v1/event-type/import/openapi", json={"specRaw": not_a_number})
        assert nan.status_code == 422, nan.text
        assert nan.json()["detail"][0]["loc"] == ["body", "specRaw"] and "NaN" in nan.text
        binary = _spec(extra="              x-blob: !!binary aGk=\n")
        refused = c.post("/api/v1/event-type/import/openapi", json={"specRaw": binary})
        assert refused.status_code == 422 and "bytes" in refused.text
        deep = "[" * 5000 + "]" * 5000
        nested = c.post("/api/v1/event-type/import/openapi", json={"specRaw": deep})
        assert nested.status_code == 422 and "nested too deeply" in nested.text
        alias = "a: &x [*x]\n"
        looped = c.post("/api/v1/event-type/import/openapi", json={"specRaw": alias})
        assert looped.status_code == 422, looped.text


def test_an_imported_description_with_nul_is_refused(hookline) -> None:
    """SQLite stored it; then every listing of event types failed (500) on reading it back."""
    with hookline.client() as c:
        resp = c.post("/api/v1/event-type/import/openapi", json={"specRaw": _spec(description="a\u0000b")})
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"][0]["loc"][:3] == ["body", "specRaw", "webhooks"]
        assert "NUL" in resp.text
        assert c.get("/api/v1/event-type").status_code == 200


def test_integers_beyond_64_bits_read_back_exactly(hookline, receiver) -> None:
    """orjson cannot read them: a schema holding one failed every read of its event type, a
    message's payload was shown as {}, and the poller failed (500)."""
    with hookline.client() as c:
        schemas = {"1": {"type": "object", "properties": {"n": {"type": "integer", "maximum": int(BIG)}}}}
        made = c.post("/api/v1/event-type", json={"name": "big.number", "description": "d", "schemas": schemas})
        assert made.status_code == 201, made.text
        got = c.get("/api/v1/event-type/big.number")
        assert got.status_code == 200 and got.json()["schemas"] == schemas
        assert c.get("/api/v1/event-type", params={"with_content": "true"}).status_code == 200
        spec = _spec(extra=f"              maximum: {BIG}\n")
        assert c.post("/api/v1/event-type/import/openapi", json={"specRaw": spec}).status_code == 200
        assert c.get("/api/v1/event-type/invoice.paid").json()["schemas"]["1"]["maximum"] == int(BIG)

        make_endpoint(c, receiver.url(), app_uid="acme")
        body = '{"eventType":"big.number","payload":{"n":' + BIG + "}}"
        msg = c.post("/api/v1/app/acme/msg", content=body, headers={"content-type": "application/json"})
        assert msg.status_code == 202, msg.text
        shown = c.get(f"/api/v1/app/acme/msg/{msg.json()['id']}")
        assert shown.status_code == 200 and BIG in shown.text
        listed = c.get("/api/v1/app/acme/msg", params={"with_content": "true"})
        assert listed.status_code == 200 and BIG in listed.text
        sink = c.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/poll", "uid": "sink"})
        assert sink.status_code == 201, sink.text
        polled = c.get("/api/v1/app/acme/poller/sink")
        assert polled.status_code == 200, polled.text


def test_schemas_that_never_finish_checking_are_refused_not_a_500(hookline) -> None:
    """A schema whose $ref loops looked fine, then failed every publish to it with a 500."""
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        looping = {"1": {"allOf": [{"$ref": "#"}]}}
        made = c.post("/api/v1/event-type", json={"name": "loop.event", "description": "d", "schemas": looping})
        assert made.status_code == 422 and "refers to itself without end" in made.text, made.text
        # This one loops only on a value with "x": the publish that gives one is refused.
        on_x = {
            "$defs": {"v": {"anyOf": [{"$ref": "#/$defs/v"}]}},
            "type": "object",
            "properties": {"x": {"$ref": "#/$defs/v"}},
        }
        fields = {"name": "x.event", "description": "d", "schemas": {"1": on_x}, "schemaValidation": "enforce"}
        assert c.post("/api/v1/event-type", json=fields).status_code == 201
        assert publish(c, "acme", "x.event", payload={"y": 1})
        resp = c.post("/api/v1/app/acme/msg", json={"eventType": "x.event", "payload": {"x": 1}})
        assert resp.status_code == 422, resp.text
        assert "refers to itself without end" in resp.text
        deep = "[" * 300 + "]" * 300
        body = '{"eventType":"x.event","payload":{"y":' + deep + "}}"
        nested = c.post("/api/v1/app/acme/msg", content=body, headers={"content-type": "application/json"})
        assert nested.status_code == 422 and "recursion limit exceeded" in nested.text, nested.text


def test_answers_that_cannot_be_sent_are_refused_when_configured(hookline) -> None:
    """A capture URL's or an ingest source's answer with a header value HTTP cannot carry, or a
    body on a 204, was stored; then every request to that URL got a 500."""
    with hookline.client() as c:
        for response, where in [
            ({"headers": [["X-Snow", "\u2603"]]}, ["body", "response", "headers", "0", "1"]),
            ({"headers": [["X-Bell", "a\u0007b"]]}, ["body", "response", "headers", "0", "1"]),
            ({"contentType": "text/\u2603"}, ["body", "response", "contentType"]),
            ({"status": 204, "body": "OK"}, ["body", "response", "body"]),
            ({"status": 304, "body": "x"}, ["body", "response", "body"]),
        ]:
            resp = c.post("/api/v1/inspect", json={"response": response})
            assert resp.status_code == 422, (response, resp.text)
            assert resp.json()["detail"][0]["loc"] == where, resp.text
        fine = c.post("/api/v1/inspect", json={"response": {"status": 204, "headers": [["X-Latin", "caf\u00e9"]]}})
        assert fine.status_code == 201, fine.text
        answered = c.post(fine.json()["url"], content=b"{}")
        assert answered.status_code == 204 and answered.headers["x-latin"].encode("latin-1") == b"caf\xe9"

        source = {"name": "s", "type": "generic", "config": {}}
        for response, where in [
            ({"contentType": "text/\u2603"}, ["body", "response", "contentType"]),
            ({"statusCode": 204, "body": "thanks"}, ["body", "response", "body"]),
        ]:
            resp = c.post("/ingest/api/v1/source", json={**source, "response": response})
            assert resp.status_code == 422, (response, resp.text)
            assert resp.json()["detail"][0]["loc"] == where, resp.text


def test_yaml_aliases_that_expand_without_end_are_refused(hookline) -> None:
    """An alias inside its own anchor hung the server for good; a kilobyte of nested aliases
    ("billion laughs") expanded to 9^9 values on the event loop."""
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
    looped = _spec(extra="              properties: &s\n                me: {properties: *s}\n")
    with hookline.client() as c:
        for spec in (laughs, "a: &x [*x]\n", looped):
            resp = c.post("/api/v1/event-type/import/openapi", json={"specRaw": spec, "dryRun": True})
            assert resp.status_code == 422, resp.text
            assert "YAML alias" in resp.text
        assert c.get("/api/v1/health/ping").status_code == 204


def test_schema_checks_that_would_take_seconds_are_bounded(hookline) -> None:
    """A pattern that backtracks, or uniqueItems over thousands of objects, held the event loop
    for seconds to hours on one publish."""
    backtracking = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a|aa)+$"}}}
    unique = {"type": "object", "properties": {"items": {"type": "array", "uniqueItems": True}}}
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        for name, schema in (("redos.event", backtracking), ("unique.event", unique)):
            fields = {"name": name, "description": "d", "schemas": {"1": schema}, "schemaValidation": "enforce"}
            assert c.post("/api/v1/event-type", json=fields).status_code == 201
        assert publish(c, "acme", "redos.event", payload={"a": "a" * 40})
        slow = c.post("/api/v1/app/acme/msg", json={"eventType": "redos.event", "payload": {"a": "a" * 40 + "!"}})
        assert slow.status_code == 422, slow.text
        assert "took longer than" in slow.text
        distinct = [{"k": i} for i in range(6000)]
        assert publish(c, "acme", "unique.event", payload={"items": distinct})
        repeated = c.post(
            "/api/v1/app/acme/msg",
            json={
                "eventType": "unique.event",
                "payload": {"items": [{"k": 1, "j": [1, {"x": 1}]}, 2, {"j": [1.0, {"x": 1}], "k": 1}]},
            },
        )
        assert repeated.status_code == 422, repeated.text
        assert repeated.json()["detail"][0]["loc"] == ["body", "payload", "items"]
        assert "item 2 repeats an earlier item" in repeated.text
        # JSON Schema's equality: true is not 1, and 1 is 1.0.
        assert publish(c, "acme", "unique.event", payload={"items": [True, 1, False, 0]})
        same = c.post("/api/v1/app/acme/msg", json={"eventType": "unique.event", "payload": {"items": [1, 1.0]}})
        assert same.status_code == 422


def test_a_forwarded_request_that_is_not_json_polls_as_an_empty_payload(hookline, receiver) -> None:
    """The inbound gateway forwards a request's body as it came; the poller failed (500) on
    one that was not JSON, as the message API did not."""
    from sqlalchemy import select
    from tests.support.servers import run, wait_until

    from hookline.store import tables
    from hookline.store.database import Database

    with hookline.client() as c:
        source = c.post("/ingest/api/v1/source", json={"name": "plain", "type": "generic-webhook", "config": {}})
        assert source.status_code == 201, source.text
        dest = c.post(f"/ingest/api/v1/source/{source.json()['id']}/endpoint", json={"url": receiver.url()})
        assert dest.status_code == 201, dest.text
        token = source.json()["ingestUrl"].rsplit("/in/", 1)[1]
        sent = c.post(f"/in/{token}", content=b"hello", headers={"content-type": "text/plain"})
        assert sent.status_code == 200, sent.text
        receiver.wait_for(1)

        async def app_of_source() -> str:
            db = Database(hookline.settings.database_url)
            try:
                async with db.read() as conn:
                    query = select(tables.ingest_source.c.app_id).where(
                        tables.ingest_source.c.id == source.json()["id"]
                    )
                    return str((await conn.execute(query)).scalar_one())
            finally:
                await db.close()

        path = f"/api/v1/app/{run(app_of_source())}/poller/{dest.json()['id']}"
        # The poller leaves out the newest messages until they settle (services/poller.py).
        wait_until(lambda: c.get(path).status_code != 200 or c.get(path).json()["data"] != [], 30, "polled")
        polled = c.get(path)
        assert polled.status_code == 200, polled.text
        assert [m["payload"] for m in polled.json()["data"]] == [{}]


def test_nul_characters_are_refused_by_name_on_both_databases(hookline, receiver) -> None:
    """PostgreSQL's text cannot hold NUL: there these got a 422 naming no field, and SQLite
    stored them. Now both refuse them, naming the field; a %00 in an ingest URL is kept as sent."""
    with hookline.client() as c:
        for body, loc in [
            ({"name": "a\u0000b", "type": "generic-webhook", "config": {}}, ["body", "name"]),
            (
                {"name": "s", "type": "generic-webhook", "config": {}, "metadata": {"k": "a\u0000"}},
                ["body", "metadata", "k"],
            ),
        ]:
            resp = c.post("/ingest/api/v1/source", json=body)
            assert resp.status_code == 422, resp.text
            assert resp.json()["detail"][0]["loc"] == loc, resp.text
        _app, ep = make_endpoint(c, receiver.url())
        code = c.patch(
            f"/api/v1/app/acme/endpoint/{ep}/transformation",
            json={"code": "function handler(w) { return w; } // \u0000", "enabled": True},
        )
        assert code.status_code == 422, code.text
        assert code.json()["detail"][0]["loc"] == ["body", "code"]
        cert = c.put(
            f"/api/v1/app/acme/endpoint/{ep}/client-certificate", json={"cert": "-----BEGIN\u0000", "key": "x"}
        )
        assert cert.status_code == 422, cert.text
        assert cert.json()["detail"][0]["loc"] == ["body", "cert"] and "NUL" in cert.text

        source = c.post("/ingest/api/v1/source", json={"name": "s", "type": "generic-webhook", "config": {}})
        token = source.json()["ingestUrl"].rsplit("/in/", 1)[1]
        sent = c.post(f"/in/{token}/a%00b", json={"x": 1})
        assert sent.status_code == 200, sent.text
        listed = c.get(f"/ingest/api/v1/source/{source.json()['id']}/request").json()["data"]
        assert [r["path"] for r in listed] == ["/a%00b"]


def test_event_type_names_starting_with_a_dash_are_refused(hookline) -> None:
    """A list iterator that starts with "-" goes backwards, and an event type's name is its
    iterator: with "-a" stored, listing all event types stopped early, or never ended."""
    with hookline.client() as c:
        made = c.post("/api/v1/event-type", json={"name": "-a", "description": "d"})
        assert made.status_code == 422 and made.json()["detail"][0]["loc"] == ["body", "name"], made.text
        put = c.put("/api/v1/event-type/-b", json={"description": "d"})
        assert put.status_code == 422 and put.json()["detail"][0]["loc"] == ["path", "event_type_name"], put.text
        spec = _spec().replace("invoice.paid:", "-c:")
        imported = c.post("/api/v1/event-type/import/openapi", json={"specRaw": spec})
        assert imported.status_code == 422 and "not starting with -" in imported.text
        assert c.post("/api/v1/event-type", json={"name": "a-b_c.d", "description": "d"}).status_code == 201


def test_ingest_verification_that_meets_odd_text_refuses_only_that_request(hookline) -> None:
    """A Mailgun token escaping half a surrogate pair raised out of the verifier: a 500 for it,
    and for every request batched with it. A generic source's HMAC prefix of 5 was stored,
    then every signed request got a 500."""
    with hookline.client() as c:
        source = c.post("/ingest/api/v1/source", json={"name": "m", "type": "mailgun", "config": {"secret": "key"}})
        assert source.status_code == 201, source.text
        token = source.json()["ingestUrl"].rsplit("/in/", 1)[1]
        body = b'{"signature":{"timestamp":"1","token":"\\ud800","signature":"x"}}'
        sent = c.post(f"/in/{token}", content=body, headers={"content-type": "application/json"})
        assert sent.status_code == 401, sent.text
        config = {"hmac": {"secret": "s", "header": "x-sig", "prefix": 5}}
        odd = c.post("/ingest/api/v1/source", json={"name": "g", "type": "generic-webhook", "config": config})
        assert odd.status_code == 422 and odd.json()["detail"][0]["loc"][-1] == "prefix", odd.text
        config = {"hmac": {"secret": "s", "header": "x-sig", "timestampHeader": ["x-ts"]}}
        odd = c.post("/ingest/api/v1/source", json={"name": "g", "type": "generic-webhook", "config": config})
        assert odd.status_code == 422 and odd.json()["detail"][0]["loc"][-1] == "timestampHeader", odd.text


def test_a_listeners_odd_answer_and_frames_break_nothing(hookline) -> None:
    """A header HTTP cannot carry in a relayed answer gave the sender a 500; a binary frame
    or a reply with an object for its id ended the session with a traceback."""
    import asyncio
    import base64

    import aiohttp
    import httpx

    with hookline.client() as c:
        bin_ = c.post("/api/v1/inspect", json={}).json()
    url = hookline.url.replace("http://", "ws://") + f"/api/v1/inspect/{bin_['id']}/listen"

    async def session() -> tuple[httpx.Response, int | None]:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as ws,
        ):
            assert (await ws.receive_json(timeout=30))["type"] == "ready"
            async with httpx.AsyncClient(timeout=30) as sender:
                waiting = asyncio.create_task(sender.post(bin_["url"], content=b"{}"))
                request = await ws.receive_json(timeout=30)
                await ws.send_json({"type": "reply", "id": {}, "status": 500})  # ignored: no such id
                headers = [["X-Euro", "\u20ac"], ["X-Bell", "a\u0007"], ["X-Fine", "caf\u00e9"]]
                reply = {"type": "reply", "id": request["id"], "status": 201, "headers": headers}
                await ws.send_json({**reply, "body": base64.b64encode(b"made").decode()})
                answered = await waiting
            await ws.send_bytes(b"\x00\x01")
            # Until the server closes: it may send other messages before it reads the frame.
            while (await ws.receive(timeout=30)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                pass
            return answered, ws.close_code

    answered, code = asyncio.run(session())
    assert answered.status_code == 201 and answered.content == b"made"
    assert answered.headers["x-fine"].encode("latin-1") == b"caf\xe9"
    assert "x-euro" not in answered.headers and "x-bell" not in answered.headers
    assert code == 1003


def test_a_uid_shaped_like_an_id_is_refused(hookline) -> None:
    """Ids are looked up first: an application whose uid was another one's id could not be
    reached by its uid (the other came back)."""
    with hookline.client() as c:
        acme = c.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).json()["id"]
        endpoint = c.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/h"}).json()["id"]
        cases = [
            ("post", "/api/v1/app", {"name": "x", "uid": acme}),
            ("patch", "/api/v1/app/acme", {"uid": "app_" + "A" * 22}),
            ("post", "/api/v1/app/acme/endpoint", {"url": "https://example.com/h", "uid": endpoint}),
            ("post", "/ingest/api/v1/source", {"name": "s", "type": "generic-webhook", "uid": "src_" + "0" * 22}),
        ]
        for method, path, body in cases:
            made = c.request(method.upper(), path, json=body)
            assert made.status_code == 422, (path, made.text)
            assert made.json()["detail"][0]["loc"] == ["body", "uid"] and "shape of a hookline id" in made.text
        assert c.get(f"/api/v1/app/{acme}").json()["uid"] == "acme"
        # Near misses stay valid uids.
        for uid in ("app_" + "A" * 21, "App_" + "A" * 22, "app-" + "A" * 22, "app_" + "A" * 23):
            assert c.post("/api/v1/app", json={"name": "ok", "uid": uid}).status_code == 201, uid


def test_uids_and_names_of_only_dots_are_refused(hookline) -> None:
    """A URL resolves "." and ".." away: an application, endpoint, source or event type called so
    could never be read, changed or deleted again."""
    with hookline.client() as c:
        assert c.post("/api/v1/app", json={"name": "A", "uid": "acme"}).status_code == 201
        for dots in (".", ".."):
            cases = [
                ("/api/v1/app", {"name": "A", "uid": dots}, ["body", "uid"]),
                ("/api/v1/app/acme/endpoint", {"url": "https://example.com/h", "uid": dots}, ["body", "uid"]),
                ("/ingest/api/v1/source", {"name": "s", "type": "generic-webhook", "uid": dots}, ["body", "uid"]),
                ("/api/v1/event-type", {"name": dots, "description": "d"}, ["body", "name"]),
            ]
            for path, body, loc in cases:
                made = c.post(path, json=body)
                assert made.status_code == 422 and made.json()["detail"][0]["loc"] == loc, (path, made.text)
                rule = "a uid is 1 to 256 of a-z A-Z 0-9 - _ . (not only dots)"
                assert loc[-1] != "uid" or rule in made.json()["detail"][0]["msg"], made.text
            patched = c.patch("/api/v1/app/acme", json={"uid": dots})
            assert patched.status_code == 422, patched.text
        spec = _spec().replace("invoice.paid:", "'..':")
        imported = c.post("/api/v1/event-type/import/openapi", json={"specRaw": spec})
        assert imported.status_code == 422 and "not only dots" in imported.text
        # A dot inside a uid or name is still fine, as in Svix.
        assert c.post("/api/v1/app", json={"name": "B", "uid": "a.b..c"}).status_code == 201
        assert c.post("/api/v1/event-type", json={"name": ".a", "description": "d"}).status_code == 201
