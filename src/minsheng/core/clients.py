"""Who is asking: the address of the person behind a request, for limits that count per
client (the public pages' rate limits, the follow page's guess limit).

Without a proxy it is the connection's address (``REMOTE_ADDR``). Behind a reverse proxy
every request comes from the proxy, so one person's failures would lock out the whole city:
name the proxies in ``MINSHENG_TRUSTED_PROXIES`` (addresses or CIDR ranges, a list or
comma-separated), and a request that comes from one of them is counted by the address its
``X-Forwarded-For`` names. That header is read from the right: each proxy appends the
address it saw, so the right-most address that is not one of our proxies is the one that
connected to them; whatever a client wrote further left is its own claim and is ignored.
A request from any other address is counted by that address, whatever headers it sends.

``RATELIMIT_IP_META_KEY`` (a header the proxy sets, e.g. ``HTTP_X_REAL_IP``) is still
honoured when no trusted proxy is named, as before.

IPv6 clients are counted by their /64 network: one household or phone holds a whole /64.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.http import HttpRequest

from minsheng.core.conf import setting

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    raw = setting("MINSHENG_TRUSTED_PROXIES", None)
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    return _networks(tuple(str(s).strip() for s in items if str(s).strip()))


def _is_trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the person making the request (see the module's docstring)."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    networks = trusted_proxies()
    if networks:
        if not _is_trusted(remote, networks):
            return remote
        hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
        for hop in reversed(hops):
            if not _is_trusted(hop, networks):
                return hop
        return hops[0] if hops else remote
    meta_key = setting("RATELIMIT_IP_META_KEY", None)
    if isinstance(meta_key, str) and meta_key in request.META:
        return str(request.META[meta_key]).split(",")[0].strip()
    return remote


def client_key(request: HttpRequest) -> str:
    """What limits count by: the client's address, an IPv6 address as its /64 network."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
