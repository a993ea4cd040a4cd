"""Who is calling: the client's address, believing X-Forwarded-For only from trusted proxies."""

import ipaddress
from functools import cache as memoize

from django.conf import settings


@memoize
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str) -> bool:
    """Return whether `address` is one of the TRUSTED_PROXIES (IPs or CIDR networks)."""
    if not settings.TRUSTED_PROXIES:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


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
            return hop if _is_ip(hop) else peer
    return hops[0] if hops else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
