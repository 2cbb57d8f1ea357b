"""Loop protection: which inbound mail is automatic, which is a bounce, which is a person."""

from __future__ import annotations

import pytest

from casedesk.mail.parse import parse_message


def raw(headers: str, body: str = "Hello") -> bytes:
    head = "From: Ada <ada@example.com>\r\nTo: support@casedesk.localhost\r\n"
    return (head + headers.replace("\n", "\r\n") + "\r\n" + body).encode()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied\n", "auto-submitted"),
        ("Auto-Submitted: Auto-Generated\n", "auto-submitted"),
        ("Auto-Submitted: auto-notified; owner-email=x@y\n", "auto-submitted"),
        ("X-Autoreply: yes\n", "autoreply-header"),
        ("X-Autorespond: On vacation\n", "autoreply-header"),
        ("Subject: Re: [issue1] Out of office AutoReply: Back next week\n", "auto-subject"),
        ("Subject: Automatic reply: printer\n", "auto-subject"),
        ("Subject: رد تلقائي: الطابعة\n", "auto-subject"),
    ],
)
def test_automatic_mail_is_never_answered(headers: str, reason: str) -> None:
    parsed = parse_message(raw(headers))
    assert parsed.auto == reason
    assert not parsed.answerable


def test_auto_submitted_no_with_odd_spacing_is_a_person() -> None:
    # roundup keeps "Auto-submitted:   No  ": a person's client saying it is not automatic
    parsed = parse_message(raw("Auto-submitted:   No  \nSubject: Re: printer\n"))
    assert parsed.auto is None and parsed.answerable


@pytest.mark.parametrize("precedence", ["bulk", "junk", "list", "BULK"])
def test_precedence_alone_keeps_the_message_but_suppresses_acknowledgements(
    precedence: str,
) -> None:
    # Human replies through lists and some clients carry Precedence: bulk; their
    # text must reach the case, but we never send an automatic answer to them.
    parsed = parse_message(raw(f"Precedence: {precedence}\nSubject: Re: printer\n"))
    assert parsed.auto is None
    assert parsed.bulk and not parsed.answerable
    assert parsed.reply_text == "Hello"


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"])
def test_daemon_senders_are_automatic(sender: str) -> None:
    parsed = parse_message(f"From: {sender}\r\nSubject: hello\r\n\r\nSomething happened".encode())
    assert parsed.auto == "mailer-daemon"


# A standard RFC 3464 report for a failed delivery to bob.
DSN_REPORT = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
    b"To: support@casedesk.localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
    b"--R\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
    b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
    b"Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\n"
    b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
    b"--R--\r\n"
)


def test_delivery_status_report_is_a_bounce_with_its_failed_address() -> None:
    # Given a standard RFC 3464 report for a failed delivery to bob
    parsed = parse_message(DSN_REPORT)
    assert parsed.auto == "bounce"
    assert parsed.bounce is not None
    assert parsed.bounce.addresses == ("bob@example.org",)
    assert parsed.bounce.permanent
    # And the server's reason, for the case's history
    assert parsed.bounce.reason == "550 5.1.1 no such user"


def test_a_report_names_the_bounced_mail_from_the_headers_it_returns() -> None:
    # Given a report without a Diagnostic-Code, returning the headers of our mail
    report = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undeliverable\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; dan@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        b"--R\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <ack-1@casedesk.localhost>\r\nSubject: [Case #100001] Printer\r\n"
        b"--R--\r\n"
    )
    parsed = parse_message(report)
    assert parsed.bounce is not None
    # Then the reason is the status code with its meaning, and the bounced mail is named
    assert parsed.bounce.reason == "5.2.2 mailbox full"
    assert parsed.bounce.original_message_id == "<ack-1@casedesk.localhost>"


def test_delayed_delivery_report_is_a_temporary_bounce() -> None:
    report = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Delayed Mail\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; carol@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
        b"--R--\r\n"
    )
    parsed = parse_message(report)
    assert parsed.bounce is not None
    assert parsed.bounce.addresses == ("carol@example.org",)
    assert not parsed.bounce.permanent


def test_a_person_mentioning_out_of_office_is_a_person() -> None:
    parsed = parse_message(raw("Subject: Re: is the office out of paper?\n"))
    assert parsed.auto is None and parsed.bounce is None
