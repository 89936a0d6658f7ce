"""Every Python example in docs/receiving.md, run as written and driven with real signed requests."""

import base64
import json
import re
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from twilio.request_validator import RequestValidator

import hookline

from .helpers import hmac_b64, hmac_hex

with warnings.catch_warnings():
    # Starlette's TestClient prefers the httpx2 package and warns when it runs on httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

DOC = Path(__file__).parents[2] / "docs" / "receiving.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PAYLOAD = b'{"invoice": "in_1", "amount": 4200}'
# What picks out each example; a test below runs each one.
NEEDLES = (
    'hookline.verify(\n            "stripe"',
    "wh = Webhook(",
    "def receive_hookline",
    "from standardwebhooks import",
    "acme = HmacScheme(",
    "guard = MemoryReplayGuard()",
    "replay_key=lambda",
    "from fastapi import Depends, FastAPI",
    "from starlette.applications import Starlette",
    "from flask import Flask",
    "# views.py",
)


def block(needle: str) -> str:
    assert needle in NEEDLES
    [code] = [
        code
        for code in BLOCKS
        if needle in code and not (needle == "def receive_hookline" and "standardwebhooks" in code)
    ]
    return str(code)


def run(code: str, name: str = "docs_example", package: str | None = None) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": name, "__package__": package}
    exec(compile(code, f"{DOC.name}:{name}", "exec"), namespace)
    return namespace


def hookline_headers(body: bytes = PAYLOAD, secret: str = SECRET) -> dict[str, str]:
    now = int(time.time())
    signature = hookline.Webhook(secret).sign("msg_1", now, body)
    return {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": signature}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOOKLINE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET", "ACME_SECRET", "ACME_TOKEN"):
        monkeypatch.setenv(name, SECRET)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "gh-secret")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-token")


def test_one_call_for_every_provider(secrets: None) -> None:
    receive = run(block('hookline.verify(\n            "stripe"'))["receive"]
    now = int(time.time())
    header = f"t={now},v1={hmac_hex(SECRET, f'{now}.'.encode() + PAYLOAD)}"
    assert receive({"Stripe-Signature": header}, PAYLOAD) == (200, "ok")
    assert receive({"Stripe-Signature": header}, PAYLOAD + b" ")[0] == 401


def test_webhook_sign_and_verify() -> None:
    run(block("wh = Webhook("))  # its own asserts check the results


@pytest.mark.parametrize("library", ["import hookline\n", "from standardwebhooks import"])
def test_receiving_hookline_webhooks(secrets: None, library: str, capsys: pytest.CaptureFixture[str]) -> None:
    receive = run(block("from standardwebhooks import" if "standard" in library else "def receive_hookline"))[
        "receive_hookline"
    ]
    assert receive(hookline_headers(), PAYLOAD) == (204, "")
    assert capsys.readouterr().out == "msg_1 {'invoice': 'in_1', 'amount': 4200}\n"
    assert receive(hookline_headers(), PAYLOAD.replace(b"4200", b"1"))[0] == 401
    assert receive(hookline_headers(secret="whsec_" + base64.b64encode(b"k" * 24).decode()), PAYLOAD)[0] == 401


def test_hmac_and_api_key_schemes(secrets: None) -> None:
    receive = run(block("acme = HmacScheme("))["receive_acme"]
    now = str(int(time.time()))
    headers = {
        "X-Acme-Timestamp": now,
        "X-Acme-Signature": "v1=" + hmac_hex(SECRET, f"{now}.".encode() + PAYLOAD),
        "Authorization": f"Bearer {SECRET}",
    }
    receive(headers, PAYLOAD)
    with pytest.raises(hookline.WebhookVerificationError):
        receive({**headers, "Authorization": "Bearer nope"}, PAYLOAD)


def test_replay_guards_and_keys() -> None:
    namespace = run(block("guard = MemoryReplayGuard()"))
    assert type(namespace["guard"]).__name__ == "AsyncRedisReplayGuard"
    replay_key = run(block("replay_key=lambda"))["replay_key"]
    assert replay_key({"x-github-delivery": "d-1"}, b"") == "d-1"


def test_fastapi_receives_hookline_webhooks(secrets: None) -> None:
    app = run(block("from fastapi import Depends, FastAPI"))["app"]
    with TestClient(app) as client:
        answer = client.post("/hooks/hookline", content=PAYLOAD, headers=hookline_headers())
        assert (answer.status_code, answer.json()) == (200, {"received": True})
        forged = client.post("/hooks/hookline", content=PAYLOAD, headers=hookline_headers(secret=SECRET[:-1] + "x"))
        assert forged.status_code == 401


def test_starlette_github(secrets: None, capsys: pytest.CaptureFixture[str]) -> None:
    app = run(block("from starlette.applications import Starlette"))["app"]
    body = json.dumps({"repository": {"full_name": "acme/api"}}).encode()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + hmac_hex("gh-secret", body)}
    with TestClient(app) as client:
        assert client.post("/hooks/github", content=body, headers=headers).status_code == 204
        assert client.post("/hooks/github", content=body + b" ", headers=headers).status_code == 401
    assert capsys.readouterr().out == "push acme/api\n"


def test_flask_twilio(secrets: None, capsys: pytest.CaptureFixture[str]) -> None:
    app = run(block("from flask import Flask"), "docs_flask_example")["app"]
    form = {"From": "+15550001", "Body": "hello"}
    url = "http://localhost/hooks/twilio/sms"
    signature = RequestValidator("twilio-token").compute_signature(url, form)
    client = app.test_client()
    assert client.post(url, data=form, headers={"X-Twilio-Signature": signature}).status_code == 204
    assert (
        client.post(url, data={**form, "Body": "changed"}, headers={"X-Twilio-Signature": signature}).status_code == 401
    )
    assert capsys.readouterr().out == "+15550001 hello\n"


def test_django_shopify(capsys: pytest.CaptureFixture[str]) -> None:
    import django
    from django.conf import settings
    from django.test import RequestFactory, override_settings

    if not settings.configured:  # configured lazily: other Django tests may configure it first
        settings.configure(SECRET_KEY="test-only", ALLOWED_HOSTS=["testserver"], INSTALLED_APPS=[])
        django.setup()
    views_code, urls_code = block("# views.py").split("# urls.py")
    views = run(views_code, "docs_django_example.views")
    package = types.ModuleType("docs_django_example")
    package.__path__ = []
    package.views = types.SimpleNamespace(**views)  # type: ignore[attr-defined]
    sys.modules["docs_django_example"] = package
    try:
        urls = run(urls_code, "docs_django_example.urls", "docs_django_example")
    finally:
        del sys.modules["docs_django_example"]
    assert urls["urlpatterns"][0].callback is views["shopify_order"]

    body = b'{"id": 820982911946154508}'
    headers = {"X-Shopify-Hmac-Sha256": hmac_b64("shop-secret", body), "X-Shopify-Topic": "orders/create"}
    with override_settings(SHOPIFY_WEBHOOK_SECRET="shop-secret"):
        request = RequestFactory().post("/hooks/shopify/orders", body, "application/json", headers=headers)
        assert views["shopify_order"](request).status_code == 204
        forged = RequestFactory().post("/hooks/shopify/orders", body + b" ", "application/json", headers=headers)
        assert views["shopify_order"](forged).status_code == 401
    assert capsys.readouterr().out == "orders/create 820982911946154508\n"


def test_every_example_has_a_test() -> None:
    unclaimed = [code[:60] for code in BLOCKS if not any(needle in code for needle in NEEDLES)]
    assert not unclaimed and len(BLOCKS) == len(NEEDLES), unclaimed
