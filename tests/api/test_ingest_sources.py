"""Managing sources: creating one with its destinations, the answers of its ingest URL and of
its PATCH."""

import httpx

ROOT = "/ingest/api/v1/source"


def test_a_source_is_created_with_its_destinations_or_not_at_all(hookline, receiver) -> None:
    with hookline.client() as admin:
        bad_url = {
            "name": "x",
            "type": "generic-webhook",
            "destinations": [{"url": receiver.url()}, {"url": "ftp://x"}],
        }
        refused = admin.post(ROOT, json=bad_url)
        assert refused.status_code == 422 and "destinations" in refused.text, refused.text
        bad_filter = {
            "name": "x",
            "type": "generic-webhook",
            "destinations": [{"url": receiver.url()}, {"url": receiver.url(), "filter": {"payload": {"$nope": 1}}}],
        }
        refused = admin.post(ROOT, json=bad_filter)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"][:3] == ["body", "destinations", "1"], refused.text
        assert admin.get(ROOT).json()["data"] == []

        made = admin.post(
            ROOT,
            json={
                "name": "gh",
                "type": "generic-webhook",
                "destinations": [{"url": receiver.url("/a")}, {"url": receiver.url("/b"), "eventTypes": ["push"]}],
            },
        )
        assert made.status_code == 201, made.text
        listed = admin.get(f"{ROOT}/{made.json()['id']}/endpoint").json()["data"]
        assert [(d["url"], d["eventTypes"]) for d in listed] == [
            (receiver.url("/a"), None),
            (receiver.url("/b"), ["push"]),
        ]
        # The ordinary create of the svix SDK, without destinations, is as it was.
        assert admin.post(ROOT, json={"name": "plain", "type": "generic-webhook"}).status_code == 201
        assert len(admin.get(ROOT).json()["data"]) == 2


def test_a_wrong_method_at_an_ingest_url_says_which_are_allowed(hookline) -> None:
    with hookline.client() as admin:
        made = admin.post(ROOT, json={"name": "x", "type": "generic-webhook"})
        url = hookline.url + "/in/" + made.json()["ingestUrl"].rsplit("/in/", 1)[1]
    for method in ("GET", "HEAD", "DELETE"):
        answer = httpx.request(method, url + "/below")
        assert answer.status_code == 405, answer.text
        assert answer.headers["allow"] == "POST, PUT, PATCH"
    assert httpx.get(url).headers["allow"] == "POST, PUT, PATCH"


def test_patch_changes_any_field_of_a_source_and_keeps_the_rest(hookline) -> None:
    """PATCH took only allowedIps and rateLimit: a name or a response was refused as a field
    hookline does not support."""
    with hookline.client() as admin:
        made = admin.post(
            ROOT,
            json={"name": "x", "uid": "x", "type": "generic-webhook", "config": {"apiKey": {"key": "k1"}}},
        ).json()
        url = hookline.url + "/in/" + made["ingestUrl"].rsplit("/in/", 1)[1]
        path = f"{ROOT}/{made['id']}"
        response = {"statusCode": 202, "contentType": "text/xml", "body": "<Response/>"}
        patched = admin.patch(path, json={"name": "renamed", "response": response, "metadata": {"team": "a"}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["name"] == "renamed" and patched.json()["response"] == response
        assert patched.json()["uid"] == "x" and patched.json()["metadata"] == {"team": "a"}
        answer = httpx.post(url, content=b"hi", headers={"X-API-Key": "k1"})
        assert (answer.status_code, answer.text) == (202, "<Response/>")

        # A new config (its secret) for the same type; then a new type, whose config must fit it.
        assert admin.patch(path, json={"config": {"apiKey": {"key": "k2"}}}).status_code == 200
        assert httpx.post(url, content=b"one", headers={"X-API-Key": "k1"}).status_code == 401
        assert httpx.post(url, content=b"two", headers={"X-API-Key": "k2"}).status_code == 202
        refused = admin.patch(path, json={"type": "github"})
        assert refused.status_code == 422 and "config.apiKey" in refused.text, refused.text
        changed = admin.patch(path, json={"type": "github", "config": {}, "response": None, "uid": None})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["type"], changed.json()["response"], changed.json()["uid"]) == ("github", None, None)
        assert httpx.post(url, content=b"three").json()["status"] == "accepted"
        assert admin.get(path).json()["name"] == "renamed"

        for body, field in (({"name": None}, "name"), ({"config": None}, "config"), ({"ingestUrl": "x"}, "ingestUrl")):
            refused = admin.patch(path, json=body)
            assert refused.status_code == 422 and field in refused.text, refused.text
        assert "cannot be null" in admin.patch(path, json={"name": None}).text
