"""Where a webhook may be sent: https to a public address, and nothing that would let a
subscription reach into casedesk's own network (SSRF).

A URL is checked when it is saved (so the admin is told at once) and again before every
attempt: a host name that resolved to a public address when saved may point inside later
(DNS rebinding). The sender then connects to the very address checked here, never
resolving the name a second time.

Settings (read when checked, not at import):
- CASEDESK_WEBHOOK_ALLOW_PRIVATE: also allow loopback, private (RFC 1918, fc00::/7) and
  link-local addresses: for receivers on the same machine or network, and for tests.
- CASEDESK_WEBHOOK_ALLOW_HTTP: allow plain http to any allowed address; without it, http
  is accepted only for loopback addresses (which never leave the machine).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """The URL may not be used; the message says why, for the admin."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as written (the Host header and the TLS name)
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]  # the checked addresses, to connect to


def _plain(address: IPAddress) -> IPAddress:
    # ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: IPAddress) -> bool:
    address = _plain(address)
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    if address.is_global:
        return True
    if not settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(
            _("The host name %(host)s could not be resolved.") % {"host": host}
        ) from exc
    found: list[IPAddress] = []
    for info in infos:
        # The address without a zone index (fe80::1%eth0).
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def check_url(url: str, *, resolve: bool = True) -> Destination:
    """The destination of `url`, or UnsafeDestination saying what is wrong with it."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(_("Enter a valid URL.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeDestination(_("The URL must start with https:// (or http:// for a "
                                  "receiver on this machine)."))
    host = (parts.hostname or "").rstrip(".")
    if not host or " " in url:
        raise UnsafeDestination(_("Enter a valid URL."))
    if parts.username or parts.password:
        raise UnsafeDestination(_("The URL may not contain a user name or password: the "
                                  "signature tells the receiver the call is ours."))
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port) if resolve else []
    refused = [str(a) for a in addresses if not address_allowed(a)]
    if refused:
        raise UnsafeDestination(
            _("%(host)s leads to %(address)s, a private, loopback or reserved address; "
              "webhooks go to public addresses only.") % {"host": host, "address": refused[0]}
        )
    if resolve and not addresses:
        raise UnsafeDestination(
            _("The host name %(host)s could not be resolved.") % {"host": host}
        )
    if scheme == "http" and not settings.CASEDESK_WEBHOOK_ALLOW_HTTP and not (
        addresses and all(_plain(a).is_loopback for a in addresses)
    ):
        raise UnsafeDestination(_("Use https://: plain http is accepted only for a "
                                  "receiver on this machine."))
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(scheme=scheme, host=host, port=port, target=target,
                       addresses=tuple(str(a) for a in addresses))
