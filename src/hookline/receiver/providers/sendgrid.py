"""SendGrid (Twilio SendGrid) signed Event Webhook.

``X-Twilio-Email-Event-Webhook-Signature`` is a base64 DER ECDSA P-256/SHA-256
signature over ``X-Twilio-Email-Event-Webhook-Timestamp`` + the raw body. The
secret is the verification key SendGrid shows: base64 of the DER
SubjectPublicKeyInfo. SendGrid documents no timestamp window, and its library
checks none (sendgrid-python ``EventWebhook.verify_signature``): only an
explicit ``tolerance`` applies.
"""

from hookline.receiver.crypto import b64decode, ecdsa_sha256_valid, p256_key
from hookline.receiver.errors import WebhookVerificationError
from hookline.receiver.parsing import parse_timestamp
from hookline.receiver.request import SignedRequest

SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"


def verify_sendgrid(request: SignedRequest) -> None:
    key = p256_key(b64decode(request.secret, "SendGrid verification key"), "SendGrid key")
    signature = b64decode(request.headers.require(SIGNATURE), "SendGrid signature")
    stamp = request.headers.require(TIMESTAMP)
    request.check_timestamp(parse_timestamp(stamp, "SendGrid timestamp"), default=None)
    if not ecdsa_sha256_valid(key, signature, stamp.encode() + request.body):
        raise WebhookVerificationError("SendGrid signature does not match")
