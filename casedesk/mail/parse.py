"""Raw inbound bytes to a `ParsedMail`: a pure function, no database, never raises.

Bad input is the normal case for a mail gateway (issue 4, "Bad input"): every
step falls back rather than fails, and what was dropped or repaired is listed
in `ParsedMail.defects` so an admin can see it.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import Policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from django.conf import settings

from casedesk.mail.autodetect import BounceInfo, detect_auto, find_bounce, is_bulk
from casedesk.mail.headers import MAX_HEADER_CHARS, as_text, decode_words, header, raw_values
from casedesk.mail.htmltext import html_to_text, sanitize_html
from casedesk.mail.reply import extract_reply

__all__ = ["MAX_HEADER_CHARS", "BounceInfo", "ParsedMail", "parse_message"]

MAX_ADDRESSES = 100
MAX_REFERENCES = 50
MAX_PARTS = 2000  # MIME parts walked at most; a message of 10,000 parts is cut short
MAX_TEXT_CHARS = 1_000_000


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: datetime | None
    text: str  # the decoded full text (text/plain preferred, else the HTML as text)
    html: str  # sanitized HTML for display, or ""
    reply_text: str  # the new text without quoted history and signature
    attachments: list[tuple[str, str, bytes]]  # (filename, content_type, content)
    auto: str | None  # why the message is automatic; None for a person
    bounce: BounceInfo | None
    defects: list[str] = field(default_factory=list)
    # Precedence bulk/junk/list: ingest it, but send no automatic acknowledgement.
    bulk: bool = False
    reply_to: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        """May we send an automatic acknowledgement to this sender?"""
        return self.auto is None and not self.bulk


def _load(raw: bytes, policy: Policy) -> Message:
    msg = email.message_from_bytes(raw, policy=policy)
    msg.get_content_type()  # a Content-Type the policy cannot read fails here, not mid-walk
    return msg


def _header(msg: Message, name: str, defects: list[str]) -> str:
    return header(msg, name, defects)


_ADDR = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# The forms nearly every message's address headers take, "Name <local@domain>" (words of
# letters and digits) and "local@domain": getaddresses reads them as written, in ~0.1 ms
# a header, several times the cost of this match (test_parse compares the two).
_SIMPLE_ADDRESS = re.compile(rf"(?:(\w+(?: \w+)*) <({_ADDR})>|({_ADDR}))")


def simple_addresses(values: list[str]) -> list[tuple[str, str]] | None:
    """getaddresses(values) when every value is one address in a simple form, else None."""
    out = []
    for value in values:
        match = _SIMPLE_ADDRESS.fullmatch(value)
        if match is None:
            return None
        name, bracketed, bare = match.groups()
        out.append((name, bracketed) if bare is None else ("", bare))
    return out


def _addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    values = raw_values(msg, name, defects)
    try:
        pairs = simple_addresses(values)
        if pairs is None:
            pairs = getaddresses(values)
    except Exception:
        return []
    out: list[tuple[str, str]] = []
    for real, addr in pairs[:MAX_ADDRESSES]:
        addr = addr.strip().strip("<>").lower()
        if "@" in addr and " " not in addr:
            out.append((decode_words(real).strip(), addr))
    return out


_MSGID = re.compile(r"<[^<>\s]{1,500}>")


def _ids(value: str) -> list[str]:
    found = _MSGID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = ["<" + value.strip().strip("<>")[:500] + ">"]
    return found


def _charset_decode(payload: bytes, charset: str | None, defects: list[str]) -> str:
    """Decode with the declared charset, else utf-8, else cp1252 (which never fails)."""
    if charset:
        name = charset.strip().strip('"').lower()
        try:
            codecs.lookup(name)
        except LookupError:
            defects.append(f"unknown charset {name[:40]!r}")
        else:
            try:
                return payload.decode(name)
            except (UnicodeDecodeError, LookupError):
                defects.append(f"text not valid {name[:40]}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", errors="replace")


def _part_bytes(part: Message, defects: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # invalid base64/qp: keep what is there
        defects.append(f"undecodable {part.get_content_type()} part ({type(exc).__name__})")
        raw = part.get_payload()
        return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    return payload if isinstance(payload, bytes) else b""


def _part_text(part: Message, defects: list[str]) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # a garbled Content-Type: decode by guessing instead
        charset = None
    return _charset_decode(_part_bytes(part, defects), charset, defects)[:MAX_TEXT_CHARS]


_RAW_NAME = re.compile(r"""(?:file)?name\*?=\s*(?:"([^"]*)"|([^;\s]+))""", re.IGNORECASE)


def _raw_filename(part: Message) -> str:
    """A filename sent as raw 8-bit UTF-8 (no RFC 2231, no encoded-word).

    compat32 turns those bytes into U+FFFD when it reads the parameter, so the
    name is read again from the raw header line.
    """
    for name in ("Content-Disposition", "Content-Type"):
        for value in raw_values(part, name):
            match = _RAW_NAME.search(value)
            if match:
                return match.group(1) or match.group(2) or ""
    return ""


def _filename(part: Message) -> str:
    name: str | None
    try:
        name = part.get_filename()  # RFC 2231 and encoded-words (KOI8-R, UTF-8...)
    except Exception:
        name = None
    if not name:
        try:
            param = part.get_param("name", header="content-type")
            if isinstance(param, tuple):  # compat32 returns RFC 2231 values as tuples
                name = email.utils.collapse_rfc2231_value(param)
            else:
                name = param
        except Exception:
            name = None
    if name and "\ufffd" in name:
        name = _raw_filename(part) or name
    name = decode_words(as_text(name)) if name else ""
    # Never a path: the name is shown and stored, not used to write files.
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()
    return name[:255]


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    if disposition == "attachment":
        return True
    return bool(_filename(part)) and not part.get_content_type().startswith("text/")


_EXT = {"message/rfc822": ".eml", "image/jpg": ".jpg", "image/jpeg": ".jpg", "text/plain": ".txt"}


def _default_name(content_type: str, index: int) -> str:
    ext = _EXT.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{index}{ext}"


def _nested_bytes(part: Message, defects: list[str]) -> bytes:
    """The bytes of an attached message/rfc822, to be stored as an .eml file."""
    inner = part.get_payload()
    if not (isinstance(inner, list) and inner and isinstance(inner[0], Message)):
        return b""
    try:
        return inner[0].as_bytes()
    except Exception:  # nested mail that cannot be re-serialized as it came
        defects.append("attached message could not be re-serialized; kept as text")
    try:
        return inner[0].as_string().encode("utf-8", "replace")
    except Exception:
        return b""


# Other text types (calendar invitations, CSV, vCards) are files the customer sent.
_BODY_TYPES = frozenset({"text/plain", "text/html", "text/enriched"})
# The machine-readable halves of a delivery report: not the customer's files.
_REPORT_TYPES = frozenset({"message/delivery-status", "text/rfc822-headers"})


def _collect(
    msg: Message, defects: list[str]
) -> tuple[list[str], list[str], list[tuple[str, str, bytes]]]:
    """Walk the MIME tree: the plain bodies, the HTML bodies and the attachments."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[tuple[str, str, bytes]] = []
    limit = settings.CASEDESK_MAX_ATTACHMENTS * 5
    skipped = 0
    # An explicit stack instead of msg.walk(): a message/rfc822 part is kept whole
    # as an .eml attachment and not descended into (nested mail is not our body).
    stack: list[Message] = [msg]
    seen = 0
    while stack:
        part = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} MIME parts; the rest ignored")
            break
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part is not msg:
            if len(attachments) >= limit:
                skipped += 1
                continue
            data = _nested_bytes(part, defects)
            name = _filename(part) or _default_name(ctype, len(attachments) + 1)
            if not name.lower().endswith(".eml"):
                name += ".eml"
            attachments.append((name, ctype, data))
            continue
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(c for c in reversed(children) if isinstance(c, Message))
            continue
        if _is_attachment(part) or ctype not in _BODY_TYPES:
            if ctype.startswith("multipart/") or ctype in _REPORT_TYPES:
                continue
            if len(attachments) >= limit:
                skipped += 1
                continue
            name = _filename(part) or _default_name(ctype, len(attachments) + 1)
            # Archives are stored as they came: never opened, so a zip bomb costs its size.
            attachments.append((name, ctype, _part_bytes(part, defects)))
        elif ctype == "text/html":
            html.append(_part_text(part, defects))
        else:
            plain.append(_part_text(part, defects))
    if skipped:
        defects.append(f"{skipped} attachments over the limit of {limit} were not kept")
    return plain, html, attachments


def _date(msg: Message, defects: list[str]) -> datetime | None:
    value = _header(msg, "Date", defects)
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unreadable Date header")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes; never raises (the worst case is an empty ParsedMail)."""
    defects: list[str] = []
    try:
        return _parse(raw, defects)
    except Exception as exc:  # last resort: nothing may crash intake
        defects.append(f"parse failed ({type(exc).__name__}: {str(exc)[:200]})")
        text = _charset_decode(raw[:MAX_TEXT_CHARS], None, defects)
        return ParsedMail(
            message_id="",
            in_reply_to="",
            references=[],
            subject="",
            from_address="",
            from_name="",
            to=[],
            cc=[],
            date=None,
            text=text,
            html="",
            reply_text=text,
            attachments=[],
            auto=None,
            bounce=None,
            defects=defects,
        )


def _parse(raw: bytes, defects: list[str]) -> ParsedMail:
    if not raw.strip():
        defects.append("empty message")
    # compat32 first: the modern policy builds an object for every header and
    # Content-Type it touches, 14 times slower on an ordinary reply (3.6 ms against
    # 0.25 ms), and we read headers raw (headers.py) and decode filenames ourselves
    # anyway. The modern policy is the fallback for a tree compat32 chokes on.
    try:
        msg = _load(raw, email.policy.compat32)
        plain, html_parts, attachments = _collect(msg, defects)
    except Exception as exc:
        defects.append(
            f"compat32 parse failed ({type(exc).__name__}); retried with the default policy"
        )
        msg = _load(raw, email.policy.default)
        plain, html_parts, attachments = _collect(msg, defects)
    for defect in getattr(msg, "defects", [])[:20]:
        defects.append(type(defect).__name__)

    html_raw = "\n".join(html_parts)
    text = "\n\n".join(p for p in plain if p.strip())
    if not text.strip() and html_raw:
        text = html_to_text(html_raw)
    reply_text = extract_reply(text) if text.strip() else extract_reply("", html_raw)

    senders = _addresses(msg, "From", defects)
    from_name, from_address = senders[0] if senders else ("", "")
    if not from_address:
        from_name, from_address = parseaddr(_header(msg, "From", defects))
        from_address = from_address.lower() if "@" in from_address else ""

    bounce = find_bounce(msg)
    auto = detect_auto(msg, bounce)
    refs = _ids(_header(msg, "References", defects))[-MAX_REFERENCES:]
    in_reply_to = _ids(_header(msg, "In-Reply-To", defects))
    return ParsedMail(
        message_id=(_ids(_header(msg, "Message-ID", defects)) or [""])[0],
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=refs,
        subject=_header(msg, "Subject", defects),
        from_address=from_address,
        from_name=from_name,
        to=[a for _, a in _addresses(msg, "To", defects)],
        cc=[a for _, a in _addresses(msg, "Cc", defects)],
        date=_date(msg, defects),
        text=text,
        html=sanitize_html(html_raw) if html_raw.strip() else "",
        reply_text=reply_text,
        attachments=attachments,
        auto=auto,
        bounce=bounce,
        defects=defects,
        bulk=is_bulk(msg),
        reply_to=[a for _, a in _addresses(msg, "Reply-To", defects)],
    )
