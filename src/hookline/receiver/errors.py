"""The one exception family the receiver raises for untrusted input."""


class WebhookVerificationError(Exception):
    """The request is not an authentic, fresh webhook (or could not be read as one).

    ``status_code`` is the HTTP status a receiving endpoint should answer with.
    """

    status_code = 401


class WebhookPayloadError(WebhookVerificationError):
    """The request is authentic but its body cannot be parsed as the event."""

    status_code = 400


class WebhookReplayError(WebhookVerificationError):
    """The webhook id was already seen within the replay window."""

    status_code = 409
