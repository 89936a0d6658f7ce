"""Settings from HOOKLINE_* variables, with clear errors."""

import ipaddress

import pytest

from hookline.config import ConfigError, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert s.database_url == "sqlite:///hookline.db"
    assert (s.host, s.port) == ("127.0.0.1", 8071)
    assert s.request_timeout == 15 and s.signature_headers == "both"


def test_parsing() -> None:
    s = load_settings(
        {
            "HOOKLINE_RETRY_SCHEDULE": "1,1,1",
            "HOOKLINE_ALLOWED_CIDRS": "127.0.0.0/8, 10.0.0.0/8",
            "HOOKLINE_ENDPOINT_HTTPS_ONLY": "true",
            "HOOKLINE_SQLITE_SYNCHRONOUS": "normal",
        }
    )
    assert s.retry_schedule == (1.0, 1.0, 1.0)
    assert s.allowed_cidrs == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.0/8"))
    assert s.endpoint_https_only and s.sqlite_synchronous == "NORMAL"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOOKLINE_REQUEST_TIMEOUT", "31"),
        ("HOOKLINE_REQUEST_TIMEOUT", "abc"),
        ("HOOKLINE_SIGNATURE_HEADERS", "neither"),
        ("HOOKLINE_ALLOWED_CIDRS", "not-a-cidr"),
        ("HOOKLINE_PORT", "eighty"),
        ("HOOKLINE_ENDPOINT_HTTPS_ONLY", "maybe"),
        ("HOOKLINE_DATABASE_POOL_SIZE", "0"),
        # Found by fuzzing: each of these started a server that then broke (a crash on every
        # connection, a dead job loop, a busy loop, a delivery stuck in "sending").
        ("HOOKLINE_HEAD_TIMEOUT", "nan"),
        ("HOOKLINE_LEASE_SECONDS", "nan"),
        ("HOOKLINE_POLL_INTERVAL", "0"),
        ("HOOKLINE_POLL_INTERVAL", "nan"),
        ("HOOKLINE_CLEANER_INTERVAL", "inf"),
        ("HOOKLINE_RETRY_SCHEDULE", "5,nan"),
        ("HOOKLINE_RETRY_SCHEDULE", "1e400"),
        ("HOOKLINE_BODY_TIMEOUT", "-1"),
        ("HOOKLINE_RESPONSE_BODY_LIMIT", "-5"),
        ("HOOKLINE_PORT", "99999"),
        ("HOOKLINE_DELIVERY_PROXY", "http://[::1"),
        ("HOOKLINE_PUBLIC_URL", "http://"),
        ("HOOKLINE_ATTEMPT_RETENTION_DAYS", "0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name.split("_", 1)[1]):
        load_settings({name: value})
