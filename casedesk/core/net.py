"""The visitor's network address: one reading of it for the whole project.

Sign-in throttles, the API's anonymous allowance, escalation links, the audit history and
the /metrics allow-list all ask who is on the other end; behind a reverse proxy,
REMOTE_ADDR is the proxy, so each of them reading it directly would see every visitor as
one (and the metrics allow-list would let anyone in through a proxy on loopback).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or, when that is a trusted reverse proxy (CASEDESK_TRUSTED_PROXIES),
    the nearest address in X-Forwarded-For that is not one: the rest of the header is
    whatever the client wrote, and a client could otherwise choose its own address.
    "" when there is no usable address (a trusted proxy that forwarded something that is
    not an address is not believed)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if _parse(remote) is None:
        return ""
    trusted = settings.CASEDESK_TRUSTED_PROXIES
    if not trusted or not _is_in(remote, trusted):
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    for candidate in reversed(forwarded):
        if not candidate:
            continue
        if _parse(candidate) is None:
            return remote
        if not _is_in(candidate, trusted):
            return candidate
    return remote


def client_ip(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """client_address() as an address object, an IPv4-mapped IPv6 address as the IPv4 one
    (a dual-stack listener reports 127.0.0.1 as ::ffff:127.0.0.1)."""
    ip = _parse(client_address(request))
    if ip is not None and ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_in(address: str, networks: list[Network]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in network for network in networks)
