"""The inbound source pages over HTTP, as the operator posts their forms."""

import hashlib
import hmac
import json
import re

import httpx
from tests.support.servers import Hookline
from tests.ui.support import signed_in


def test_a_replay_that_still_fails_links_back_to_its_source(hookline: Hookline) -> None:
    with hookline.client() as admin:
        made = admin.post("/ingest/api/v1/source", json={"name": "gh", "type": "github", "config": {"secret": "old"}})
        assert made.status_code == 201, made.text
        source = made.json()
    body = json.dumps({"ref": "main"}).encode()
    digest = hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": "push"}
    assert httpx.post(source["ingestUrl"], content=body, headers=headers, timeout=30).status_code == 401
    with signed_in(hookline) as (client, token):
        page = client.get(f"/ui/sources/{source['id']}")
        [action] = re.findall(r'action="(/ui/sources/[^"]+/replay)"', page.text)
        refused = client.post(action, data={"csrf_token": token})
        assert refused.status_code == 409
        assert "the request still fails" in refused.text
        assert f'href="/ui/sources/{source["id"]}" data-testid="error-back"' in refused.text
