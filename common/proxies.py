"""Who is calling: the client's address, and whether an address is in a configured list of networks.

Two settings list networks: TRUSTED_PROXIES (whose X-Forwarded-For and X-Request-ID are
believed) and METRICS_ALLOWED_IPS (who may read /metrics). Both are parsed here, and a bad
entry stops the app at startup rather than failing requests.
"""

import ipaddress
from collections.abc import Iterable
from functools import cache as memoize

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(setting: str, entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse a setting's IPs or CIDR networks; raise ImproperlyConfigured naming the setting on a bad one."""
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"{setting}: {error}") from error


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    """Return whether `address` (REMOTE_ADDR, a forwarded hop) lies in one of `networks`.

    An IPv4 client of a server bound to [::] arrives as ::ffff:a.b.c.d and counts as a.b.c.d.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


@memoize
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks("TRUSTED_PROXIES", entries)


def trusted_proxies() -> tuple[Network, ...]:
    """Return TRUSTED_PROXIES, parsed once per value of the setting."""
    return _trusted(tuple(settings.TRUSTED_PROXIES))


def is_trusted_proxy(address: str) -> bool:
    """Return whether `address` is one of the TRUSTED_PROXIES."""
    return bool(settings.TRUSTED_PROXIES) and in_networks(address, trusted_proxies())


def client_ip(request) -> str:
    """Return the address of the client behind any trusted proxies.

    REMOTE_ADDR is the peer. Only when the peer is a trusted proxy is X-Forwarded-For read,
    from the right: each proxy appends the address it saw, so the first hop that is not a
    trusted proxy is the client. Hops further left were written by the client and prove
    nothing, which is why a client cannot choose its own rate-limit key.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    if not is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop if is_ip(hop) else peer
    return hops[0] if hops else peer


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
