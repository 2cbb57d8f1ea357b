"""Signing a delivery and POSTing it to the checked address of its URL.

Signature: `Casedesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
keyed with the subscription's secret (docs/webhooks.md shows how to verify it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from casedesk.webhooks.destinations import Destination, UnsafeDestination, check_url

# What is kept of a response body: enough to read an error page's message.
EXCERPT_CHARS = 1000
USER_AGENT = "casedesk-webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def encode(payload: dict[str, object]) -> str:
    """The body as sent: compact JSON, keys in the order built, UTF-8 text as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Outcome:
    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(destination: Destination, address: str, body: bytes,
          headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    timeout = urllib3.Timeout(total=settings.CASEDESK_WEBHOOK_TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    # The connection goes to the address that was checked, never to a second lookup of
    # the name; TLS still checks the certificate against the name the URL gave.
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, destination.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=destination.host, assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, destination.port, timeout=timeout, retries=False, maxsize=1
        )
    host = destination.host if ":" not in destination.host else f"[{destination.host}]"
    default_port = 443 if destination.scheme == "https" else 80
    if destination.port != default_port:
        host = f"{host}:{destination.port}"
    try:
        return pool.urlopen(
            "POST", destination.target, body=body, headers={**headers, "Host": host},
            redirect=False, retries=False, assert_same_host=False, preload_content=False,
        )
    finally:
        pool.close()


def send(url: str, body: str, *, secret: str, event_type: str, delivery_id: str) -> Outcome:
    """POST `body` to `url`, signed now. Never raises for the receiver's faults: a refused
    URL, a timeout or a broken connection come back as an Outcome with an error."""
    data = body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Casedesk-Event": event_type,
        "Casedesk-Delivery": delivery_id,
        "Casedesk-Signature": signature(secret, timestamp, data),
    }
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        destination = check_url(url)
    except UnsafeDestination as refused:
        return Outcome(None, "", str(refused)[:500], took())
    error = ""
    for address in destination.addresses:
        try:
            response = _post(destination, address, data, headers)
        except urllib3.exceptions.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            continue
        try:
            raw = response.read(EXCERPT_CHARS * 4, decode_content=True)
        except urllib3.exceptions.HTTPError:
            raw = b""
        finally:
            response.release_conn()
        excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        return Outcome(response.status, excerpt, "", took())
    return Outcome(None, "", error, took())
