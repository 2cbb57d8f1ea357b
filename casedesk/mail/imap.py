"""Polling IMAP mailboxes (CASEDESK_IMAP_URL): each message is stored like mail received
over SMTP, then moved to a folder of processed mail.

A message leaves the polled folder only after it is committed (casedesk.mail.intake), so
a crash or a database outage costs nothing: the next poll finds it again, and if it was
already stored, its Message-ID says so and it is just moved. The periodic task
`poll_imap` (declared in casedesk.core.schedule) polls every mailbox named.

URLs, comma-separated for several mailboxes:
  imaps://user:password@host[:993][/FOLDER]?processed=FOLDER   TLS from the first byte
  imap://user:password@host[:143][/FOLDER]?processed=FOLDER    STARTTLS, required
FOLDER defaults to INBOX, processed to "casedesk-processed"; percent-encode `@`, `:` and
`/` in user names and passwords. Certificates are verified against the system's
authorities (or SSL_CERT_FILE).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_tasks import task

from casedesk.mail.backends import redacted
from casedesk.mail.intake import store_raw
from casedesk.mail.models import InboundMessage

log = logging.getLogger(__name__)

OPTIONS = {"processed", "timeout"}
# Messages fetched per poll of one mailbox; the rest wait for the next poll.
BATCH = 200


@dataclass(frozen=True)
class Mailbox:
    url: str
    host: str
    port: int
    implicit_tls: bool
    username: str
    password: str
    folder: str
    processed: str
    timeout: float

    def __str__(self) -> str:
        return redacted(self.url)


def parse_url(url: str) -> Mailbox:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"imap", "imaps"}:
        raise ImproperlyConfigured(
            f"CASEDESK_IMAP_URL must start with imaps:// (TLS) or imap:// (STARTTLS), "
            f"got {redacted(url)!r}"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - OPTIONS)
    if unknown:
        raise ImproperlyConfigured(
            f"CASEDESK_IMAP_URL has unknown option(s) {', '.join(unknown)}; "
            f"the options are {', '.join(sorted(OPTIONS))}"
        )
    try:
        port = parts.port or (993 if parts.scheme == "imaps" else 143)
        timeout = float(query.get("timeout", "60"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"CASEDESK_IMAP_URL {redacted(url)!r}: {exc}") from None
    if not parts.hostname or not parts.username:
        raise ImproperlyConfigured(
            f"CASEDESK_IMAP_URL {redacted(url)!r} must name a user and a host, as in "
            "imaps://support%40example.com:password@imap.example.com/INBOX"
        )
    return Mailbox(
        url=url.strip(), host=parts.hostname, port=port,
        implicit_tls=parts.scheme == "imaps",
        username=unquote(parts.username), password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        processed=query.get("processed", "casedesk-processed"), timeout=timeout,
    )


def configured_mailboxes() -> list[Mailbox]:
    urls = [u for u in settings.CASEDESK_IMAP_URL.split(",") if u.strip()]
    return [parse_url(u) for u in urls]


def quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check(response: tuple[str, list[Any]]) -> list[Any]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status}: {data!r}")
    return data


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    client: imaplib.IMAP4
    if mailbox.implicit_tls:
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=mailbox.timeout
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=mailbox.timeout)
        # The password never crosses the network in clear: no STARTTLS, no login.
        client.starttls(ssl_context=context)
    client.login(mailbox.username, mailbox.password)
    # Servers announce more (MOVE, UIDPLUS) once signed in; imaplib keeps the first list.
    [capabilities] = check(client.capability())[-1:]
    client.capabilities = tuple(capabilities.decode().upper().split())
    return client


def move(client: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    if "MOVE" in client.capabilities:
        check(client.uid("MOVE", uid.decode(), quoted(folder)))
        return
    check(client.uid("COPY", uid.decode(), quoted(folder)))
    check(client.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted)"))
    if "UIDPLUS" in client.capabilities:
        check(client.uid("EXPUNGE", uid.decode()))
    else:
        check(client.expunge())


def poll(mailbox: Mailbox) -> dict[str, int]:
    """Store and move up to BATCH messages of one mailbox. Returns counts."""
    counts = {"stored": 0, "duplicates": 0}
    client = connect(mailbox)
    try:
        # Creating a folder that exists fails harmlessly; the MOVE below is what counts.
        client.create(quoted(mailbox.processed))
        check(client.select(quoted(mailbox.folder)))
        [found] = check(client.uid("SEARCH", "UNDELETED"))
        for uid in (found or b"").split()[:BATCH]:
            data = check(client.uid("FETCH", uid.decode(), "(BODY.PEEK[])"))
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:
                continue  # deleted by another client meanwhile
            stored = store_raw(
                raw, source=InboundMessage.Source.IMAP,
                envelope_to=[f"{mailbox.username}@{mailbox.host}/{mailbox.folder}"],
            )
            counts["stored" if stored.created else "duplicates"] += 1
            move(client, uid, mailbox.processed)
        client.close()
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return counts


@task(queue_name="mail")
def poll_imap() -> dict[str, int]:
    """The periodic IMAP poll: every mailbox of CASEDESK_IMAP_URL. One failing mailbox (a
    wrong password, a server down) is logged and does not keep the others from polling."""
    total = {"stored": 0, "duplicates": 0, "failed": 0}
    for mailbox in configured_mailboxes():
        try:
            counts = poll(mailbox)
        except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
            log.warning("IMAP poll of %s failed: %s: %s", mailbox, type(exc).__name__, exc)
            total["failed"] += 1
            continue
        for key, value in counts.items():
            total[key] += value
    return total
