"""One verifier per provider, each following that provider's documented scheme."""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TypeAlias

from hookline.receiver.generic import ApiKeyScheme, verify_basic_auth
from hookline.receiver.providers.discord import verify_discord
from hookline.receiver.providers.github import verify_github
from hookline.receiver.providers.hubspot import verify_hubspot
from hookline.receiver.providers.linear import verify_linear
from hookline.receiver.providers.mailgun import verify_mailgun
from hookline.receiver.providers.paddle import verify_paddle
from hookline.receiver.providers.sendgrid import verify_sendgrid
from hookline.receiver.providers.shopify import verify_shopify
from hookline.receiver.providers.slack import verify_slack
from hookline.receiver.providers.square import verify_square
from hookline.receiver.providers.stripe import verify_stripe
from hookline.receiver.providers.twilio import verify_twilio
from hookline.receiver.providers.typeform import verify_typeform
from hookline.receiver.providers.zoom import verify_zoom
from hookline.receiver.request import SignedRequest
from hookline.receiver.standard import verify_standard

Verifier: TypeAlias = Callable[[SignedRequest], None]

PROVIDERS: Mapping[str, Verifier] = MappingProxyType(
    {
        "standard-webhooks": verify_standard,
        "svix": verify_standard,
        "stripe": verify_stripe,
        "github": verify_github,
        "shopify": verify_shopify,
        "slack": verify_slack,
        "twilio": verify_twilio,
        "paddle": verify_paddle,
        "square": verify_square,
        "hubspot": verify_hubspot,
        "mailgun": verify_mailgun,
        "sendgrid": verify_sendgrid,
        "discord": verify_discord,
        "linear": verify_linear,
        "zoom": verify_zoom,
        "typeform": verify_typeform,
        "basic-auth": verify_basic_auth,
        "api-key": ApiKeyScheme(),
    }
)

__all__ = ["PROVIDERS", "Verifier"]
