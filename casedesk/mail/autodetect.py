"""Is an inbound message automatic? Is it a bounce, and for which addresses?

Pure functions over an `email.message.Message`; no database.

The rule (issue 4, point 10, and the corpora README):

* `detect_auto` names a reason when the message was written by a machine:
  a bounce or delivery status report, a mailer-daemon/postmaster sender,
  `Auto-Submitted` other than "no", `X-Autoreply`/`X-Autorespond`, or an
  "Out of office" style subject. Such a message is never answered, and the
  threading code may decline to open a case for it.
* `Precedence: bulk/junk/list` alone is NOT such a reason: real people's
  clients (and mailing lists relaying people) set it, and the django-mailbox
  corpus holds two human replies carrying it. `is_bulk` reports it separately:
  the message is still ingested as a person's text, only our automatic
  acknowledgement is suppressed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import message_from_string
from email.message import Message
from email.utils import getaddresses
from typing import Any

from flufl.bounce import all_failures

from casedesk.mail.headers import header

_DETECTORS: list[Any] | None
try:
    # The detector list itself, so that one detector raising on odd input (Yale's
    # does on a message without From) does not hide the verdict of the others.
    from flufl.bounce._scan import _DETECTORS as _FLUFL_DETECTORS

    _DETECTORS = list(_FLUFL_DETECTORS)
except ImportError:  # pragma: no cover - a future flufl.bounce without it
    _DETECTORS = None

log = logging.getLogger(__name__)
# flufl.bounce logs every detector it tries at INFO (18 lines per inbound message)
# and a traceback for a detector that raises, which we handle below.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class BounceInfo:
    """Addresses a bounce reports as failed; permanent unless only delays were reported."""

    addresses: tuple[str, ...]
    permanent: bool
    # What the reporting server said ("550 5.1.1 User unknown"), for the case's history.
    reason: str = ""
    # The Message-ID of the mail that bounced, from the headers the report returns: the
    # bounce threads onto that mail's case.
    original_message_id: str = ""


_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon"}
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[\s_-]*(?:reply|response|answer)\b"
    r"|out of (?:the )?office\b"
    r"|(?:autoreply|autoresponse)\b"
    r"|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica"
    r"|رد تلقائي|خارج المكتب"
    r"|(?:delivery status notification|undeliverable|undelivered mail"
    r"|mail delivery (?:failed|failure|system)|returned mail|failure notice)\b)",
    re.IGNORECASE,
)
# "Re: [issue12] Out of office AutoReply: ..." - reply prefixes and tags come first.
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|fw|fwd|رد)\s*:\s*|\[[^\]]{0,80}\]\s*)+", re.IGNORECASE
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def _header(msg: Message, name: str) -> str:
    return header(msg, name)


def _from_daemon(msg: Message) -> bool:
    """From, Sender or Return-Path is a mailer-daemon or postmaster address."""
    values = [_header(msg, "From"), _header(msg, "Sender"), _header(msg, "Return-Path")]
    # Parsing addresses is the dearest step here; a person's mail names no daemon at all.
    lowered = " ".join(values).lower()
    if not any(name in lowered for name in _DAEMON_LOCALPARTS):
        return False
    try:
        pairs = getaddresses([v for v in values if v])
    except Exception:
        return False
    return any(
        addr.split("@", 1)[0].strip("<> ").lower() in _DAEMON_LOCALPARTS
        for _, addr in pairs if addr
    )


def is_delivery_report(msg: Message) -> bool:
    """A multipart/report carrying delivery-status (RFC 3464) or a bare DSN part."""
    try:
        if msg.get_content_type() == "multipart/report":
            report_type = str(msg.get_param("report-type") or "").lower()
            return report_type in ("delivery-status", "")
        return any(part.get_content_type() == "message/delivery-status" for part in _walk(msg, 50))
    except Exception:
        return False


def _walk(msg: Message, limit: int) -> list[Message]:
    parts: list[Message] = []
    for part in msg.walk():
        parts.append(part)
        if len(parts) >= limit:
            break
    return parts


def _failures(msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """flufl.bounce's all_failures, with each detector's exception contained."""
    if _DETECTORS is None:
        try:
            return all_failures(msg)
        except Exception:
            return frozenset(), frozenset()
    for detector_class in _DETECTORS:
        try:
            temporary, permanent = detector_class().process(msg)
        except Exception:  # a detector choking on odd input means "not found"
            log.debug("bounce detector %s failed", detector_class.__name__, exc_info=True)
            continue
        if temporary or permanent:
            return frozenset(temporary), frozenset(permanent)
    return frozenset(), frozenset()


_BOUNCE_SUBJECT = re.compile(
    r"deliver|returned mail|returned to sender|failure|failed|bounce|non[- ]?remis|"
    r"unzustellbar|zustellung|notification|mail system|rejected|could not be sent|"
    r"إشعار|فشل|تعذر",
    re.IGNORECASE,
)


def _may_be_bounce(msg: Message) -> bool:
    """Cheap signs worth running the bounce detectors for.

    The detectors read every body line with dozens of patterns (about 0.4 s for a
    mail with large attachments), so a person's ordinary mail must not reach them.
    Bounces come from a null or daemon sender, as a report, or with a subject
    about delivery; one that shows none of these goes unrecognised, and is then
    treated as a person's mail (kept, never lost).
    """
    if msg.get_content_type() == "multipart/report":
        return True
    if _header(msg, "Return-Path") == "<>" or not _header(msg, "From"):
        return True
    if _from_daemon(msg):
        return True
    return bool(_BOUNCE_SUBJECT.search(_header(msg, "Subject")))


def find_bounce(msg: Message) -> BounceInfo | None:
    """The failed addresses of a bounce (flufl.bounce's detectors, Mailman's), or None.

    A delivery report from which no address could be read is still a bounce
    (addresses empty), so it is never answered.
    """
    try:
        if not _may_be_bounce(msg):
            return None
    except Exception:  # an unreadable message: let the detectors decide
        log.debug("bounce pre-check failed", exc_info=True)
    temporary, permanent = _failures(msg)
    found = permanent or temporary
    if found:
        addresses = tuple(sorted({a.decode("utf-8", "replace").strip().lower() for a in found}))
        return BounceInfo(addresses, bool(permanent), *_report_details(msg))
    if is_delivery_report(msg):
        return BounceInfo((), False, *_report_details(msg))
    return None


# RFC 3463 subject and detail codes most bounces carry, for a report without a
# Diagnostic-Code line.
_STATUS_TEXT = {
    "1.1": "no such mailbox", "1.2": "no such domain", "1.3": "bad address syntax",
    "1.6": "mailbox has moved", "2.1": "mailbox disabled", "2.2": "mailbox full",
    "3.4": "message too big", "4.4": "unable to route", "4.7": "delivery time expired",
    "7.1": "refused by the receiving server's policy",
}
MAX_REASON = 300


def _status_text(status: str) -> str:
    code = status.split()[0] if status.split() else ""
    meaning = _STATUS_TEXT.get(code.partition(".")[2], "")
    return f"{code} {meaning}".strip()


def _report_details(msg: Message) -> tuple[str, str]:
    """The reporting server's reason and the bounced mail's Message-ID, from the
    machine-readable parts of a delivery report (RFC 3464); "" for what is not there.
    Best effort: a report is read as far as it is well formed."""
    reason = original = ""
    try:
        for part in _walk(msg, 50):
            ctype = part.get_content_type()
            payload = part.get_payload()
            if ctype == "message/delivery-status" and not reason and isinstance(payload, list):
                # The first block is about the reporting server; the others, recipients.
                for block in [b for b in payload[1:] if isinstance(b, Message)]:
                    diagnostic = _header(block, "Diagnostic-Code")
                    reason = (diagnostic.partition(";")[2].strip() or diagnostic
                              or _status_text(_header(block, "Status")))
                    if reason:
                        break
            elif ctype == "message/rfc822" and not original and isinstance(payload, list):
                if payload and isinstance(payload[0], Message):
                    original = _header(payload[0], "Message-ID")
            elif ctype == "text/rfc822-headers" and not original and isinstance(payload, str):
                original = _header(message_from_string(payload[:20000]), "Message-ID")
    except Exception:  # noqa: BLE001 - a malformed report is still a bounce
        log.debug("delivery report details unreadable", exc_info=True)
    return " ".join(reason.split())[:MAX_REASON], original.strip()[:255]


def is_bulk(msg: Message) -> bool:
    """Precedence bulk/junk/list: suppress acknowledgements, but keep the message."""
    return _header(msg, "Precedence").lower() in _BULK_PRECEDENCE


_UNSET: Any = object()


def detect_auto(msg: Message, bounce: BounceInfo | None = _UNSET) -> str | None:
    """Why `msg` is automatic ("bounce", "auto-submitted", ...), or None for a person.

    Pass `bounce` (even None) when `find_bounce` already ran, to avoid running it twice.
    """
    if bounce is _UNSET:
        bounce = find_bounce(msg)
    if bounce is not None:
        return "bounce"
    auto_submitted = _header(msg, "Auto-Submitted").split(";", 1)[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return "autoreply-header"
    if _from_daemon(msg):
        return "mailer-daemon"
    if _AUTO_SUBJECT.match(_SUBJECT_PREFIX.sub("", _header(msg, "Subject"))):
        return "auto-subject"
    return None
