"""Twilio: ``X-Twilio-Signature: <base64>``.

HMAC-SHA1 (or HMAC-SHA256 when ``X-Twilio-Webhooks-Signature-Settings`` says
``algorithm=HMAC_SHA256``) keyed with the auth token, over the full request
URL followed by every POST parameter as ``name`` + ``value``, sorted by name
then value. JSON bodies are not signed directly: the URL carries
``bodySHA256=<hex sha256 of the body>`` instead. Twilio's own library checks
the URL both with and without the port, because Twilio's servers are not
consistent about it; so does this.
"""

import hashlib
from urllib.parse import SplitResult, parse_qs, urlsplit

from hookline.receiver.crypto import Algorithm, hmac_text, matches_any
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.payload import form_pairs
from hookline.receiver.request import SignedRequest

_ALGORITHMS: dict[str, Algorithm] = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
_DEFAULT_PORTS = {"https": 443, "http": 80}


def _algorithm(settings: str | None) -> Algorithm:
    """The algorithm named by the signature-settings header; HMAC-SHA1 without one."""
    for part in (settings or "").split(","):
        key, equals, value = part.partition("=")
        if equals and key.strip() == "algorithm" and value.strip():
            name = value.strip().upper()
            if name not in _ALGORITHMS:
                raise WebhookVerificationError(f"unsupported Twilio algorithm {name!r}")
            return _ALGORITHMS[name]
    return "sha1"


def _split(url: str) -> tuple[SplitResult, int | None]:
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError as exc:
        raise WebhookVerificationError(f"invalid URL: {exc}") from exc


def url_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port."""
    parts, port = _split(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport if port is None else hostport.rsplit(":", 1)[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url, parts._replace(netloc=prefix + host).geturl()]
    if port is None and parts.scheme in _DEFAULT_PORTS:
        with_port = f"{prefix}{host}:{_DEFAULT_PORTS[parts.scheme]}"
        variants.append(parts._replace(netloc=with_port).geturl())
    return list(dict.fromkeys(variants))


def _params(request: SignedRequest, query: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The signed parameters; a JSON body is vouched for by ``bodySHA256`` instead."""
    if "bodySHA256" not in query:
        return form_pairs(request.body)
    actual = hashlib.sha256(request.body).hexdigest()
    if not matches_any(actual, query["bodySHA256"][:1]):
        raise WebhookVerificationError("body does not match the bodySHA256 in the URL")
    return []


def signed_text(url: str, params: list[tuple[str, str]]) -> str:
    """The URL, then each distinct parameter name and value, sorted (as Twilio's library)."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


def verify_twilio(request: SignedRequest) -> None:
    signature = request.headers.require("x-twilio-signature")
    algorithm = _algorithm(request.headers.first("x-twilio-webhooks-signature-settings"))
    url = request.require_url("Twilio")
    params = _params(request, parse_qs(_split(url)[0].query))
    expected = [
        hmac_text(request.secret, signed_text(variant, params).encode(), algorithm, "base64")
        for variant in url_variants(url)
    ]
    if not matches_any(signature, expected):
        raise WebhookVerificationError("Twilio signature does not match")
