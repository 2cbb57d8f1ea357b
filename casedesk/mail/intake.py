"""Storing received mail: the one way raw bytes enter casedesk (SMTP, LMTP, IMAP, import).

Only the few headers needed to recognise a duplicate and to list the message in the admin
are read here, and reading them never fails: whatever the bytes are, they are stored, and
the processing job (casedesk.mail.inbound_jobs) decides what they become.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from django.db import IntegrityError, transaction

from casedesk.mail.models import InboundMessage

# Header lines are read from the first bytes only: a message whose headers go on for
# megabytes is still stored whole, but its Message-ID is not hunted for beyond this.
HEADER_BYTES = 256 * 1024
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
FIELD = InboundMessage._meta


@dataclass(frozen=True)
class Stored:
    inbound: InboundMessage
    created: bool


def header_block(raw: bytes) -> bytes:
    head = raw[:HEADER_BYTES]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            return head[: end + len(separator)]
    return head


def headers_of(raw: bytes) -> Message:
    # compat32 keeps header values as they are: nothing is decoded (or can fail) until
    # asked, and a malformed header is a defect, not an exception.
    return BytesParser(policy=compat32).parsebytes(header_block(raw), headersonly=True)


def text_of(message: Message, name: str, limit: int) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError, TypeError):
        text = str(value)
    # Folded lines and control characters do not belong in a one-line admin column, and
    # PostgreSQL refuses a NUL in text (the message would be refused with it).
    return " ".join(text.replace("\x00", " ").split())[:limit]


def message_id_of(message: Message) -> str:
    """The first Message-ID header, as `<id@host>`; "" when missing or unusable."""
    value = message.get("Message-ID")
    if value is None:
        return ""
    # PostgreSQL refuses a NUL in text: the message would be refused with it.
    value = str(value).replace("\x00", "")
    found = MESSAGE_ID.search(value)
    if found is None:
        # Some senders leave out the brackets; a bare token still identifies the message.
        bare = "".join(str(value).split())
        found_text = f"<{bare}>" if bare else ""
    else:
        found_text = found.group(0)
    limit = FIELD.get_field("message_id").max_length or 255
    if len(found_text) > limit:
        # An absurdly long ID still deduplicates, by its hash.
        digest = hashlib.sha256(found_text.encode("utf-8", "surrogateescape")).hexdigest()
        found_text = f"<sha256.{digest}@long-message-id>"
    return found_text


def store_raw(
    raw: bytes,
    *,
    source: str,
    envelope_from: str = "",
    envelope_to: list[str] | None = None,
) -> Stored:
    """Store `raw` as an InboundMessage, committed when this returns; or, when the same
    message is already stored, return that row with created=False.

    Must not be called inside a transaction: the caller answers "accepted" on return, so
    the row has to be committed by then.
    """
    try:
        headers = headers_of(raw)
        message_id = message_id_of(headers)
        subject = text_of(headers, "Subject", 300)
        from_header = text_of(headers, "From", 300)
    except Exception:  # noqa: BLE001 - unreadable headers must not cost us the message
        message_id, subject, from_header = "", "", ""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                raw=raw, size=len(raw), sha256=digest, message_id=message_id,
                subject=subject, from_header=from_header, source=source,
                envelope_from=envelope_from[:300], envelope_to=envelope_to or [],
            )
        return Stored(inbound, created=True)
    except IntegrityError:
        # The unique constraints said it is a duplicate (possibly stored a moment ago by
        # a concurrent session): the earlier copy stands.
        existing = (
            InboundMessage.objects.filter(message_id=message_id)
            if message_id else InboundMessage.objects.filter(message_id="", sha256=digest)
        ).defer("raw").first()
        if existing is None:
            raise
        return Stored(existing, created=False)
