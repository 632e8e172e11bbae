"""Where a webhook may go: the SSRF guard. A ``callback_url`` comes from whoever submitted, and the API
sends it a request from inside the cluster's network, so without a guard anyone could make the API
call its own MySQL, the cloud's metadata service (169.254.169.254) or an admin page on localhost.

A target is an ``http``/``https`` URL without credentials whose host resolves only to public
addresses, or to networks an operator allowed (``EXECUTIONER_WEBHOOK_ALLOWED_NETWORKS``). It is
checked when the submission arrives (422 naming ``callback_url``) and again before every attempt,
because a name can resolve elsewhere later (DNS rebinding); the request then goes to the very address
that was checked, not to a second lookup's."""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


class TargetRefused(ValueError):
    """The URL is not a target webhooks may go to; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked webhook target: the URL and the address its host resolved to."""

    url: str
    host: str
    port: int
    address: str
    """The address that was checked; the request connects to this one."""


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL a webhook may name, or :class:`TargetRefused`."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("must be an http:// or https:// URL")
    if not parts.hostname:
        raise TargetRefused("has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry credentials (user:password@)")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise TargetRefused("must not contain spaces or control characters")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def forbidden(address: Address, allowed: Sequence[Network]) -> str | None:
    """Why ``address`` may not be reached, or None. Only globally routable addresses are allowed
    (``is_global``: not loopback, private, link-local, shared, documentation, multicast or reserved),
    unless an allowed network holds it. An IPv4-mapped IPv6 address is judged as its IPv4 address."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return None
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local address (cloud metadata services live there)"
    if address.is_multicast or not address.is_global:
        return f"{address} is not a public address"
    return None


async def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"host {host!r} does not resolve: {exc}") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check_target(url: str, allowed: Sequence[Network]) -> Target:
    """The checked target of ``url``: every address its host resolves to must be allowed (one bad
    answer refuses it: a resolver that returns a public and a private address is an attack)."""
    _, host, port = parse_url(url)
    addresses = await resolve(host, port)
    if not addresses:
        raise TargetRefused(f"host {host!r} has no address")
    for address in addresses:
        if (why := forbidden(address, allowed)) is not None:
            raise TargetRefused(f"may not be reached: {why}")
    return Target(url=url, host=host, port=port, address=str(addresses[0]))
