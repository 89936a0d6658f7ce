"""Endpoint URLs: what hookline accepts as a webhook destination. Pure checks, no I/O.

Whether the address is reachable or allowed (SSRF) is decided when connecting, not here.
"""

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit

import idna

MAX_URL_LENGTH = 2048
_MAX_HOST_LENGTH = 253
_MAX_LABEL_LENGTH = 63
# Letters, digits and hyphens, and the underscore some private networks use (Docker service names).
_ASCII_LABEL = re.compile(r"^[a-z0-9_\-]+$")


# What stays as it is in a path segment put below a URL (RFC 3986 pchar less the unreserved
# characters, which ``quote`` keeps anyway); anything else is percent-encoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


def path_below(path: str, encoding: str = "utf-8") -> str:
    """A path someone else chose (decoded), as it may go below a URL's own path: encoded again one
    segment at a time (as ``encoding``), its empty, ``.`` and ``..`` segments resolved within
    itself, so that it can never reach above that path (a ``%2E%2E`` would, once the client
    decodes it). ``""`` when nothing is left; a trailing slash is kept."""
    segments: list[str] = []
    parts = path.split("/")
    for segment in parts:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(quote(segment, safe=_SEGMENT_SAFE, encoding=encoding))
    below = "/" + "/".join(segments) if segments else ""
    if below and parts[-1] in ("", ".", ".."):
        below += "/"  # a trailing slash is part of the path
    return below


class InvalidUrlError(ValueError):
    """The URL cannot be a webhook destination; the message says why."""


def check_endpoint_url(url: str) -> str:
    """Return ``url`` unchanged if it is an absolute http(s) URL hookline can deliver to, or raise."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"is {len(url)} characters long; the limit is {MAX_URL_LENGTH}")
    if "\x00" in url:
        raise InvalidUrlError("contains a NUL character")
    for char in url:
        if unicodedata.category(char) == "Cc":
            raise InvalidUrlError(f"contains a control character (U+{ord(char):04X})")
    if "\\" in url:
        raise InvalidUrlError("contains a backslash")
    if any(char.isspace() for char in url):
        raise InvalidUrlError("contains whitespace")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidUrlError(f"is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidUrlError("must be an absolute http or https URL")
    if "@" in parts.netloc:
        raise InvalidUrlError("must not contain a user name or password (user:password@): use endpoint headers")
    try:
        port = parts.port
    except ValueError:
        raise InvalidUrlError("has an invalid port: use 1 to 65535") from None
    if port == 0:
        raise InvalidUrlError("port 0 is not allowed: use 1 to 65535")
    if parts.netloc.endswith(":"):
        raise InvalidUrlError("has an empty port: use 1 to 65535, or leave out the colon")
    _check_host(parts.netloc, parts.hostname or "")
    return url


def _check_host(netloc: str, host: str) -> None:
    if not host:
        raise InvalidUrlError("must be an absolute http or https URL")
    if netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidUrlError(f"has an invalid IPv6 address {host!r}") from None
        return
    name = host[:-1] if host.endswith(".") else host
    if len(name) > _MAX_HOST_LENGTH:
        raise InvalidUrlError(f"has a host name longer than {_MAX_HOST_LENGTH} characters")
    for label in name.split("."):
        _check_label(label)
    _check_numeric(name)


def _check_numeric(name: str) -> None:
    # A host whose last label is a number is an IPv4 address to URL parsers (WHATWG), in any of
    # the forms 127.1, 2130706433, 0x7f.1 or 0177.0.0.1. Each parser and resolver reads those
    # differently, so deliveries refuse them; refused here too, they are not stored to fail later.
    last = name.rsplit(".", 1)[-1].lower()
    if not (last.isdigit() or (last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:]))):
        return
    try:
        canonical = str(ipaddress.IPv4Address(name))
    except ValueError:
        canonical = ""
    if canonical != name:
        raise InvalidUrlError(
            f"has a host that reads as an IPv4 address in a form other than four decimal numbers ({name!r}): "
            "write it as a.b.c.d, e.g. 127.0.0.1"
        )


def _check_label(label: str) -> None:
    if not label:
        raise InvalidUrlError("has an empty label in its host name")
    if not label.isascii():
        try:
            ascii_label = idna.encode(label, uts46=True).decode()
        except idna.IDNAError as exc:
            raise InvalidUrlError(f"has an invalid internationalized host label {label!r}: {exc}") from None
        if len(ascii_label) > _MAX_LABEL_LENGTH:
            raise InvalidUrlError(f"has a host label longer than {_MAX_LABEL_LENGTH} characters once encoded")
        return
    if len(label) > _MAX_LABEL_LENGTH:
        raise InvalidUrlError(f"has a host label longer than {_MAX_LABEL_LENGTH} characters")
    if not _ASCII_LABEL.match(label):
        raise InvalidUrlError(f"has a host label with characters a host name cannot have: {label!r}")
    if label.startswith("xn--"):
        try:
            idna.decode(label)
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidUrlError(f"has an invalid punycode host label {label!r}: {exc}") from None
