"""Flask, through its real test client."""

from typing import Any

import pytest
import redis
from flask import Flask

from hookline.domain.signing import generate_secret
from hookline.receiver import AsyncRedisReplayGuard, RedisReplayGuard, Webhook
from hookline.receiver.integrations.flask import verified_webhook

from .helpers import hmac_b64, hmac_hex

SECRET = "shop-secret"
BODY = b'{"id": 820982911946154508, "email": "jon@example.com"}'


def make_app(provider: str) -> tuple[Flask, list[Any]]:
    app = Flask(__name__)
    calls: list[Any] = []

    @app.post("/hooks/<source>")
    @verified_webhook(provider, secret=SECRET)
    def receive(event: Any, source: str) -> dict[str, Any]:
        calls.append(event)
        return {"source": source, "got": event}

    return app, calls


def shopify_headers(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": hmac_b64(secret, body), "Content-Type": "application/json"}


def test_decorated_view_gets_the_event_and_url_arguments() -> None:
    app, calls = make_app("shopify")
    response = app.test_client().post("/hooks/shopify", data=BODY, headers=shopify_headers())
    assert len(calls) == 1
    assert response.status_code == 200
    assert response.get_json() == {"source": "shopify", "got": {"id": 820982911946154508, "email": "jon@example.com"}}


@pytest.mark.parametrize(
    ("body", "headers", "status", "text"),
    [
        (BODY + b"\n", shopify_headers(), 401, "Shopify signature does not match"),
        (BODY, shopify_headers(secret="x"), 401, "Shopify signature does not match"),
        (BODY, {}, 401, "missing x-shopify-hmac-sha256 header"),
        (b"{", shopify_headers(b"{"), 400, "body is not valid JSON"),
    ],
)
def test_rejections_never_reach_the_view(body: bytes, headers: dict[str, str], status: int, text: str) -> None:
    app, calls = make_app("shopify")
    response = app.test_client().post("/hooks/shopify", data=body, headers=headers)
    assert response.status_code == status
    assert response.get_data(as_text=True).startswith(text)
    assert calls == []


def test_form_posts_reach_twilio_with_the_request_url() -> None:
    app = Flask(__name__)

    @app.post("/sms")
    @verified_webhook("twilio", secret="tw")
    def sms(event: Any) -> dict[str, Any]:
        return {"got": event}

    def signed(url: str) -> dict[str, str]:
        return {"X-Twilio-Signature": hmac_b64("tw", (url + "Bodyhi").encode(), "sha1")}

    client = app.test_client()
    response = client.post("/sms", data={"Body": "hi"}, headers=signed("http://localhost/sms"))
    assert response.status_code == 200
    assert response.get_json() == {"got": {"Body": "hi"}}
    assert client.post("/sms", data={"Body": "hi"}, headers=signed("http://localhost/other")).status_code == 401


def test_redis_replay_guard_and_release_on_failure(redis_client: redis.Redis, redis_prefix: str) -> None:
    secret = generate_secret()
    guard = RedisReplayGuard(redis_client, prefix=redis_prefix)
    app = Flask(__name__)
    calls: list[Any] = []

    @app.post("/hook")
    @verified_webhook("standard-webhooks", secret=lambda: secret, replay_guard=guard)
    def hook(event: Any) -> str:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return "ok"

    import time

    body = b'{"type": "invoice.paid"}'
    ts = int(time.time())
    headers = {
        "webhook-id": "msg_flask",
        "webhook-timestamp": str(ts),
        "webhook-signature": Webhook(secret).sign("msg_flask", ts, body),
    }
    client = app.test_client()
    assert client.post("/hook", data=body, headers=headers).status_code == 500
    assert redis_client.exists(redis_prefix + "standard-webhooks:msg_flask") == 0
    assert client.post("/hook", data=body, headers=headers).status_code == 200
    replay = client.post("/hook", data=body, headers=headers)
    assert (replay.status_code, replay.get_data(as_text=True)) == (
        409,
        "webhook 'standard-webhooks:msg_flask' was already received",
    )
    assert len(calls) == 2


def test_async_guard_is_refused_when_decorating() -> None:
    guard = AsyncRedisReplayGuard(redis.asyncio.Redis())
    with pytest.raises(TypeError, match="synchronous replay guard"):
        verified_webhook("svix", secret="whsec_x", replay_guard=guard)  # type: ignore[arg-type]


def test_github_sha1_legacy_through_flask() -> None:
    app = Flask(__name__)

    @app.post("/gh")
    @verified_webhook("github", secret=SECRET)
    def gh(event: Any) -> dict[str, Any]:
        return {"got": event}

    headers = {"X-Hub-Signature": "sha1=" + hmac_hex(SECRET, BODY, "sha1"), "Content-Type": "application/json"}
    assert app.test_client().post("/gh", data=BODY, headers=headers).status_code == 200
