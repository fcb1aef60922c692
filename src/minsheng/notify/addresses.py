"""Where a unit's channel may send: the public internet, never this machine or the networks
behind it (a server-side request forgery guard).

An administrator types a channel's URL (a group robot, a webhook). Pointed at an internal
address, a delivery would make Minsheng POST signed messages to whatever listens there: the
database's or the broker's port on loopback, a router's page on the private network, or the
cloud's metadata service (169.254.169.254; Alibaba Cloud's 100.100.100.200), which hands out
the machine's credentials. So:

* **when a channel is saved**, each address its host resolves to must be public
  (:func:`refusal`, called by ``UnitChannel.clean``); a name that does not resolve now is
  taken, since delivery checks again;
* **at every delivery** the connection itself is made only to a public address
  (:func:`connect_public`, the socket factory of the channels' HTTP connections): the name is
  resolved once and the checked address is the one connected to, so a DNS answer that
  changed since the channel was saved (or changes between a check and the connection, "DNS
  rebinding") reaches nothing internal, and no byte is sent to it.

Public means :attr:`ipaddress.IPv4Address.is_global` (and not multicast): loopback, private
(10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), shared (100.64/10),
reserved and unspecified addresses are all internal. A city whose receiver lives on its own
network (a government extranet, 电子政务外网) names those networks in
``MINSHENG_NOTIFY_ALLOWED_NETWORKS`` (comma-separated CIDRs), and only those are let through.

The SMS gateway (``MINSHENG_SMS_URL``) is the operator's own configuration, not typed into a
page, and is not held to this rule.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from typing import Any

from minsheng.core.conf import setting

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# socket.create_connection's "no timeout given" marker (not in the stubs).
_DEFAULT_TIMEOUT: Any = getattr(socket, "_GLOBAL_DEFAULT_TIMEOUT", object())


class InternalAddress(OSError):
    """The destination resolves to an address a channel may not reach."""


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``MINSHENG_NOTIFY_ALLOWED_NETWORKS``: internal networks a city's receivers live on."""
    raw = str(setting("MINSHENG_NOTIFY_ALLOWED_NETWORKS", ""))
    return [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]


def is_reachable(ip: IPAddress) -> bool:
    """Whether a channel may connect to ``ip``: a public unicast address, or one inside a
    network the city allowed."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = mapped
    if any(ip in network for network in allowed_networks()):
        return True
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def refusal(url: str) -> str | None:
    """Why ``url`` may not be a channel's destination now, or ``None``. A host that does not
    resolve is not refused here: delivery checks again."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host:
        return "the URL names no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "the URL's port is not a number"
    try:
        infos = _resolve(host, port)
    except (OSError, UnicodeError):
        return None
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if not is_reachable(ip):
            return f"{host} is an internal address ({ip})"
    return None


def connect_public(
    address: tuple[str, int], timeout: Any = _DEFAULT_TIMEOUT, source_address: Any = None
) -> socket.socket:
    """``socket.create_connection`` that connects only to public addresses (see above):
    every address the host resolves to must be public, and the one connected to is one of
    those checked."""
    host, port = address
    infos = _resolve(host, port)
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if not is_reachable(ip):
            raise InternalAddress(f"{host} is an internal address ({ip}): not sent")
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"{host} resolves to no address")
