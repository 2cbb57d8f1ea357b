"""Fuzzing the mail path (issue 8.9): generated RFC 822 messages (random headers, encoded
words in any charset, nested MIME, broken base64 and quoted-printable, raw garbage) through
the parser and through the real queue (store, claim, ingest).

The parser never raises and never falls back to its last resort (a "parse failed" defect:
that fallback hides a bug); every stored message ends processed, ignored or quarantined,
never stuck; and a message a person could have sent (a sender address, a body) becomes a
case or a reply, never a quarantined error.

A few hundred examples in the normal suite; `make soak` multiplies them with
CASEDESK_FUZZ_SCALE (thousands, see docs/soak.md).
"""

from __future__ import annotations

import base64
import os
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casedesk.mail.inbound_jobs import process_due
from casedesk.mail.intake import store_raw
from casedesk.mail.models import InboundMessage
from casedesk.mail.parse import parse_message

SCALE = float(os.environ.get("CASEDESK_FUZZ_SCALE", "1"))


def examples(n: int) -> Any:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


CHARSETS = ["utf-8", "iso-8859-1", "windows-1256", "iso-8859-6", "utf-16", "koi8-r",
            "gb2312", "shift_jis", "x-unknown-charset", "utf-7", "us-ascii", ""]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120)
HEADER_NAMES = ["Subject", "From", "To", "Cc", "Reply-To", "Message-ID", "In-Reply-To",
                "References", "Date", "Auto-Submitted", "Precedence", "X-Autoreply",
                "Content-Type", "Content-Transfer-Encoding", "Return-Path", "X-Random"]
ADDRESSES = st.one_of(
    st.just("Noor Haddad <noor@gulfnet.example>"),
    st.emails().map(str),
    st.builds(lambda n, a: f'"{n}" <{a}>', TEXT.map(lambda t: t.replace('"', "")[:40]),
              st.emails()),
    TEXT,
    st.just("<>"), st.just("MAILER-DAEMON@mx.example"), st.just("undisclosed-recipients:;"),
)


def encoded_word(text: str, charset: str, b: bool) -> str:
    try:
        data = text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        data = text.encode("utf-8", "replace")
    if b:
        return f"=?{charset or 'utf-8'}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset or 'utf-8'}?Q?{data.hex('=').upper()}?="


@st.composite
def header_value(draw: Any) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(TEXT)
    if kind == 1:
        return encoded_word(draw(TEXT), draw(st.sampled_from(CHARSETS)), draw(st.booleans()))
    if kind == 2:
        return draw(ADDRESSES)
    return "<" + draw(TEXT.map(lambda t: t.replace(">", ""))) + "@" + draw(TEXT) + ">"


@st.composite
def part_bytes(draw: Any, depth: int = 0) -> bytes:
    """One MIME entity as bytes: headers, a blank line, a body (maybe broken)."""
    multipart = depth < 3 and draw(st.integers(0, 3)) == 0
    lines = []
    if multipart:
        boundary = draw(st.sampled_from(["b1", "==x==", "", "a" * 80, "--"]))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report",
                                        "signed", "digest"]))
        lines.append(f'Content-Type: multipart/{subtype}; boundary="{boundary}"')
        children = draw(st.lists(part_bytes(depth + 1), max_size=3))
        body = b"".join(f"--{boundary}\r\n".encode() + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += f"--{boundary}--\r\n".encode()
        return "\r\n".join(lines).encode() + b"\r\n\r\n" + body
    ctype = draw(st.sampled_from(["text/plain", "text/html", "image/png",
                                  "application/octet-stream", "message/rfc822",
                                  "message/delivery-status", "text/calendar", "garbage",
                                  "application/pdf"]))
    charset = draw(st.sampled_from(CHARSETS))
    params = f"; charset={charset}" if charset else ""
    if draw(st.booleans()):
        name = draw(st.one_of(TEXT, st.just("../../etc/passwd"), st.just("a.exe")))
        name = encoded_word(name, "utf-8", True) if draw(st.booleans()) else name
        params += f'; name="{name}"'
        lines.append(f'Content-Disposition: attachment; filename="{name}"')
    lines.append(f"Content-Type: {ctype}{params}")
    cte = draw(st.sampled_from(["", "base64", "quoted-printable", "7bit", "8bit", "x-uuencode",
                                "binary"]))
    if cte:
        lines.append(f"Content-Transfer-Encoding: {cte}")
    raw = draw(st.one_of(TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=300)))
    if cte == "base64" and draw(st.booleans()):
        raw = base64.b64encode(raw)
        if draw(st.booleans()):  # broken: cut, padded wrong, or garbage inside
            raw = raw[: max(0, len(raw) - draw(st.integers(1, 3)))] + b"=!*"
    elif cte == "quoted-printable" and draw(st.booleans()):
        raw += b"=Z9=\r\n="
    return "\r\n".join(lines).encode("utf-8", "replace") + b"\r\n\r\n" + raw


@st.composite
def rfc822(draw: Any) -> bytes:
    headers = []
    for name in draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=10)):
        value = draw(header_value())
        headers.append(f"{name}: {value}".replace("\n", " ").replace("\r", " "))
    head = "\r\n".join(headers).encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        head = head.replace(b"\r\n", b"\n")  # bare LF, as some mailers send
    return head + b"\r\n" + draw(part_bytes())


@st.composite
def personal_mail(draw: Any) -> bytes:
    """A message a person could send: a sender address and a body, the rest generated."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = draw(st.sampled_from(["Noor Haddad <noor@gulfnet.example>",
                                        "someone.new@isp.example", "Lina <lina@atlasbb.example>"]))
    msg["To"] = "support@casedesk.localhost"
    # Every line break str.splitlines knows (NEL, LS, PS too): a header is one line.
    msg["Subject"] = " ".join(draw(TEXT).splitlines())
    if draw(st.booleans()):
        msg["In-Reply-To"] = f"<{draw(st.integers(0, 10**9))}@somewhere.example>"
    body = draw(TEXT)
    charset = draw(st.sampled_from(["utf-8", "iso-8859-6", "windows-1256"]))
    try:
        body.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    msg.set_content(body + "\n", charset=charset)
    if draw(st.booleans()):
        msg.add_attachment(draw(st.binary(max_size=200)), maintype="application",
                           subtype="octet-stream", filename=draw(TEXT)[:60] or "file.bin")
        # A fixed boundary: the email package's own comes from `random`, which hypothesis
        # asks strategies not to use.
        msg.set_boundary("fuzz-boundary-0f3c")
    return msg.as_bytes()


def run_through_queue(raw: bytes) -> InboundMessage:
    stored = store_raw(raw, source=InboundMessage.Source.IMPORT).inbound
    process_due()
    stored.refresh_from_db()
    return stored


@examples(200)
@given(raw=st.one_of(rfc822(), st.binary(max_size=600)))
def test_the_parser_takes_anything_without_its_last_resort(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert not [d for d in parsed.defects if d.startswith("parse failed")], parsed.defects
    assert isinstance(parsed.subject, str) and isinstance(parsed.text, str)


@examples(20)
@given(raw=rfc822())
def test_any_message_ends_processed_ignored_or_quarantined(db: Any, raw: bytes) -> None:
    inbound = run_through_queue(raw)
    assert inbound.status in ("processed", "ignored", "quarantined"), inbound.status
    if inbound.status == "quarantined":
        assert inbound.error  # an admin sees why


@examples(10)
@given(raw=personal_mail())
def test_a_persons_mail_becomes_a_case_or_a_reply(db: Any, raw: bytes) -> None:
    inbound = run_through_queue(raw)
    assert (inbound.status, inbound.error[:300]) == ("processed", "")
    assert inbound.result in ("new_case", "reply")
    assert inbound.ticket_id is not None
