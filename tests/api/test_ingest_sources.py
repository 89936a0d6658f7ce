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
