"""Django, through its real test client with CSRF checks enforced."""

from typing import Any

import django
import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, override_settings
from django.urls import path

from hookline.receiver import MemoryReplayGuard
from hookline.receiver.integrations.django import verified_webhook

from .helpers import hmac_hex

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
        INSTALLED_APPS=[],
    )
    django.setup()

SECRET = "linear-secret"
calls: list[Any] = []


@verified_webhook("linear", secret=lambda: SECRET, tolerance=10**12)
def linear_hook(request: HttpRequest, event: Any, team: str) -> HttpResponse:
    calls.append(event)
    return JsonResponse({"team": team, "type": event["type"], "method": request.method})


@verified_webhook(
    "github",
    secret=SECRET,
    replay_guard=MemoryReplayGuard(),
    replay_key=lambda headers, body: headers.get("x-github-delivery"),
)
def github_hook(request: HttpRequest, event: Any) -> HttpResponse:
    calls.append(event)
    if event.get("fail"):
        raise RuntimeError("handler failed")
    return HttpResponse("ok")


def plain_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("unreachable without a CSRF token")


urlpatterns = [
    path("linear/<str:team>", linear_hook),
    path("github", github_hook),
    path("plain", plain_view),
]

BODY = b'{"action": "create", "type": "Issue", "webhookTimestamp": 1700000000000}'


@pytest.fixture(autouse=True)
def urls() -> Any:
    calls.clear()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"]):
        yield


def client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_csrf_is_enforced_elsewhere_but_the_webhook_is_exempt() -> None:
    assert client().post("/plain", data=BODY, content_type="application/json").status_code == 403
    response = client().post(
        "/linear/eng", data=BODY, content_type="application/json", headers={"Linear-Signature": hmac_hex(SECRET, BODY)}
    )
    assert response.status_code == 200
    assert response.json() == {"team": "eng", "type": "Issue", "method": "POST"}


@pytest.mark.parametrize(
    ("body", "signature", "status", "text"),
    [
        (BODY, hmac_hex("other", BODY), 401, "Linear signature does not match"),
        (BODY.replace(b"Issue", b"Comment"), hmac_hex(SECRET, BODY), 401, "Linear signature does not match"),
        (
            b'{"type": "Issue"}',
            hmac_hex(SECRET, b'{"type": "Issue"}'),
            401,
            "Linear body has no integer webhookTimestamp",
        ),
    ],
)
def test_rejections(body: bytes, signature: str, status: int, text: str) -> None:
    response = client().post(
        "/linear/eng", data=body, content_type="application/json", headers={"Linear-Signature": signature}
    )
    assert (response.status_code, response.content.decode()) == (status, text)
    assert calls == []


def test_linear_default_window_applies_without_override() -> None:
    @verified_webhook("linear", secret=SECRET)
    def strict(request: HttpRequest, event: Any) -> HttpResponse:
        return HttpResponse("ok")

    from django.test import RequestFactory

    request = RequestFactory().post(
        "/x", data=BODY, content_type="application/json", headers={"Linear-Signature": hmac_hex(SECRET, BODY)}
    )
    response = strict(request)
    assert response.status_code == 401
    assert "too old" in response.content.decode()


def test_replay_guard_with_github_delivery_id() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    headers = {"X-Hub-Signature-256": "sha256=" + hmac_hex(SECRET, body), "X-GitHub-Delivery": "d-1"}
    assert client().post("/github", data=body, content_type="application/json", headers=headers).status_code == 200
    replay = client().post("/github", data=body, content_type="application/json", headers=headers)
    assert replay.status_code == 409
    missing = {k: v for k, v in headers.items() if k != "X-GitHub-Delivery"}
    assert client().post("/github", data=body, content_type="application/json", headers=missing).status_code == 401


def test_failed_view_releases_the_id() -> None:
    body = b'{"fail": true}'
    headers = {"X-Hub-Signature-256": "sha256=" + hmac_hex(SECRET, body), "X-GitHub-Delivery": "d-2"}
    with pytest.raises(RuntimeError, match="handler failed"):
        client().post("/github", data=body, content_type="application/json", headers=headers)
    with pytest.raises(RuntimeError, match="handler failed"):
        client().post("/github", data=body, content_type="application/json", headers=headers)
    assert len(calls) == 2


def test_exemption_survives_outer_decorators() -> None:
    from django.views.decorators.http import require_POST

    view = require_POST(linear_hook)
    assert getattr(view, "csrf_exempt", False) is True
