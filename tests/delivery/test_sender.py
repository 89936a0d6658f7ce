"""What one attempt sends: custom headers under the ones hookline sets."""

from hookline.delivery.sender import merge_custom, request_headers
from hookline.domain.signing import generate_secret


def test_headers_hookline_sets_win_over_custom_ones_stored_before_they_were_refused() -> None:
    secret = generate_secret()
    stored = {"webhook-id": "spoofed", "HOST": "internal.example", "Content-Type": "text/plain", "X-Team": "pay"}
    added = {"x-team": "payments", "Svix-Signature": "v1,forged"}  # a transformation's
    headers = request_headers("msg_1", 1_700_000_000, b"{}", [secret], "both", merge_custom(stored, added))
    lowered = {k.lower(): v for k, v in headers.items()}
    assert len(lowered) == len(headers)  # no name twice
    assert lowered["webhook-id"] == lowered["svix-id"] == "msg_1"
    assert lowered["content-type"] == "application/json" and "host" not in lowered
    assert lowered["x-team"] == "payments"
    assert lowered["svix-signature"] == lowered["webhook-signature"]
    assert lowered["webhook-signature"].startswith("v1,") and "forged" not in lowered["webhook-signature"]


def test_a_forwarded_request_keeps_its_senders_user_agent_and_never_its_signature_names() -> None:
    secret = generate_secret()
    forwarded = {"User-Agent": "Stripe/1.0", "webhook-id": "theirs", "Host": "in.example", "X-Team": "pay"}
    headers = request_headers("msg_1", 1_700_000_000, b"{}", [secret], "webhook", {}, forwarded=forwarded)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert len(lowered) == len(headers)
    assert lowered["user-agent"] == "Stripe/1.0" and lowered["x-team"] == "pay"
    assert lowered["webhook-id"] == "msg_1" and "host" not in lowered
    published = request_headers("msg_2", 1_700_000_000, b"{}", [secret], "webhook", {})
    assert published["User-Agent"].startswith("hookline/")
