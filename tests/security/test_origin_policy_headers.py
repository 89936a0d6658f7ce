"""Some headers set a policy the browser keeps for the whole origin once one answer states it, and
the sandbox a capture URL's answer has does not stop them. Capture URLs answer on hookline's own
origin, with headers a tenant (a bin's configured answer) or a developer's local server (relayed
by ``hookline listen``) chose: ``Strict-Transport-Security: max-age=0`` made an operator's browser
forget hookline's HSTS (hookline even left its own out, seeing one there), so the dashboard could
then be reached over plain http; ``NEL`` with ``Report-To`` had the browser report the origin's
requests, the dashboard's addresses among them, to the tenant's collector for a year; ``Alt-Svc``
said where the origin's later requests go. Like ``Set-Cookie`` (tests/security/
test_own_origin_answers.py), a bin may not carry them and a relay drops them."""

import httpx
import pytest
from tests.cli.test_listen import connected, listening, local_receiver, server_on
from tests.support.servers import Hookline, free_port

POLICIES = {
    "Strict-Transport-Security": "max-age=0",
    "Alt-Svc": 'h2=":8443"; ma=2592000',
    "NEL": '{"report_to": "t", "max_age": 31536000, "include_subdomains": true, "success_fraction": 1.0}',
    "Report-To": '{"group": "t", "max_age": 31536000, "endpoints": [{"url": "https://collector.example/r"}]}',
    "Accept-CH": "Sec-CH-UA-Platform-Version, Sec-CH-UA-Model",
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_bin_cannot_set_a_policy_for_hooklines_origin(hookline: Hookline, name: str) -> None:
    with hookline.client() as admin:
        assert admin.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
        token = admin.post("/api/v1/auth/app-portal-access/acme", json={}).json()["token"]
    response = {"contentType": "text/html", "body": "<h1>hi</h1>", "headers": [[name, POLICIES[name]]]}
    with hookline.client(token) as tenant:
        refused = tenant.post("/api/v1/inspect", json={"response": response})
        assert refused.status_code == 422, refused.text
        (problem,) = refused.json()["detail"]
        assert problem["loc"][:3] == ["body", "response", "headers"] and name in problem["msg"]
        made = tenant.post("/api/v1/inspect", json={})
        assert made.status_code == 201, made.text
        patched = tenant.patch(f"/api/v1/inspect/{made.json()['id']}", json={"response": response})
        assert patched.status_code == 422, patched.text


def test_a_relayed_answer_over_https_keeps_hooklines_own_hsts_and_no_other_policy(database_url: str) -> None:
    port = free_port()
    # Behind a TLS-terminating proxy (X-Forwarded-Proto believed), as hookline is deployed.
    with server_on(database_url, port, proxy_headers=True) as hl, local_receiver() as local:
        local.answer_headers = {"X-Local": "yes", **POLICIES}
        with listening(hl.url, local.url()) as listen:
            bin_ = listen.ready
            connected(hl, bin_["bin"])
            resp = httpx.post(bin_["url"], content=b"{}", headers={"X-Forwarded-Proto": "https"}, timeout=60)
    assert resp.status_code == 201 and resp.headers["x-local"] == "yes", resp.headers
    assert resp.headers.get_list("strict-transport-security") == ["max-age=31536000"]
    for name in POLICIES:
        if name != "Strict-Transport-Security":
            assert name.lower() not in resp.headers, name
