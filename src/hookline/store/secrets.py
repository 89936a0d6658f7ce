"""Endpoint secrets at rest: encrypted when ``HOOKLINE_MAIN_SECRET`` is set.

Sealed values carry a prefix, so a database written before the main secret was
set still works: plain values open as they are.
"""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from hookline.config import Settings
from hookline.errors import Unavailable

_SEALED = "enc:v1:"


class SecretUnavailableError(Unavailable):
    """A sealed secret cannot be opened with the configured main secret."""


@dataclass(frozen=True)
class SecretBox:
    fernet: Fernet | None

    @classmethod
    def from_main_secret(cls, main_secret: str | None) -> "SecretBox":
        if not main_secret:
            return cls(None)
        key = base64.urlsafe_b64encode(hashlib.sha256(main_secret.encode()).digest())
        return cls(Fernet(key))

    @classmethod
    def from_settings(cls, settings: Settings) -> "SecretBox":
        return _cached(settings.main_secret)

    def seal(self, secret: str) -> str:
        if self.fernet is None:
            return secret
        return _SEALED + self.fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(_SEALED):
            return stored
        if self.fernet is None:
            raise SecretUnavailableError("secret is encrypted but HOOKLINE_MAIN_SECRET is not set")
        try:
            return self.fernet.decrypt(stored.removeprefix(_SEALED).encode()).decode()
        except InvalidToken as exc:
            raise SecretUnavailableError("secret was encrypted with a different HOOKLINE_MAIN_SECRET") from exc


_boxes: dict[str | None, SecretBox] = {}


def _cached(main_secret: str | None) -> SecretBox:
    box = _boxes.get(main_secret)
    if box is None:
        box = _boxes[main_secret] = SecretBox.from_main_secret(main_secret)
    return box
