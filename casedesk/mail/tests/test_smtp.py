"""Outbound mail over a real SMTP conversation: plain, with credentials, STARTTLS and
implicit TLS, as CASEDESK_EMAIL_URL says."""

from __future__ import annotations

from typing import Any

import pytest

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.mail.jobs import deliver
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.conftest import (
    Certificate,
    Inbox,
    SmtpServer,
    password_checker,
    smtp_server,
)

# Password sign-in on a plain connection is what these tests check on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, SECRET = "desk@kidzonet.example", "p@ss:w/rd with spaces"
# The same credentials, percent-encoded as they must be inside a URL.
CREDENTIALS = "desk%40kidzonet.example:p%40ss%3Aw%2Frd%20with%20spaces"


def deliver_queued() -> list[str]:
    return [
        deliver(pk)
        for pk in OutboundMail.objects.filter(status="queued").values_list("pk", flat=True)
    ]


def test_the_acknowledgement_reaches_the_smtp_server_with_the_case_id(
    db: Any, settings: Any, smtp: SmtpServer
) -> None:
    # Given mail goes out through an SMTP server, and a known contact opens a case
    settings.CASEDESK_EMAIL_URL = smtp.url()
    contact = make_contact(make_org(plan="Premium"))
    ticket = make_case(contact, subject="Resolver 2 lets adult sites through").ticket

    # When the delivery job runs
    assert deliver_queued() == ["sent"]

    # Then the server received the acknowledgement, addressed and threaded as stored
    mail = OutboundMail.objects.get(ticket=ticket)
    [envelope] = smtp.inbox.envelopes
    assert envelope.mail_from == settings.DEFAULT_FROM_EMAIL
    assert envelope.rcpt_tos == [contact.email]
    [message] = smtp.inbox.messages
    assert message["To"] == contact.email
    assert message["Subject"] == f"[Case #{ticket.pk}] Resolver 2 lets adult sites through"
    assert message["Message-ID"] == mail.message_id
    assert message["X-Casedesk-Case"] == str(ticket.pk)
    body = message.get_content()
    assert f"Your Case ID is {ticket.pk}." in body
    assert "within 1 hour (Premium plan)" in body
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, "")
    assert mail.sent_at is not None


def test_credentials_in_the_url_sign_in_to_the_server(db: Any, settings: Any) -> None:
    # Given a server that requires a password, and a URL carrying the right one
    inbox = Inbox()
    with smtp_server(
        inbox=inbox, authenticator=password_checker(inbox, USER, SECRET),
        auth_require_tls=False, auth_required=True,
    ) as server:
        settings.CASEDESK_EMAIL_URL = server.url(credentials=CREDENTIALS)
        make_case(make_contact(make_org()))

        # When the mail is delivered
        statuses = deliver_queued()

    # Then the client signed in with the decoded user name and password, and was accepted
    assert statuses == ["sent"]
    assert inbox.logins == [(USER, SECRET)]
    assert len(inbox.envelopes) == 1


def test_a_wrong_password_is_kept_as_the_error_and_retried(db: Any, settings: Any) -> None:
    # Given a server that refuses the password in the URL
    inbox = Inbox()
    with smtp_server(
        inbox=inbox, authenticator=password_checker(inbox, USER, SECRET),
        auth_require_tls=False, auth_required=True,
    ) as server:
        settings.CASEDESK_EMAIL_URL = server.url(credentials="desk%40kidzonet.example:wrong")
        ticket = make_case(make_contact(make_org())).ticket

        # When the delivery is tried
        statuses = deliver_queued()

    # Then nothing was sent; the mail waits for a retry with the server's answer as error
    assert statuses == ["queued"]
    assert inbox.envelopes == []
    mail = OutboundMail.objects.get(ticket=ticket)
    assert mail.attempts == 1
    assert "535" in mail.last_error and "Authentication" in mail.last_error
    assert "wrong" not in mail.last_error


def test_starttls_is_used_when_the_url_asks_for_it(
    db: Any, settings: Any, trust: Certificate
) -> None:
    # Given a server that signs in only over TLS, reached with ?tls=1 (STARTTLS)
    inbox = Inbox()
    with smtp_server(
        inbox=inbox, authenticator=password_checker(inbox, USER, SECRET),
        tls_context=trust.server_context(), require_starttls=True, auth_require_tls=True,
        auth_required=True,
    ) as server:
        settings.CASEDESK_EMAIL_URL = server.url(credentials=CREDENTIALS, query="?tls=1")
        make_case(make_contact(make_org()))

        # When the mail is delivered
        statuses = deliver_queued()

    # Then it went over an encrypted session, after signing in
    assert statuses == ["sent"]
    assert inbox.tls_sessions == [True]
    assert inbox.logins == [(USER, SECRET)]


def test_smtps_speaks_tls_from_the_first_byte(
    db: Any, settings: Any, trust: Certificate
) -> None:
    # Given a server that only speaks TLS (port 465 style)
    inbox = Inbox()
    with smtp_server(inbox=inbox, ssl_context=trust.server_context()) as server:
        settings.CASEDESK_EMAIL_URL = server.url(scheme="smtps")
        make_case(make_contact(make_org()))

        # When the mail is delivered
        statuses = deliver_queued()

    # Then the server received it
    assert statuses == ["sent"]
    assert len(inbox.envelopes) == 1


def test_a_server_whose_certificate_is_not_trusted_is_not_sent_to(
    db: Any, settings: Any, certificate: Certificate
) -> None:
    # Given a STARTTLS server whose certificate no trusted authority signed
    inbox = Inbox()
    with smtp_server(
        inbox=inbox, tls_context=certificate.server_context(), require_starttls=True
    ) as server:
        settings.CASEDESK_EMAIL_URL = server.url(query="?tls=1")
        ticket = make_case(make_contact(make_org())).ticket

        # When the delivery is tried
        statuses = deliver_queued()

    # Then nothing is sent (no mail to an impostor) and the reason is kept for the admin
    assert statuses == ["queued"]
    assert inbox.envelopes == []
    assert "CERTIFICATE_VERIFY_FAILED" in OutboundMail.objects.get(ticket=ticket).last_error
