"""Copies of case mail: the requester in To and the case's CC'd people in Cc, over a real
SMTP conversation, never a note, never a bouncing address, never us, never twice."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.mail.actions import mail_cc
from casedesk.mail.jobs import deliver
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.conftest import SmtpServer
from casedesk.tickets.actions import MailHeaders, add_message, submit_case
from casedesk.tickets.models import Ticket

SUPPORT = "support@casedesk.localhost"


def deliver_queued() -> list[str]:
    return [
        deliver(pk)
        for pk in OutboundMail.objects.filter(status="queued").order_by("pk")
        .values_list("pk", flat=True)
    ]


def case_by_email(requester: User, cc: tuple[str, ...]) -> Ticket:
    """A case opened by an email that was also sent to `cc` (as mail.ingest opens it)."""
    return submit_case(
        email=requester.email, full_name=requester.full_name, subject="Resolver 2 is down",
        description="Nothing resolves since 09:00.", priority=Priority.HIGH, category=None,
        files=[], channel=Ticket.Channel.EMAIL, submitted_by=requester,
        mail=MailHeaders(message_id="<first@gulfnet.example>", cc=cc),
    ).ticket


def test_a_public_reply_goes_to_the_requester_with_the_cases_cc_in_cc_and_the_envelope(
    db: Any, settings: Any, smtp: SmtpServer, contact: User, agent: User
) -> None:
    # Given a case opened by an email copied to two colleagues, to us, and to a colleague
    # whose address bounces
    settings.CASEDESK_EMAIL_URL = smtp.url()
    settings.CASEDESK_SUPPORT_EMAIL = SUPPORT
    make_contact(contact.organization, email="gone@gulfnet.example",
                 email_bouncing_at=timezone.now())
    ticket = case_by_email(contact, cc=(
        "Boss@Gulfnet.example", "noc@gulfnet.example", SUPPORT, "gone@gulfnet.example",
    ))
    assert ticket.cc_list() == [
        "boss@gulfnet.example", "noc@gulfnet.example", SUPPORT, "gone@gulfnet.example",
    ]

    # When an agent answers and the mail is delivered
    add_message(ticket.pk, agent, "We restarted resolver 2.", [])
    assert deliver_queued() == ["sent", "sent"]

    # Then the acknowledgement and the reply each went to the requester, copied to the two
    # colleagues who can receive mail: never to us, never to the bouncing address
    copied = ["boss@gulfnet.example", "noc@gulfnet.example"]
    ack, reply = smtp.inbox.envelopes
    assert ack.rcpt_tos == [contact.email, *copied]
    assert reply.rcpt_tos == [contact.email, *copied]
    message = smtp.inbox.messages[1]
    assert message["To"] == contact.email
    assert message["Cc"] == ", ".join(copied)
    assert "We restarted resolver 2." in message.get_content()
    # And the outbox row shows who was copied, for the admin
    stored = OutboundMail.objects.get(kind=OutboundMail.Kind.REPLY)
    assert stored.cc_list() == copied


def test_an_internal_note_is_never_mailed_to_anyone(
    db: Any, settings: Any, smtp: SmtpServer, contact: User, agent: User
) -> None:
    # Given a case with a CC'd colleague, its acknowledgement already sent
    settings.CASEDESK_EMAIL_URL = smtp.url()
    ticket = case_by_email(contact, cc=("boss@gulfnet.example",))
    deliver_queued()
    sent = len(smtp.inbox.envelopes)

    # When an agent adds an internal note
    add_message(ticket.pk, agent, "Customer's router is misconfigured; don't say so.", [],
                internal=True)

    # Then nothing is queued or sent: neither the requester nor the CC'd colleague
    assert deliver_queued() == []
    assert len(smtp.inbox.envelopes) == sent
    assert not OutboundMail.objects.filter(body_text__contains="misconfigured").exists()


def test_the_cc_never_repeats_the_to_address_nor_names_one_twice(db: Any, settings: Any) -> None:
    # Given a CC list that holds the recipient (in other case), us, and a repeated address
    settings.CASEDESK_SUPPORT_EMAIL = SUPPORT
    settings.CASEDESK_SUPPORT_ADDRESSES = ["help@casedesk.localhost"]
    addresses = [
        "Noor@Gulfnet.example", "boss@gulfnet.example", "BOSS@gulfnet.example",
        "help@casedesk.localhost", SUPPORT.upper(), " ", settings.DEFAULT_FROM_EMAIL,
    ]

    # Then only the other person is copied, once
    assert mail_cc("noor@gulfnet.example", addresses) == ["boss@gulfnet.example"]


def test_mail_that_is_not_about_the_case_thread_is_not_copied(
    db: Any, settings: Any, send_mail: Any, agent: User
) -> None:
    # Given a new requester at a partner, whose first case (by email) was copied to a
    # colleague: they get an acknowledgement and an invitation to set a password
    org = make_org("Atlas", domains="atlas.example")
    requester = make_contact(org, email="lina@atlas.example", password=None)
    case_by_email(requester, cc=("karim@atlas.example",))
    submitted = list(OutboundMail.objects.order_by("pk").values_list("kind", "cc"))

    # Then the acknowledgement is copied; the invitation (a personal sign-in link) is not
    assert submitted == [
        (OutboundMail.Kind.INVITATION, ""),
        (OutboundMail.Kind.ACKNOWLEDGEMENT, "karim@atlas.example"),
    ]
    delivered = {m["Auto-Submitted"]: m for m in send_mail()}
    assert delivered["auto-generated"]["Cc"] is None  # the invitation
    assert delivered["auto-replied"]["Cc"] == "karim@atlas.example"  # the acknowledgement


def test_an_agent_reply_to_a_case_without_cc_has_no_cc_header(
    db: Any, send_mail: Any, contact: User
) -> None:
    ticket = case_by_email(contact, cc=())
    add_message(ticket.pk, make_agent(), "Done.", [])
    assert [m["Cc"] for m in send_mail()] == [None, None]
