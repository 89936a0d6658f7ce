"""Discord interactions: ``X-Signature-Ed25519: <hex>``, ``X-Signature-Timestamp``.

Ed25519 over timestamp + raw body; the secret is the application's public key
in hex. Discord documents no timestamp window, and its library checks none
(discord-interactions ``verify_key``): only an explicit ``tolerance`` applies.
"""

from hookline.receiver.crypto import ed25519_key, ed25519_valid, hexdecode
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest


def verify_discord(request: SignedRequest) -> None:
    key = ed25519_key(hexdecode(request.secret, "Discord public key"), "Discord public key")
    signature = hexdecode(request.headers.require("x-signature-ed25519"), "Discord signature")
    stamp = request.headers.require("x-signature-timestamp")
    request.check_timestamp(parse_timestamp(stamp, "X-Signature-Timestamp"), default=None)
    if not ed25519_valid(key, signature, stamp.encode() + request.body):
        raise WebhookVerificationError("Discord signature does not match")
