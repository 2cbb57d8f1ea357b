"""parse_message: raw inbound bytes to what a case needs, whatever the bytes are."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from casedesk.mail.parse import MAX_HEADER_CHARS, parse_message


def mail(body: str = "Hello", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ada Lovelace <ada@example.com>")
    msg["To"] = headers.pop("To", "support@casedesk.localhost")
    msg["Subject"] = headers.pop("Subject", "Printer on fire")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@example.com>")
    msg["Date"] = "Thu, 26 Nov 2026 10:00:00 +0300"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_plain_reply_yields_headers_text_and_the_new_text() -> None:
    # Given a customer's reply to our notification, quoting it
    msg = mail(
        "Still broken after the restart.\n\nOn Wed, Nov 25, 2026 at 9:00 AM Support "
        "<support@casedesk.localhost> wrote:\n> We restarted the service.\n",
        In_Reply_To="<out-1@casedesk.localhost>",
        References="<out-0@casedesk.localhost> <out-1@casedesk.localhost>",
        Cc="Bob <BOB@example.com>",
    )
    # When it is parsed
    parsed = parse_message(msg.as_bytes(policy=SMTP))
    # Then the threading headers, the sender and the new text are there
    assert parsed.message_id == "<m1@example.com>"
    assert parsed.in_reply_to == "<out-1@casedesk.localhost>"
    assert parsed.references == ["<out-0@casedesk.localhost>", "<out-1@casedesk.localhost>"]
    assert (parsed.from_address, parsed.from_name) == ("ada@example.com", "Ada Lovelace")
    assert parsed.cc == ["bob@example.com"]
    assert parsed.subject == "Printer on fire"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert "We restarted the service" in parsed.text
    assert parsed.reply_text == "Still broken after the restart."
    assert parsed.auto is None and parsed.answerable


def test_koi8r_body_and_encoded_subject_are_decoded() -> None:
    # Given a Russian message in KOI8-R with an encoded-word subject
    body = "Добрый день, принтер не печатает.".encode("koi8-r")
    raw = (
        b"From: a@example.ru\r\nSubject: =?koi8-r?B?"
        + base64.b64encode("Принтер".encode("koi8-r"))
        + b"?=\r\nContent-Type: text/plain; charset=koi8-r\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Принтер"
    assert parsed.text.strip() == "Добрый день, принтер не печатает."


def test_unknown_charset_falls_back_and_says_so() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=x-no-such-thing\r\n\r\n"
        b"caf\xc3\xa9 and caf\xe9"
    )
    parsed = parse_message(raw)
    # utf-8 fails on the lone \xe9, so cp1252 decodes both (never a crash, never lost)
    assert "caf" in parsed.text and "and" in parsed.text
    assert any("unknown charset" in d for d in parsed.defects)


def test_invalid_base64_does_not_crash() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all###\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_address == "a@example.com"


def test_html_only_mail_is_converted_and_sanitized() -> None:
    # Given an HTML-only mail with a script and a quoted history
    msg = mail()
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>New <b>text</b></p>"
        "<script>alert(1)</script><a href='https://x.example' onclick='evil()'>link</a>"
        "<div class='gmail_quote'>On Mon, Bob wrote:<blockquote>old</blockquote></div>"
        "</body></html>",
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    # Then the text is readable, the HTML safe, and the reply is the new text
    assert "New text" in parsed.text and "color" not in parsed.text
    assert "<script" not in parsed.html and "onclick" not in parsed.html
    assert "<b>text</b>" in parsed.html
    assert parsed.reply_text.startswith("New text")
    assert "old" not in parsed.reply_text


def test_attachment_names_in_rfc2231_and_encoded_words_are_decoded() -> None:
    raw = (
        b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4") + b"\r\n"
        b"--B\r\nContent-Type: image/png\r\n"
        b'Content-Disposition: inline; filename="=?koi8-r?B?'
        + base64.b64encode("снимок.png".encode("koi8-r"))
        + b'?="\r\nContent-ID: <img1>\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.b64encode(b"\x89PNG\r\n")
        + b"\r\n--B--\r\n"
    )
    parsed = parse_message(raw)
    assert [(n, t, c) for n, t, c in parsed.attachments] == [
        ("تقرير.pdf", "application/pdf", b"%PDF-1.4"),
        ("снимок.png", "image/png", b"\x89PNG\r\n"),
    ]


def test_attachment_name_is_never_a_path() -> None:
    msg = mail()
    msg.add_attachment(
        b"x", maintype="application", subtype="octet-stream", filename="../../etc/passwd"
    )
    parsed = parse_message(msg.as_bytes())
    assert parsed.attachments[0][0] == "passwd"


def test_nested_message_is_kept_whole_as_an_eml_attachment() -> None:
    inner = mail("the forwarded original", Subject="Inner", Message_ID="<inner@example.com>")
    outer = mail("FYI, see the attached mail")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert parsed.reply_text == "FYI, see the attached mail"
    [(name, ctype, data)] = parsed.attachments
    assert name.endswith(".eml") and ctype == "message/rfc822"
    assert b"the forwarded original" in data
    assert parsed.message_id == "<m1@example.com>"


def test_five_hundred_attachments_are_bounded(settings: Any) -> None:
    # Given a limit of 10 attachments (so at most 50 are parsed) and a mail with 500
    settings.CASEDESK_MAX_ATTACHMENTS = 10
    msg = mail()
    for i in range(500):
        msg.add_attachment(
            b"data", maintype="application", subtype="octet-stream", filename=f"f{i}.bin"
        )
    parsed = parse_message(msg.as_bytes())
    assert len(parsed.attachments) == 50
    assert any("450 attachments" in d for d in parsed.defects)


def test_zip_is_stored_as_it_came_never_opened() -> None:
    # A zip bomb's danger is decompression; we keep the archive bytes only.
    zip_bytes = b"PK\x03\x04" + b"\x00" * 100
    msg = mail()
    msg.add_attachment(zip_bytes, maintype="application", subtype="zip", filename="bomb.zip")
    parsed = parse_message(msg.as_bytes())
    assert parsed.attachments == [("bomb.zip", "application/zip", zip_bytes)]


def test_megabyte_header_is_cut() -> None:
    raw = b"From: a@example.com\r\nSubject: " + b"x" * 1_000_000 + b"\r\n\r\nbody"
    parsed = parse_message(raw)
    assert len(parsed.subject) <= MAX_HEADER_CHARS
    assert any("Subject header cut" in d for d in parsed.defects)


def test_empty_and_headerless_messages_parse() -> None:
    assert parse_message(b"").defects[0] == "empty message"
    parsed = parse_message(b"just some text, no headers")
    assert parsed.from_address == "" and parsed.message_id == ""


def test_duplicated_headers_take_the_first() -> None:
    raw = (
        b"From: a@example.com\r\nFrom: b@example.com\r\nMessage-ID: <1@x>\r\n"
        b"Message-ID: <2@x>\r\n\r\nhi"
    )
    parsed = parse_message(raw)
    assert parsed.from_address == "a@example.com"
    assert parsed.message_id == "<1@x>"


_SEED = mail(
    "Hello\n\nOn Mon, Bob wrote:\n> quoted\n",
    Cc="c@example.com",
    In_Reply_To="<x@y>",
)
_SEED.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="a.png")
SEED_BYTES = _SEED.as_bytes()


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed.text, str)


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SEED_BYTES) - 1), st.binary(min_size=0, max_size=8)),
        min_size=1,
        max_size=8,
    )
)
def test_mutated_real_message_never_raises(edits: list[tuple[int, bytes]]) -> None:
    raw = bytearray(SEED_BYTES)
    for pos, chunk in edits:
        raw[pos : pos + len(chunk)] = chunk
    parsed = parse_message(bytes(raw))
    assert isinstance(parsed.reply_text, str)


def test_a_calendar_invitation_is_a_file_not_the_body() -> None:
    msg = mail("Can we meet?")
    msg.add_attachment("BEGIN:VCALENDAR\nEND:VCALENDAR\n", subtype="calendar")
    parsed = parse_message(msg.as_bytes())
    assert parsed.reply_text == "Can we meet?"
    [(name, ctype, data)] = parsed.attachments
    assert ctype == "text/calendar" and name.endswith(".ics") and b"VCALENDAR" in data


def test_simple_addresses_read_as_getaddresses_reads_them() -> None:
    from email.utils import getaddresses

    from casedesk.mail.parse import simple_addresses

    simple = ["Contact <contact3@partner4.example>", "support@casedesk.localhost",
              "سارة أحمد <s.a@x-y.example>", "A_B 2 <a+b_c-d@e.f>", "Zoë Ångström <z@x>"]
    for value in simple:
        assert simple_addresses([value]) == getaddresses([value])
    assert simple_addresses(simple) == getaddresses(simple)
    # Anything else goes to getaddresses
    for value in ['"Doe, J." <j@x.example>', "J. Doe <j@x.example>", "a@b, c@d",
                  "Ann  <a@b.example>", "Ann<a@b.example>", "<a@b.example>", "a..b@c",
                  "=?utf-8?q?Ann?= <a@b.example>", "Ann (work) <a@b.example>", ""]:
        assert simple_addresses([value]) is None, value
