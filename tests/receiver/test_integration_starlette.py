"""FastAPI and plain Starlette, through their real test clients."""

import warnings
from typing import Annotated, Any

import httpx
import pytest
import redis.asyncio
from fastapi import Depends, FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookline.domain.signing import generate_secret
from hookline.receiver import AsyncRedisReplayGuard, MemoryReplayGuard, Webhook
from hookline.receiver.integrations.starlette import VerifiedWebhook

from .conftest import REDIS_URL
from .helpers import hmac_b64, hmac_hex

with warnings.catch_warnings():
    # Starlette 1.10's TestClient prefers the httpx2 package and warns when it runs on httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECRET = "gh-secret"
BODY = b'{"action": "opened", "number": 7}'


def github_headers(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body), "Content-Type": "application/json"}


def fastapi_app(hook: VerifiedWebhook, *, fail_first: bool = False) -> FastAPI:
    app = FastAPI()
    calls: list[Any] = []

    @app.post("/hook")
    async def receive(event: Annotated[Any, Depends(hook)]) -> dict[str, Any]:
        calls.append(event)
        if fail_first and len(calls) == 1:
            raise HTTPException(503, "database down")
        return {"got": event}

    app.state.calls = calls
    return app


def test_fastapi_dependency_returns_the_event() -> None:
    client = TestClient(fastapi_app(VerifiedWebhook("github", secret=SECRET)))
    response = client.post("/hook", content=BODY, headers=github_headers())
    assert response.status_code == 200
    assert response.json() == {"got": {"action": "opened", "number": 7}}


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        (BODY + b" ", github_headers(), 401, "GitHub signature does not match"),
        (BODY, github_headers(secret="nope"), 401, "GitHub signature does not match"),
        (BODY, {"Content-Type": "application/json"}, 401, "missing x-hub-signature-256 or x-hub-signature header"),
        (b"{not json", github_headers(b"{not json"), 400, "body is not valid JSON"),
    ],
)
def test_fastapi_rejections(body: bytes, headers: dict[str, str], status: int, detail: str) -> None:
    app = fastapi_app(VerifiedWebhook("github", secret=SECRET))
    response = TestClient(app).post("/hook", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert app.state.calls == []


def standard_request(webhook: Webhook, msg_id: str, body: bytes = BODY) -> dict[str, str]:
    import time

    ts = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": webhook.sign(msg_id, ts, body),
    }


def test_fastapi_replay_guard_refuses_repeats_and_releases_on_failure() -> None:
    secret = generate_secret()
    hook = VerifiedWebhook("standard-webhooks", secret=lambda: secret, replay_guard=MemoryReplayGuard())
    app = fastapi_app(hook, fail_first=True)
    client = TestClient(app)
    headers = standard_request(Webhook(secret), "msg_replay")
    # The handler fails: the id is released, so the sender's retry is processed.
    assert client.post("/hook", content=BODY, headers=headers).status_code == 503
    assert client.post("/hook", content=BODY, headers=headers).status_code == 200
    replay = client.post("/hook", content=BODY, headers=headers)
    assert replay.status_code == 409
    assert "already received" in replay.json()["detail"]
    assert len(app.state.calls) == 2


def test_guard_without_an_id_is_refused() -> None:
    hook = VerifiedWebhook("github", secret=SECRET, replay_guard=MemoryReplayGuard())
    response = TestClient(fastapi_app(hook)).post("/hook", content=BODY, headers=github_headers())
    assert response.status_code == 401
    assert response.json()["detail"] == "no webhook id to guard against replays"


def test_custom_replay_key() -> None:
    hook = VerifiedWebhook(
        "github",
        secret=SECRET,
        replay_guard=MemoryReplayGuard(),
        replay_key=lambda headers, body: headers.get("x-github-delivery"),
    )
    client = TestClient(fastapi_app(hook))
    headers = github_headers() | {"X-GitHub-Delivery": "72d3162e"}
    assert client.post("/hook", content=BODY, headers=headers).status_code == 200
    assert client.post("/hook", content=BODY, headers=headers).status_code == 409


async def test_fastapi_with_async_redis_guard(redis_prefix: str) -> None:
    secret = generate_secret()
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    guard = AsyncRedisReplayGuard(client, prefix=redis_prefix)
    app = fastapi_app(VerifiedWebhook("svix", secret=secret, replay_guard=guard), fail_first=True)
    headers = standard_request(Webhook(secret), "msg_async")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.post("/hook", content=BODY, headers=headers)).status_code == 503
            assert await client.exists(redis_prefix + "svix:msg_async") == 0
            assert (await http.post("/hook", content=BODY, headers=headers)).status_code == 200
            assert (await http.post("/hook", content=BODY, headers=headers)).status_code == 409
    finally:
        await client.aclose()


def test_url_signing_provider_sees_the_request_url() -> None:
    app = fastapi_app(VerifiedWebhook("twilio", secret="tw-token"))
    body = b"From=%2B1555&Body=hi"
    url = "http://testserver/hook?source=sms"
    signature = hmac_b64("tw-token", (url + "BodyhiFrom+1555").encode(), "sha1")
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    response = TestClient(app).post("/hook?source=sms", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"got": {"From": "+1555", "Body": "hi"}}
    assert TestClient(app).post("/hook?source=other", content=body, headers=headers).status_code == 401


def test_url_override_for_proxies() -> None:
    public = "https://hooks.example.com/square"
    app = fastapi_app(VerifiedWebhook("square", secret="sq", url=public))
    headers = {"x-square-hmacsha256-signature": hmac_b64("sq", public.encode() + BODY)}
    assert TestClient(app).post("/hook", content=BODY, headers=headers).status_code == 200


def starlette_app(hook: VerifiedWebhook) -> Starlette:
    @hook.endpoint
    async def receive(request: Request, event: Any) -> Response:
        return JSONResponse({"path": request.url.path, "got": event})

    return Starlette(routes=[Route("/hook", receive, methods=["POST"])])


def test_plain_starlette_endpoint() -> None:
    client = TestClient(starlette_app(VerifiedWebhook("github", secret=SECRET)))
    ok = client.post("/hook", content=BODY, headers=github_headers())
    assert ok.status_code == 200
    assert ok.json() == {"path": "/hook", "got": {"action": "opened", "number": 7}}
    bad = client.post("/hook", content=BODY, headers=github_headers(secret="x"))
    assert (bad.status_code, bad.text) == (401, "GitHub signature does not match")


def test_unknown_provider_fails_when_configured() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        VerifiedWebhook("gitlab", secret="x")
