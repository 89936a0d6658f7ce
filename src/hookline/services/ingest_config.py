"""What a source's ``type`` and ``config`` mean: the checks on them, and the verifier they make.

Types and config field names are Svix Ingest's (the svix SDK's ``IngestSourceIn``); hookline adds
the providers its receiver library verifies that Svix lists under other names or not at all.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.errors import Invalid
from hookline.receiver import PROVIDERS, ApiKeyScheme, HmacScheme, SignedRequest, verify
from hookline.receiver.errors import WebhookVerificationError

# Svix Ingest types whose senders sign as Standard Webhooks (the SDK's ``SvixConfig``).
_STANDARD = (
    "svix",
    "beehiiv",
    "brex",
    "clerk",
    "guesty",
    "incident-io",
    "lithic",
    "nash",
    "pleo",
    "psi-fi",
    "replicate",
    "resend",
    "safebase",
    "sardine",
    "stych",
    "open-ai",
    "render",
)
# Type -> the receiver library's verifier. Svix's own names first, then hookline's additions.
VERIFIERS: dict[str, str] = {
    **dict.fromkeys(_STANDARD, "standard-webhooks"),
    "github": "github",
    "hubspot": "hubspot",
    "shopify": "shopify",
    "slack": "slack",
    "stripe": "stripe",
    "zoom": "zoom",
    "twilio": "twilio",
    "paddle": "paddle",
    "square": "square",
    "mailgun": "mailgun",
    "sendgrid": "sendgrid",
    "discord": "discord",
    "linear": "linear",
    "typeform": "typeform",
}
# Svix makes the secret optional for these: without one, requests are not verified (the
# dashboard's form says so beside the field).
SECRET_OPTIONAL = frozenset({"github", "hubspot"})
# The other providers may be made before their secret is known: Stripe shows it only once it has
# the ingest URL, which exists only once the source does. Until it is added the source waits for
# it: every request is stored as failing verification (the provider retries) and none is
# forwarded. A generic webhook's secret is one the user chooses, so there is nothing to wait for.
WAITS_FOR_SECRET = frozenset(VERIFIERS) - SECRET_OPTIONAL
# Why a request to such a source was refused, as stored and answered.
WAITING = "this source has no signing secret yet: add it, then verify again"
GENERIC = "generic-webhook"
TYPES = (GENERIC, *VERIFIERS)

_HMAC_FIELDS = {"secret", "header", "algorithm", "encoding", "prefix", "template", "timestampHeader"}


def _field(*path: str) -> list[str]:
    return ["body", "config", *path]


def _string(config: dict[str, Any], name: str, *path: str, required: bool = True) -> str | None:
    value = config.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Invalid(_field(*path, name), f"config.{'.'.join([*path, name])} must be a non-empty string")
    return value


def _only(config: Any, allowed: set[str], *path: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise Invalid(_field(*path), "config must be an object")
    for key in config:
        if key not in allowed:
            where = ".".join([*path, key])
            raise Invalid(_field(*path, key), f"config.{where} is not a field of this type's config")
    return config


def check(source_type: str, config: Any) -> dict[str, Any]:
    """The config, checked for ``source_type``; Invalid names the field that is wrong."""
    if source_type not in TYPES:
        raise Invalid(["body", "type"], f"type {source_type!r} is not supported; supported: {', '.join(TYPES)}")
    if source_type != GENERIC:
        config = _only(config, {"secret"})
        # Left out, it is optional (SECRET_OPTIONAL) or awaited (WAITS_FOR_SECRET); given, it must be one.
        _string(config, "secret", required=False)
        return dict(config)
    config = _only(config, {"hmac", "basicAuth", "apiKey"})
    if len(config) > 1:
        raise Invalid(_field(), "config takes at most one of hmac, basicAuth, apiKey")
    if "hmac" in config:
        hmac = _only(config["hmac"], _HMAC_FIELDS, "hmac")
        _string(hmac, "secret", "hmac")
        _string(hmac, "header", "hmac")
        # Each is text the verifier uses as such: a number or a list got past, then failed
        # every signed request with a 500.
        for name in ("algorithm", "encoding", "template", "timestampHeader"):
            _string(hmac, name, "hmac", required=False)
        if not isinstance(hmac.get("prefix", ""), str):
            raise Invalid(_field("hmac", "prefix"), "config.hmac.prefix must be a string")
        try:
            _hmac_scheme(hmac)
        except (ValueError, TypeError) as exc:
            raise Invalid(_field("hmac"), f"config.hmac: {exc}") from exc
    if "basicAuth" in config:
        basic = _only(config["basicAuth"], {"username", "password"}, "basicAuth")
        _string(basic, "username", "basicAuth")
        _string(basic, "password", "basicAuth")
    if "apiKey" in config:
        key = _only(config["apiKey"], {"header", "prefix", "key"}, "apiKey")
        _string(key, "key", "apiKey")
        _string(key, "header", "apiKey", required=False)
        if not isinstance(key.get("prefix", ""), str):
            raise Invalid(_field("apiKey", "prefix"), "config.apiKey.prefix must be a string")
    return dict(config)


def _hmac_scheme(hmac: dict[str, Any]) -> HmacScheme:
    return HmacScheme(
        header=hmac["header"],
        algorithm=hmac.get("algorithm", "sha256"),
        encoding=hmac.get("encoding", "hex"),
        prefix=hmac.get("prefix", ""),
        template=hmac.get("template", "{body}"),
        timestamp_header=hmac.get("timestampHeader"),
    )


def public(source_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as shown: every secret left out (Svix's ``*ConfigOut`` show none)."""
    if source_type != GENERIC:
        return {}
    shown: dict[str, Any] = {}
    for scheme, values in config.items():
        shown[scheme] = {k: v for k, v in values.items() if k not in ("secret", "password", "key")}
    return shown


def awaiting_secret(source_type: str, config: Mapping[str, Any]) -> bool:
    """Whether the source waits for its signing secret: nothing it receives is forwarded until then."""
    return source_type in WAITS_FOR_SECRET and not config.get("secret")


@dataclass(frozen=True, slots=True)
class Check:
    """How one source verifies: ``run`` raises WebhookVerificationError on a bad request."""

    run: Callable[[list[tuple[str, str]], bytes, str, str, float | None], None]
    secret: str | None
    # Credentials a sender put in headers for hookline: never passed on.
    private_headers: frozenset[str] = frozenset()


def _none(headers: list[tuple[str, str]], body: bytes, url: str, method: str, now: float | None) -> None:
    return None


def _awaiting(headers: list[tuple[str, str]], body: bytes, url: str, method: str, now: float | None) -> None:
    raise WebhookVerificationError(WAITING)


def verifier(source_type: str, config: dict[str, Any]) -> Check:
    if source_type in VERIFIERS:
        secret = config.get("secret")
        if not secret:
            # No request passes a source that waits for its secret: each is refused as a failed
            # verification, so it is stored to verify again, and no handshake is answered.
            return Check(_awaiting if source_type in WAITS_FOR_SECRET else _none, None)
        name = VERIFIERS[source_type]

        def run(headers: list[tuple[str, str]], body: bytes, url: str, method: str, now: float | None) -> None:
            verify(name, secret=secret, headers=headers, body=body, url=url, method=method, now=now)

        return Check(run, secret)
    if "hmac" in config:
        scheme = _hmac_scheme(config["hmac"])
        return _scheme_check(scheme, config["hmac"]["secret"], frozenset())
    if "basicAuth" in config:
        basic = config["basicAuth"]
        return _scheme_check(PROVIDERS["basic-auth"], f"{basic['username']}:{basic['password']}", frozenset())
    if "apiKey" in config:
        key = config["apiKey"]
        header = key.get("header") or "x-api-key"
        return _scheme_check(ApiKeyScheme(header, key.get("prefix", "")), key["key"], frozenset({header.lower()}))
    return Check(_none, None)


def _scheme_check(scheme: Callable[[SignedRequest], None], secret: str, private: frozenset[str]) -> Check:
    def run(headers: list[tuple[str, str]], body: bytes, url: str, method: str, now: float | None) -> None:
        verify(scheme, secret=secret, headers=headers, body=body, url=url, method=method, now=now)

    return Check(run, secret, private)


__all__ = [
    "GENERIC",
    "SECRET_OPTIONAL",
    "TYPES",
    "VERIFIERS",
    "WAITING",
    "WAITS_FOR_SECRET",
    "Check",
    "WebhookVerificationError",
    "awaiting_secret",
    "check",
    "public",
    "verifier",
]
