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
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name.split("_", 1)[1]):
        load_settings({name: value})
