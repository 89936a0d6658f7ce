"""Who is looking at an application's pages: the operator (every application, every right) or
a tenant in the portal (its own application, the rights its link granted)."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from hookline.domain.model import Application
from hookline.ui.sessions import Session

VIEW_SECRET = "ViewEndpointSecret"  # noqa: S105 - a capability's name
MANAGE_SECRET = "ManageEndpointSecret"  # noqa: S105 - a capability's name
MANAGE_ENDPOINT = "ManageEndpoint"
CREATE_ATTEMPTS = "CreateAttempts"
EVERYTHING = frozenset({VIEW_SECRET, MANAGE_SECRET, MANAGE_ENDPOINT, CREATE_ATTEMPTS})
# The API call each right stands for: a portal token may do in the pages what the API's own
# policy (hookline.api.auth.POLICY) lets it do with that call, no more.
_EP = "/api/v1/app/{app_id}/endpoint/{endpoint_id}"
API_CALLS = {
    VIEW_SECRET: ("GET", _EP + "/secret"),
    MANAGE_SECRET: ("POST", _EP + "/secret/rotate"),
    MANAGE_ENDPOINT: ("PATCH", _EP),
    CREATE_ATTEMPTS: ("POST", "/api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend"),
}

_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclass(frozen=True)
class Theme:
    """The portal's look, from the embedding page's query parameters."""

    primary: str | None = None  # "#rrggbb"
    dark: str = "auto"  # auto | true | false
    hide_nav: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> "Theme | str":
        """The theme the parameters ask for, or the name of the one that is wrong."""
        primary = params.get("primaryColor") or None
        if primary is not None:
            match = _COLOUR.match(primary)
            if not match:
                return "primaryColor"
            primary = "#" + match.group(1)
        dark = params.get("darkMode", "auto")
        if dark not in ("auto", "true", "false"):
            return "darkMode"
        hide = params.get("hideNav", "false")
        if hide not in ("true", "false"):
            return "hideNav"
        return cls(primary=primary, dark=dark, hide_nav=hide == "true")

    def query(self) -> str:
        params = {"darkMode": self.dark, "hideNav": "true" if self.hide_nav else "false"}
        if self.primary:
            params["primaryColor"] = self.primary
        return urlencode(params)


@dataclass(frozen=True)
class Viewer:
    base: str  # the application's pages start here: /ui/apps/{id} or /portal
    app: Application
    tenant: str | None  # the application id a tenant is held to; None: the operator
    csrf_token: str
    session: Session | None = None  # the operator's dashboard session
    rights: frozenset[str] = EVERYTHING
    read_only: bool = False
    theme: Theme = field(default_factory=Theme)
    nonce: str = ""

    @property
    def portal(self) -> bool:
        return self.tenant is not None

    def can(self, right: str) -> bool:
        return right in self.rights

    def can_view_secret(self) -> bool:
        return VIEW_SECRET in self.rights
