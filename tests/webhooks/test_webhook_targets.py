"""The SSRF guard and the signature of webhooks (pure: IP literals and the resolver of ``localhost``)."""

import ipaddress

import pytest

from api.webhooks.sender import pinned_request, retry_delay
from api.webhooks.signature import sign, verify
from api.webhooks.targets import Target, TargetRefused, check_target, forbidden, parse_url

pytestmark = pytest.mark.unit

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1",
        "192.0.2.1", "255.255.255.255", "fd00:ec2::254",
    ],
)  # fmt: skip
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address), []) is not None


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert forbidden(ipaddress.ip_address("93.184.216.34"), []) is None
    assert forbidden(ipaddress.ip_address("2606:2800:220:1::1"), []) is None
    assert forbidden(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert forbidden(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK) is None  # judged as IPv4
    assert forbidden(ipaddress.ip_address("10.0.0.1"), LOOPBACK) is not None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "not a URL"),
        ("http://exa mple.com/", "spaces"),
        ("http://example.com/" + "x" * 3000, "longer than"),
    ],
)
def test_urls_that_are_not_webhook_targets(url: str, says: str) -> None:
    with pytest.raises(TargetRefused, match=says):
        parse_url(url)


async def test_names_are_resolved_and_every_address_checked() -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        await check_target("http://localhost:8080/hook", [])
    with pytest.raises(TargetRefused, match="link-local"):
        await check_target("http://169.254.169.254/latest/meta-data/", [])
    with pytest.raises(TargetRefused, match="does not resolve"):
        await check_target("http://no-such-host.invalid/", [])
    target = await check_target("http://127.0.0.1:9/x?y=1", LOOPBACK)
    assert (target.address, target.port) == ("127.0.0.1", 9)


def test_the_signature_covers_the_time_and_the_exact_body() -> None:
    header = sign(b"secret", b'{"a":1}', 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(b"secret", b'{"a":1}', header) == 1_700_000_000
    assert verify(b"secret", b'{"a":2}', header) is None
    assert verify(b"other", b'{"a":1}', header) is None
    assert verify(b"secret", b'{"a":1}', header.replace("t=1700000000", "t=1700000001")) is None


def test_the_request_goes_to_the_checked_address_under_the_urls_name() -> None:
    target = Target(
        url="https://hooks.example:8443/a/b?c=1", host="hooks.example", port=8443, address="2001:db8::7"
    )
    url, headers, extensions = pinned_request(target)
    assert url == "https://[2001:db8::7]:8443/a/b?c=1"
    assert headers == {"host": "hooks.example:8443"} and extensions == {"sni_hostname": "hooks.example"}


def test_retries_back_off_doubling_up_to_the_cap() -> None:
    assert [retry_delay(n, 10.0) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
