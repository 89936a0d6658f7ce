"""What tests of the store build rows with."""

from typing import Any

SECRET = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0"


def endpoint_fields(n: int) -> dict[str, Any]:
    """An endpoint's fields for ``endpoints.create``: nothing listens at its URL."""
    return {
        "url": f"http://127.0.0.1:9/{n}",
        "description": "",
        "disabled": False,
        "metadata": {},
        "headers": {},
        "secret": SECRET,
    }
