"""PostgreSQL URLs as libpq reads them, given to asyncpg.

SQLAlchemy hands every query parameter of the URL to ``asyncpg.connect`` as a keyword argument,
and asyncpg takes only some of libpq's names that way (others only inside a DSN, others not at
all): the rest stopped the server at its first connection with "unexpected keyword argument".
Here each libpq parameter is either honoured, in the form asyncpg takes it, or refused at start
with the reason; so is any other name but SQLAlchemy's own ``prepared_statement_cache_size``.
"""

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import make_url

# Kept in the URL: SQLAlchemy passes them to asyncpg as keywords of the same name, and asyncpg
# reads them from a DSN too (the wakeup listener's). ``ssl`` is libpq's sslmode, as asyncpg names
# it; ``database`` is asyncpg's dbname.
_KEYWORDS = frozenset(
    {"host", "port", "user", "password", "database", "passfile", "service", "ssl"}
    | {"target_session_attrs", "krbsrvname", "gsslib"}
)
# Kept in the URL, but asyncpg reads them only from a DSN: the engine gets them as one (``engine_args``).
_DSN_ONLY = frozenset(
    {"sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "sslnegotiation"}
    | {"ssl_min_protocol_version", "ssl_max_protocol_version"}
)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# Honoured at the values that ask for what asyncpg does anyway; refused at any other, with why.
_ONLY_AT: dict[str, tuple[frozenset[str], str]] = {
    "client_encoding": (frozenset({"utf8", "utf-8", "unicode"}), "asyncpg speaks only UTF8"),
    "channel_binding": (frozenset({"disable", "prefer"}), "asyncpg cannot do SCRAM channel binding"),
    "gssencmode": (frozenset({"disable", "prefer"}), "asyncpg cannot encrypt with GSSAPI"),
    "sslcertmode": (frozenset({"allow"}), "asyncpg sends a client certificate whenever it has one"),
    "sslsni": (frozenset({"1"}), "asyncpg always sends the host name (SNI)"),
    "sslcompression": (frozenset({"0"}), "TLS compression is not available"),
    "keepalives": (frozenset({"0"}), "asyncpg does not turn TCP keepalives on"),
    "gssdelegation": (frozenset({"0"}), "asyncpg does not delegate GSSAPI credentials"),
    "load_balance_hosts": (frozenset({"disable"}), "asyncpg tries the hosts in the order given"),
}
# libpq's, with no asyncpg equivalent.
_REFUSED = {
    "hostaddr": "asyncpg has no hostaddr: put the address in the URL's host",
    "require_auth": "asyncpg cannot restrict the authentication methods",
    "keepalives_idle": "asyncpg does not set TCP keepalives",
    "keepalives_interval": "asyncpg does not set TCP keepalives",
    "keepalives_count": "asyncpg does not set TCP keepalives",
    "tcp_user_timeout": "asyncpg has no TCP user timeout",
    "replication": "hookline needs ordinary connections, not replication ones",
    "requiressl": "libpq replaced it with sslmode=require",
    "sslcrldir": "asyncpg reads one CRL file: use sslcrl",
    "sslkeylogfile": "asyncpg takes it from the SSLKEYLOGFILE environment variable",
    "requirepeer": "asyncpg cannot check the peer of a Unix socket",
    "min_protocol_version": "asyncpg speaks protocol 3.0 only",
    "max_protocol_version": "asyncpg speaks protocol 3.0 only",
    "scram_client_key": "asyncpg takes a password, not SCRAM keys",
    "scram_server_key": "asyncpg takes a password, not SCRAM keys",
    "oauth_issuer": "asyncpg cannot authenticate with OAuth",
    "oauth_client_id": "asyncpg cannot authenticate with OAuth",
    "oauth_client_secret": "asyncpg cannot authenticate with OAuth",
    "oauth_scope": "asyncpg cannot authenticate with OAuth",
}
# SQLAlchemy's asyncpg dialect reads it from the URL (``=0`` behind pgbouncer): the engine's, not asyncpg's.
_CACHE_SIZE = "prepared_statement_cache_size"
_SETTINGS_HINT = "only -c name=value (or --name=value) settings can be passed, as asyncpg's server settings"


def ssl_named(query: dict[str, Any]) -> dict[str, Any]:
    """``query`` with libpq's ``sslmode`` as ``ssl``, the name asyncpg gives it (same modes)."""
    if "sslmode" not in query:
        return query
    if "ssl" in query:
        raise ValueError("give sslmode or ssl in the URL, not both")
    query = dict(query)
    query["ssl"] = query.pop("sslmode")
    return query


def pg_connect_args(url: str) -> tuple[str, dict[str, Any]]:
    """``url`` keeping the parameters asyncpg reads from a DSN as libpq does, and the arguments
    ``asyncpg.connect`` takes for the others: ``connect_timeout`` as ``timeout``;
    ``application_name``, ``fallback_application_name`` and ``options``' ``-c`` settings as
    ``server_settings``; ``servicefile``. SQLAlchemy's ``prepared_statement_cache_size`` is
    checked and left out (``engine_args`` gives it to the engine). ValueError, naming the
    parameter, for one asyncpg cannot honour, a name neither libpq nor asyncpg knows, or a
    parameter given twice."""
    parsed = make_url(url)
    query = ssl_named(dict(parsed.query))
    for name, value in query.items():
        if isinstance(value, tuple) and name != "host":  # several hosts: SQLAlchemy's multi-host URL
            raise ValueError(f"{name} is given more than once in the URL")
    args: dict[str, Any] = {}
    settings: dict[str, str] = {}
    kept: dict[str, Any] = {}
    database = parsed.database
    for name, value in query.items():
        if name in _KEYWORDS or name in _DSN_ONLY:
            kept[name] = value
        elif name == "connect_timeout":
            args["timeout"] = _seconds(name, str(value))
        elif name == "options":
            settings.update(_settings(str(value)))
        elif name in ("application_name", "fallback_application_name"):
            pass  # below: the one named wins over options' and the fallback
        elif name == "dbname":
            if database and database != value:
                raise ValueError("dbname: the URL names another database in its path")
            database = str(value)
        elif name == "servicefile":
            args["servicefile"] = str(value)
        elif name == _CACHE_SIZE:
            _cache_size(str(value))
        elif name in _ONLY_AT:
            allowed, reason = _ONLY_AT[name]
            if str(value).lower() not in allowed:
                raise ValueError(f"{name}={value}: {reason} (it may be {' or '.join(sorted(allowed))})")
        elif name in _REFUSED:
            raise ValueError(f"{name}: {_REFUSED[name]}")
        else:
            raise ValueError(
                f"{name} is not a PostgreSQL connection parameter (a server setting goes in options=-c {name}=<value>)"
            )
    if "ssl" in kept and str(kept["ssl"]) not in SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)} (got {kept['ssl']!r})")
    app_name = query.get("application_name", query.get("fallback_application_name"))
    if app_name is not None and ("application_name" in query or "application_name" not in settings):
        settings["application_name"] = str(app_name)
    if settings:
        args["server_settings"] = settings
    return parsed.set(database=database, query=kept).render_as_string(False), args


def engine_args(url: str) -> tuple[str, dict[str, Any]]:
    """``pg_connect_args`` for SQLAlchemy's engine, which passes the URL's parameters to asyncpg as
    keywords: those asyncpg reads only from a DSN (``sslrootcert``...) go in a ``dsn`` argument
    of their own; the URL's host, user and database, passed as keywords, take precedence over it.
    SQLAlchemy's ``prepared_statement_cache_size`` goes to the engine's connections as it reads it."""
    kept, args = pg_connect_args(url)
    size = make_url(url).query.get(_CACHE_SIZE)
    if size is not None:
        args[_CACHE_SIZE] = _cache_size(str(size))
    parsed = make_url(kept)
    query = dict(parsed.query)
    dsn = {name: str(query.pop(name)) for name in list(query) if name in _DSN_ONLY}
    if dsn:
        args["dsn"] = f"postgresql://?{urlencode(dsn)}"
    return parsed.set(query=query).render_as_string(False), args


def _seconds(name: str, text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ValueError(f"{name} must be a number of seconds, more than 0 (got {text!r})")
    return seconds


def _cache_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{_CACHE_SIZE} must be a whole number, 0 or more (got {text!r})")
    return int(text)


def _words(options: str) -> Iterator[str]:
    """libpq's ``options`` split as the server splits it: on spaces, ``\\`` escaping the next character."""
    word: list[str] = []
    chars = iter(options)
    for char in chars:
        if char == "\\":
            word.append(next(chars, ""))
        elif char.isspace():
            if word:
                yield "".join(word)
            word = []
        else:
            word.append(char)
    if word:
        yield "".join(word)


def _settings(options: str) -> dict[str, str]:
    """The server settings of libpq's ``options`` (``-c name=value``, ``--name=value``)."""
    settings: dict[str, str] = {}
    words = _words(options)
    for word in words:
        if word == "-c":
            setting = next(words, "")
        elif word.startswith(("-c", "--")):
            setting = word[2:]
        else:
            raise ValueError(f"options: {word!r} is not a setting: {_SETTINGS_HINT}")
        name, equals, value = setting.partition("=")
        if not name or not equals:
            raise ValueError(f"options: {setting!r} is not name=value: {_SETTINGS_HINT}")
        settings[name.replace("-", "_")] = value
    return settings
