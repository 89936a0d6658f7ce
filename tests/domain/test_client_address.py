import ipaddress

from hookline.domain.addresses import client_address

PROXIES = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.0/24"))


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert client_address("203.0.113.9", ["10.9.1.1"], PROXIES) == "203.0.113.9"
    assert client_address("127.0.0.1", ["10.9.1.1"], PROXIES) == "10.9.1.1"
    assert client_address("127.0.0.1", [], PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", ["10.9.1.1"], ()) == "127.0.0.1"


def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() -> None:
    # The client wrote "6.6.6.6" itself; the trusted chain added 198.51.100.7 then 10.0.0.5.
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.7", "10.0.0.5"], PROXIES) == "198.51.100.7"
    assert client_address("::ffff:127.0.0.1", ["198.51.100.7"], PROXIES) == "198.51.100.7"
    assert client_address("127.0.0.1", ["10.0.0.1, 10.0.0.2"], PROXIES) == "10.0.0.1"
    assert client_address(None, ["1.2.3.4"], PROXIES) is None
