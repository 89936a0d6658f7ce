"""The inbound source pages' forms: how each is named on its page, what it posts read into what
the ingest schemas and use-cases take (a source's ``config``, a destination's fields), and the
short "paste this into the provider" hint each provider type gets (docs/receiving.md, "Per
provider: what to paste where", has the long one)."""

from typing import Any

from hookline.services import ingest_config
from hookline.ui.appforms import csv, endpoint_fields
from hookline.ui.forms import BadForm, Field, Form

GENERIC = ingest_config.GENERIC
VERIFICATIONS = {"none": "None", "hmac": "HMAC signature", "basic-auth": "Basic auth", "api-key": "API key"}

# How a config error's location (``config.hmac.header``) names the field of these forms.
_VERIFY_FIELDS = {
    "verification": Field("Verification", "The verification"),
    "secret": Field("Signing secret", "The signing secret", api=("config.secret", "config.hmac.secret")),
    "hmac_header": Field("Signature header", "The signature header", api=("config.hmac.header",)),
    "hmac_algorithm": Field("Algorithm", "The algorithm", api=("config.hmac.algorithm",)),
    "hmac_encoding": Field("Encoding", "The encoding", api=("config.hmac.encoding",)),
    "hmac_prefix": Field("Signature prefix", "The signature prefix", api=("config.hmac.prefix",)),
    "username": Field("Username", "The username", api=("config.basicAuth.username",)),
    "password": Field("Password", "The password", api=("config.basicAuth.password",)),
    "api_key": Field("API key", "The API key", api=("config.apiKey.key",)),
    "api_key_header": Field("API key header", "The API key header", api=("config.apiKey.header",)),
    "api_key_prefix": Field("API key prefix", "The API key prefix", api=("config.apiKey.prefix",)),
}
_DESTINATION_URL = Field("First destination URL", "The destination URL", example="https://crm.example.org/webhooks")
NEW_SOURCE = Form(
    "new-source",
    {
        "name": Field("Name", "The name"),
        "type": Field("Provider", "The provider type"),
        **_VERIFY_FIELDS,
        "destination": Field(
            _DESTINATION_URL.label,
            _DESTINATION_URL.subject,
            api=("destinations.0.url",),
            example=_DESTINATION_URL.example,
        ),
    },
    "Not created",
)
VERIFICATION = Form("verification", _VERIFY_FIELDS)
_DESTINATION_FIELDS = {
    "url": Field("URL", "The URL", example="https://crm.example.org/webhooks"),
    "event_types": Field(
        "Only these event types", "Event type names", api=("eventTypes", "filterTypes"), items="event types"
    ),
    "path_forwarding": Field("Path forwarding", "Path forwarding", api=("pathForwardingDisabled",)),
}
NEW_DESTINATION = Form("new-destination", _DESTINATION_FIELDS, "Not added")
_EDIT_FIELDS = {
    "url": _DESTINATION_FIELDS["url"],
    "description": Field("Description", "The description"),
    "event_types": _DESTINATION_FIELDS["event_types"],
    "throttle_rate": Field(
        "Throttle", "The throttle", api=("throttleRate", "rateLimit"), empty="leave it empty for no limit"
    ),
    "path_forwarding": _DESTINATION_FIELDS["path_forwarding"],
    "disabled": Field("Disabled", "Disabled"),
}
REMOVE_DESTINATION = Form("remove-destination", refused="Not removed")
ROTATE_TOKEN = Form("rotate-token", refused="Not rotated")
DELETE_SOURCE = Form("delete-source", refused="Not deleted")

# The provider types as the select shows them; a type missing here shows as its name.
NAMES = {
    GENERIC: "Any sender (generic webhook)",
    "github": "GitHub",
    "stripe": "Stripe",
    "slack": "Slack",
    "shopify": "Shopify",
    "zoom": "Zoom",
    "twilio": "Twilio",
    "hubspot": "HubSpot",
    "paddle": "Paddle",
    "square": "Square",
    "mailgun": "Mailgun",
    "sendgrid": "SendGrid",
    "discord": "Discord",
    "linear": "Linear",
    "typeform": "Typeform",
    "svix": "Svix",
    "clerk": "Clerk",
    "resend": "Resend",
    "brex": "Brex",
    "lithic": "Lithic",
    "open-ai": "OpenAI",
    "render": "Render",
    "replicate": "Replicate",
    "incident-io": "incident.io",
    "safebase": "SafeBase",
}
_STANDARD = "The sender's webhook settings: URL = this URL. The signing secret is the one it shows there (whsec_…)."
HINTS = {
    GENERIC: "Give it this URL, and the same secret, credentials or API key as set here.",
    "github": "Repository or organisation → Settings → Webhooks → Add webhook: Payload URL = this URL, "
    "Content type = application/json, Secret = the source's signing secret.",
    "stripe": "Developers → Webhooks → Add endpoint: Endpoint URL = this URL. Then put the endpoint's "
    "Signing secret (whsec_…) under Verification below.",
    "slack": "api.slack.com → your app → Event Subscriptions: Request URL = this URL (hookline answers the "
    "challenge); the same URL under Interactivity and Slash Commands for those. The Signing Secret is "
    "under Basic Information.",
    "shopify": "Settings → Notifications → Webhooks, or your app's webhook subscription: URL = this URL. The "
    "signing secret is the app's client secret, or the key shown under the webhooks list.",
    "zoom": "Marketplace → your app → Feature → Event Subscriptions: Event notification endpoint URL = this URL "
    "(hookline answers the validation). The signing secret is the app's Secret Token.",
    "twilio": "Console → Phone Numbers → your number: “A message comes in” = this URL, HTTP POST. The signing "
    "secret is the account's Auth Token; Twilio must call exactly this URL.",
    "hubspot": "Developer account → your app → Webhooks: Target URL = this URL. The signing secret is the "
    "app's client secret.",
}


def edit_destination(endpoint_id: str) -> Form:
    """The edit form of one destination: each destination on the page has its own, so that a
    refused edit comes back under the destination it was about."""
    return Form(f"edit-destination-{endpoint_id}", _EDIT_FIELDS)


def name_of(source_type: str) -> str:
    return NAMES.get(source_type, source_type)


def paste_into(source_type: str) -> str:
    """Where the ingest URL goes, as "Paste this into …" ends."""
    return "the sender's webhook settings" if source_type == GENERIC else name_of(source_type)


def types() -> list[tuple[str, str]]:
    """The supported types as the select offers them: any sender first, then providers by name."""
    providers = sorted((t for t in ingest_config.TYPES if t != GENERIC), key=lambda t: name_of(t).lower())
    return [(t, name_of(t)) for t in (GENERIC, *providers)]


def hint(source_type: str) -> str:
    """Where the ingest URL goes in the provider's settings, in a sentence or two."""
    if source_type in HINTS:
        return HINTS[source_type]
    if ingest_config.VERIFIERS.get(source_type) == "standard-webhooks":
        return _STANDARD
    return "The provider's webhook settings: URL = this URL. Its signing key is the signing secret."


def config(source_type: str, form: dict[str, str]) -> dict[str, Any]:
    """The verification fields as the type's ``config`` (services.ingest_config checks it): a
    provider's signing secret, or a generic webhook's chosen scheme. Fields of another type or
    scheme, hidden on the page, are left out."""
    secret = form.get("secret", "").strip()
    if source_type != GENERIC:
        return {"secret": secret} if secret else {}
    chosen = form.get("verification", "none")
    if chosen == "none":
        return {}
    if chosen == "hmac":
        hmac = {
            "secret": secret,
            "header": form.get("hmac_header", "").strip(),
            "algorithm": form.get("hmac_algorithm") or "sha256",
            "encoding": form.get("hmac_encoding") or "hex",
        }
        # Set with the API, kept by the page as hidden fields when the secret changes.
        for name, field_name in (
            ("prefix", "hmac_prefix"),
            ("template", "hmac_template"),
            ("timestampHeader", "hmac_timestamp"),
        ):
            if form.get(field_name):
                hmac[name] = form[field_name]
        return {"hmac": hmac}
    if chosen == "basic-auth":
        return {"basicAuth": {"username": form.get("username", "").strip(), "password": form.get("password", "")}}
    if chosen == "api-key":
        key: dict[str, str] = {"key": form.get("api_key", "").strip()}
        if form.get("api_key_header", "").strip():
            key["header"] = form["api_key_header"].strip()
        if form.get("api_key_prefix"):
            key["prefix"] = form["api_key_prefix"]
        return {"apiKey": key}
    raise BadForm("verification", "Choose how requests are verified: none, HMAC signature, basic auth or API key.")


def new_config(source_type: str, form: dict[str, str]) -> dict[str, Any]:
    """A source page's verification form as the type's whole new ``config`` (``config``), which
    must hold a secret where the source would otherwise wait for one: that form changes the
    secret, so an empty field is a secret not typed yet, not one to remove."""
    found = config(source_type, form)
    if ingest_config.awaiting_secret(source_type, found):
        raise BadForm("secret", f"Type the signing secret: {name_of(source_type)} shows it once it has the URL.")
    return found


def verification_of(source_type: str, shown: dict[str, Any]) -> dict[str, str]:
    """The verification form's values for a source's config as shown (``ingest_config.public``:
    no secret, password or key), so that changing the secret keeps the rest as it is."""
    values = {"verification": "none"}
    if source_type != GENERIC:
        return values
    if "hmac" in shown:
        hmac = shown["hmac"]
        values.update(
            verification="hmac",
            hmac_header=str(hmac.get("header", "")),
            hmac_algorithm=str(hmac.get("algorithm", "sha256")),
            hmac_encoding=str(hmac.get("encoding", "hex")),
            hmac_prefix=str(hmac.get("prefix", "")),
            hmac_template=str(hmac.get("template", "")),
            hmac_timestamp=str(hmac.get("timestampHeader", "")),
        )
    elif "basicAuth" in shown:
        values.update(verification="basic-auth", username=str(shown["basicAuth"].get("username", "")))
    elif "apiKey" in shown:
        key = shown["apiKey"]
        values.update(
            verification="api-key",
            api_key_header=str(key.get("header", "")),
            api_key_prefix=str(key.get("prefix", "")),
        )
    return values


def verified_by(source_type: str, shown: dict[str, Any], *, has_secret: bool, awaiting: bool = False) -> str:
    """How the source checks what it receives, in a sentence (``shown``: its config without secrets;
    ``awaiting``: it waits for its signing secret, ``ingest_config.awaiting_secret``)."""
    if awaiting:
        return (
            f"No signing secret yet: each request is kept and {name_of(source_type)} is told it failed (401), "
            "so it tries again later; nothing is forwarded until you add the secret."
        )
    if source_type != GENERIC:
        if has_secret:
            return f"Each request must carry a valid {name_of(source_type)} signature, made with the signing secret."
        return "No signing secret: requests are not verified, so anyone who knows the URL can post to it."
    if "hmac" in shown:
        hmac = shown["hmac"]
        algorithm = str(hmac.get("algorithm", "sha256")).upper()
        return f"Each request must carry an HMAC-{algorithm} signature in the {hmac.get('header')} header."
    if "basicAuth" in shown:
        return f"Each request must carry basic auth credentials, user {shown['basicAuth'].get('username')}."
    if "apiKey" in shown:
        return f"Each request must carry the API key, in the {shown['apiKey'].get('header') or 'X-API-Key'} header."
    return "None: requests are not verified, so anyone who knows the URL can post to it."


def destination_fields(form: dict[str, str]) -> dict[str, Any]:
    """The add-destination form as the ingest API's destination schema takes it. The checkbox
    follows a hidden ``off``: unticked, the form posts ``off``; ticked, ``on`` comes last and wins."""
    return {
        "url": form.get("url", "").strip(),
        "event_types": csv(form.get("event_types", "")),
        "path_forwarding_disabled": form.get("path_forwarding", "on") == "off",
    }


def destination_changes(form: dict[str, str]) -> dict[str, Any]:
    """The edit-destination form as the ingest API's destination PATCH takes it. The form shows
    every field it has, so each is given: an empty throttle or list of event types removes it.
    Channels are not on the form and stay as they are. Checkboxes as ``destination_fields``."""
    fields = endpoint_fields(form)
    del fields["channels"]
    fields.setdefault("throttle_rate", None)
    fields["path_forwarding_disabled"] = form.get("path_forwarding", "on") == "off"
    fields["disabled"] = form.get("disabled", "off") == "on"
    return fields
