"""The library surface: what hookline.receiver exports, and that it needs no server deps."""

import subprocess
import sys

import hookline
import hookline.receiver
from hookline.receiver import PROVIDERS

EXPECTED_PROVIDERS = {
    "standard-webhooks", "svix", "stripe", "github", "shopify", "slack", "twilio", "paddle",
    "square", "hubspot", "mailgun", "sendgrid", "discord", "linear", "zoom", "typeform",
    "basic-auth", "api-key",
}  # fmt: skip


def test_lazy_top_level_names_resolve() -> None:
    assert hookline.Webhook is hookline.receiver.Webhook
    assert hookline.WebhookVerificationError is hookline.receiver.WebhookVerificationError
    assert hookline.WebhookPayloadError is hookline.receiver.WebhookPayloadError  # docs/receiving.md names it
    assert hookline.verify is hookline.receiver.verify


def test_every_top_level_name_resolves() -> None:
    assert all(getattr(hookline, name) is not None for name in hookline.__all__)


def test_all_is_explicit_and_complete() -> None:
    exported = set(hookline.receiver.__all__)
    assert {"Webhook", "WebhookVerificationError", "verify"} <= exported
    assert all(hasattr(hookline.receiver, name) for name in exported)


def test_every_required_provider_is_registered() -> None:
    assert set(PROVIDERS) == EXPECTED_PROVIDERS


def test_import_needs_no_server_or_framework_dependencies() -> None:
    code = (
        "import hookline.receiver, sys; "
        "assert 'sqlalchemy' not in sys.modules and 'fastapi' not in sys.modules "
        "and 'aiohttp' not in sys.modules; "
        "assert not {'starlette', 'flask', 'django', 'redis'} & set(sys.modules), sorted(sys.modules); "
        "import hookline; hookline.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
