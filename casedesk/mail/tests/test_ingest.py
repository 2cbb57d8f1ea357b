"""Threading received mail onto cases (issue 4, points 5, 6 and 10), through the real
actions and the real database; mail we send goes through the real delivery job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import (
    PASSWORD,
    PNG_BYTES,
    make_agent,
    make_case,
    make_contact,
    make_org,
)
from casedesk.core.choices import Priority
from casedesk.mail.ingest import IngestResult, ingest
from casedesk.mail.models import OutboundMail
from casedesk.mail.parse import BounceInfo, ParsedMail, parse_message
from casedesk.sla.models import Clock, Target
from casedesk.tickets.actions import add_message, change_status
from casedesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
Outbox = Callable[[], list[EmailMessage]]
_n = iter(range(1, 10**9))


def parsed(**fields: Any) -> ParsedMail:
    """A received message as casedesk.mail.parse gives it; a person's plain reply unless
    told otherwise."""
    n = next(_n)
    text = fields.pop("text", "Here is more information.")
    values: dict[str, Any] = {
        "message_id": f"<customer-{n}@mail.example>", "in_reply_to": "", "references": [],
        "subject": "Filtering stopped", "from_address": "someone@example.org",
        "from_name": "Some One", "to": ["support@casedesk.localhost"], "cc": [],
        "date": timezone.now(), "text": text, "html": "", "reply_text": text,
        "attachments": [], "auto": None, "bounce": None,
    }
    values.update(fields)
    return ParsedMail(**values)


def case_of(result: IngestResult) -> Ticket:
    assert result.ticket_id is not None, result
    return Ticket.objects.get(pk=result.ticket_id)


def message_of(result: IngestResult) -> Message:
    assert result.message_id is not None, result
    return Message.objects.get(pk=result.message_id)


def ack_of(ticket: Ticket) -> OutboundMail:
    return OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)


def texts(ticket: Ticket) -> list[str]:
    return list(ticket.messages.order_by("pk").values_list("body", flat=True))


# ------------------------------------------------------------------ new cases


def test_a_new_email_opens_an_email_case_acknowledged_in_its_thread(send_mail: Outbox) -> None:
    # Given a first email from an unknown address
    mail = parsed(subject="Re: Fwd: DNS 2 lets adult sites through",
                  text="Since 09:00 resolver 2 lets adult sites through.",
                  from_address="Lina@Partner.example", from_name="Lina Haddad",
                  cc=["colleague@partner.example", "support@casedesk.localhost"])

    # When it is ingested
    result = ingest(mail, inbound_id=None)

    # Then a case is opened by email for the sender, with the email's text and Message-ID
    assert result.action == "new_case"
    ticket = case_of(result)
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.subject == "DNS 2 lets adult sites through"
    assert ticket.requester.email == "lina@partner.example"
    assert ticket.requester.full_name == "Lina Haddad"
    assert ticket.cc_list() == ["colleague@partner.example"]
    first = message_of(result)
    assert first.body == "Since 09:00 resolver 2 lets adult sites through."
    assert first.message_id_header == mail.message_id
    # And the acknowledgement answers that email, so the customer's client threads it
    ack = next(m for m in send_mail() if m["Subject"].startswith(f"[Case #{ticket.pk}]"))
    assert ack["In-Reply-To"] == mail.message_id
    assert ack["References"] == mail.message_id
    assert ack["Auto-Submitted"] == "auto-replied"


def test_a_case_id_in_a_strangers_subject_opens_their_own_case() -> None:
    # Given someone else's case, and a stranger who guesses its Case ID
    victim = make_case(make_contact(make_org())).ticket
    before = texts(victim)

    # When the stranger writes with that Case ID in every accepted tag form
    results = [
        ingest(parsed(subject=f"{tag} please add this", from_address="intruder@evil.example",
                      text="Injected text"))
        for tag in (f"[Case #{victim.pk}]", f"[case {victim.pk}]", f"[#{victim.pk}]")
    ]

    # Then nothing is added to the case; each message opens a case of the stranger's own
    assert texts(victim) == before
    assert [r.action for r in results] == ["new_case"] * 3
    for result in results:
        own = case_of(result)
        assert own.requester.email == "intruder@evil.example"
        assert own.related_to is None
        assert str(victim.pk) not in own.subject


def test_a_contact_of_another_organization_cannot_use_the_tag_either() -> None:
    victim = make_case(make_contact(make_org())).ticket
    other = make_contact(make_org())
    result = ingest(parsed(subject=f"[Case #{victim.pk}]", from_address=other.email,
                           text="Injected text"))
    assert result.action == "new_case"
    assert result.ticket_id != victim.pk
    assert "Injected text" not in texts(victim)


def test_new_cases_by_portal_setting_answer_with_a_pointer_and_store_no_case(
    settings: Any, send_mail: Outbox
) -> None:
    # Given new cases are opened on the portal only
    settings.CASEDESK_EMAIL_NEW_CASES = "portal"

    # When a new request arrives by email
    result = ingest(parsed(subject="Need help", from_address="new@example.org"))

    # Then no case is opened, and the sender is politely pointed to the portal, in thread
    assert result == IngestResult("portal_reply")
    assert not Ticket.objects.exists()
    [reply] = send_mail()
    assert reply["To"] == "new@example.org"
    assert reply["Subject"] == "Re: Need help"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert f"{settings.CASEDESK_BASE_URL}/" in reply.get_content()
    # And an automatic message in that mode gets no answer at all
    assert ingest(parsed(auto="auto-submitted")).action == "ignored"
    assert len(send_mail()) == 1


# ------------------------------------------------------------------ replies


def test_a_reply_to_the_acknowledgement_joins_the_case_with_only_its_new_text() -> None:
    # Given a case opened on the portal and its acknowledgement
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    ack = ack_of(ticket)

    # When the customer replies to the acknowledgement from their mail client
    full = "The log is below.\n\nOn Mon, Support wrote:\n> We have received your case."
    result = ingest(parsed(
        in_reply_to=ack.message_id, references=[ack.message_id],
        subject=f"Re: [Case #{ticket.pk}] Filtering", from_address=contact.email,
        text=full, reply_text="The log is below.",
    ))

    # Then the new text joins the case by email, and the whole email stays one click away
    assert (result.action, result.ticket_id) == ("reply", ticket.pk)
    message = message_of(result)
    assert (message.body, message.full_body) == ("The log is below.", full)
    assert (message.author, message.channel) == (contact, Ticket.Channel.EMAIL)
    assert message.is_public


def test_a_reply_threads_by_references_to_an_agents_reply_even_without_a_tag() -> None:
    # Given an agent's reply mailed to the requester
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    agent = make_agent()
    reply = add_message(ticket.pk, agent, "Which resolver?", [])
    reply.refresh_from_db()

    # When the customer answers with a subject they rewrote, citing it in References only
    result = ingest(parsed(references=["<unrelated@x.example>", reply.message_id_header],
                           subject="resolver", from_address=contact.email, text="Resolver 2"))

    # Then the answer joins the case
    assert (result.action, result.ticket_id) == ("reply", ticket.pk)
    assert texts(ticket)[-1] == "Resolver 2"


@pytest.mark.parametrize("who", ["requester", "cc", "organization contact", "agent"])
def test_a_subject_tag_from_the_cases_people_joins_the_case(who: str) -> None:
    # Given a case opened by email with a colleague copied, in an organization
    org = make_org()
    requester = make_contact(org)
    opened = ingest(parsed(from_address=requester.email, cc=["copied@elsewhere.example"]))
    ticket = case_of(opened)
    sender = {
        "requester": requester.email, "cc": "copied@elsewhere.example",
        "organization contact": make_contact(org).email,
        "agent": make_agent().email,
    }[who]

    # When that person writes a new email (no thread headers) with the tag
    result = ingest(parsed(subject=f"[Case #{ticket.pk}] more", from_address=sender,
                           text=f"News from the {who}"))

    # Then it joins the case as their reply (public: an agent's is mailed to the requester)
    assert (result.action, result.ticket_id) == ("reply", ticket.pk)
    assert message_of(result).is_public
    assert texts(ticket)[-1] == f"News from the {who}"
    assert message_of(result).author.email == sender


def test_an_agents_email_reply_is_a_public_reply_mailed_to_the_requester(
    send_mail: Outbox,
) -> None:
    # Given a case, and an escalation-style notification mailed to an agent about it
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    agent = make_agent()
    send_mail()
    notice = OutboundMail.objects.create(
        kind=OutboundMail.Kind.OTHER, ticket=ticket, to=agent.email, subject="Escalated",
        body_text="...", message_id="<notice-1@casedesk.localhost>",
        status=OutboundMail.Status.SENT,
    )

    # When the agent answers the notification by email
    result = ingest(parsed(in_reply_to=notice.message_id, from_address=agent.email,
                           subject="Re: Escalated", text="We pushed the list again."))

    # Then it is the agent's public reply, and the requester receives it
    message = message_of(result)
    assert (message.author, message.kind) == (agent, Message.Kind.PUBLIC)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    [mailed] = [m for m in send_mail() if m["To"] == contact.email and "pushed" in
                m.get_content()]
    assert mailed["Subject"] == f"[Case #{ticket.pk}] {ticket.subject}"


def test_a_customer_reply_to_a_pending_case_resumes_its_clocks() -> None:
    # Given a Premium case with a resolution target, waiting on the customer (clock paused)
    Target.objects.filter(plan__name="Premium", priority=Priority.HIGH).update(
        resolution_minutes=24 * 60
    )
    contact = make_contact(make_org(plan="Premium"))
    ticket = make_case(contact).ticket
    agent = make_agent()
    add_message(ticket.pk, agent, "Which resolver?", [], new_status=Ticket.Status.PENDING)
    resolution = Clock.objects.get(ticket=ticket, kind=Clock.Kind.RESOLUTION)
    assert resolution.paused_at is not None

    # When the customer answers by email, citing the case's tag
    ingest(parsed(subject=f"Re: [Case #{ticket.pk}]", from_address=contact.email))

    # Then the case needs an agent again and its resolution clock runs
    ticket.refresh_from_db()
    resolution.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert resolution.paused_at is None


def test_a_reply_within_the_window_reopens_a_resolved_case(settings: Any) -> None:
    # Given a case resolved a day ago, with a 7-day reopen window
    settings.CASEDESK_REOPEN_DAYS = 7
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    change_status(ticket.pk, make_agent(), Ticket.Status.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=1))

    # When the customer writes back
    result = ingest(parsed(subject=f"Re: [Case #{ticket.pk}]", from_address=contact.email,
                           text="It is broken again."))

    # Then the same case is open again with the message
    assert (result.action, result.ticket_id) == ("reply", ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert texts(ticket)[-1] == "It is broken again."


@pytest.mark.parametrize("state", ["resolved long ago", "closed"])
def test_a_reply_to_a_finished_case_opens_a_linked_case_that_says_so(
    state: str, settings: Any, client: Client
) -> None:
    # Given a case resolved 8 days ago (window 7), or closed
    settings.CASEDESK_REOPEN_DAYS = 7
    contact = make_contact(make_org())
    old = make_case(contact).ticket
    agent = make_agent()
    if state == "closed":
        change_status(old.pk, agent, Ticket.Status.CLOSED)
    else:
        change_status(old.pk, agent, Ticket.Status.RESOLVED)
        Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    ack = ack_of(old)

    # When the customer replies to the old acknowledgement
    result = ingest(parsed(in_reply_to=ack.message_id, from_address=contact.email,
                           subject=f"Re: [Case #{old.pk}] Filtering", text="Again."))

    # Then the old case stays as it was, and a new email case follows it up
    old.refresh_from_db()
    assert old.status == (Ticket.Status.CLOSED if state == "closed" else Ticket.Status.RESOLVED)
    assert result.action == "new_case"
    new = case_of(result)
    assert (new.related_to, new.requester, texts(new)) == (old, contact, ["Again."])
    assert new.subject == "Filtering"
    # And the new case's desk page links to the old one
    client.login(username=agent.email, password=PASSWORD)
    page = client.get(f"/desk/cases/{new.pk}/").content.decode()
    assert "Follows up" in page
    assert f'href="/desk/cases/{old.pk}/"' in page
    # And so does the customer's page on the portal
    portal = Client()
    portal.login(username=contact.email, password=PASSWORD)
    assert f"Follows up case {old.pk}" in portal.get(f"/cases/{new.pk}/").content.decode()


# ------------------------------------------------------------------ attachments


def test_attachments_are_checked_like_uploads_and_refusals_are_listed() -> None:
    # Given an email with a real picture, a program and a picture without a name
    mail = parsed(attachments=[
        ("screen.png", "image/png", PNG_BYTES),
        ("tool.exe", "application/octet-stream", b"MZ\x90\x00" * 10),
        ("", "image/png", PNG_BYTES),
    ], text="See attached.")

    # When it opens a case
    result = ingest(mail)

    # Then the pictures are stored, and the refused file is named in the message
    message = message_of(result)
    names = sorted(message.attachments.values_list("filename", flat=True))
    assert names == ["attachment-3.png", "screen.png"]
    assert message.body.startswith("See attached.\n\n- not attached: tool.exe (")
    assert "not a type we accept" in message.body


def test_more_attachments_than_allowed_are_listed_not_lost_silently(settings: Any) -> None:
    settings.CASEDESK_MAX_ATTACHMENTS = 2
    files = [(f"p{i}.png", "image/png", PNG_BYTES) for i in range(30)]
    result = ingest(parsed(attachments=files))
    message = message_of(result)
    assert message.attachments.count() == 2
    assert "- not attached: p2.png (more than 2 files in one message)" in message.body
    assert "- and 8 more files not attached" in message.body


# ------------------------------------------------------------------ loops


def test_an_automatic_reply_to_a_case_changes_nothing() -> None:
    # Given a resolved case
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    change_status(ticket.pk, make_agent(), Ticket.Status.RESOLVED)
    before = texts(ticket)

    # When an out-of-office answers our mail
    result = ingest(parsed(in_reply_to=ack_of(ticket).message_id, from_address=contact.email,
                           auto="auto-submitted", text="I am out of the office."))

    # Then it is ignored: not added, not reopened, not answered
    assert (result.action, result.ticket_id) == ("ignored", ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert texts(ticket) == before


@pytest.mark.parametrize("kind", [{"auto": "auto-generated"}, {"bulk": True}])
def test_automatic_or_bulk_mail_opens_a_case_without_acknowledgement(kind: Any) -> None:
    result = ingest(parsed(from_address="monitor@partner.example", **kind))
    assert result.action == "new_case"
    assert not OutboundMail.objects.filter(to="monitor@partner.example").exists()


def test_mailer_daemon_mail_never_becomes_a_case() -> None:
    result = ingest(parsed(from_address="mailer-daemon@mx.example", auto="mailer-daemon"))
    assert result.action == "ignored"
    assert not Ticket.objects.exists()


def test_a_bounce_marks_the_address_bouncing_visibly_until_they_write_again(
    client: Client,
) -> None:
    # Given a case whose requester's mailbox no longer exists
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    before = texts(ticket)

    # When the permanent bounce of our acknowledgement comes back
    result = ingest(parsed(
        from_address="mailer-daemon@mx.example", auto="bounce",
        subject="Undelivered Mail Returned to Sender", in_reply_to=ack_of(ticket).message_id,
        bounce=BounceInfo(addresses=(contact.email.upper(),), permanent=True),
    ))

    # Then it is no reply, and the desk shows the address as bouncing
    assert result.action == "bounce"
    assert texts(ticket) == before
    contact.refresh_from_db()
    assert contact.email_bouncing_at is not None
    agent = make_agent()
    client.login(username=agent.email, password=PASSWORD)
    assert "address bouncing since" in client.get(f"/desk/cases/{ticket.pk}/").content.decode()

    # And when the contact writes to us again, the mark goes
    ingest(parsed(from_address=contact.email, subject=f"[Case #{ticket.pk}]"))
    contact.refresh_from_db()
    assert contact.email_bouncing_at is None


def test_a_bounce_is_told_in_the_history_of_the_cases_it_concerns(client: Client) -> None:
    # Given a contact with two open cases and a closed one, and someone else's case
    contact = make_contact(make_org())
    first, second, closed = (make_case(contact).ticket for _ in range(3))
    change_status(closed.pk, make_agent(), Ticket.Status.CLOSED)
    other = make_case(make_contact(make_org())).ticket

    # When the permanent bounce of our mail to that contact comes back, with the reason
    ingest(parsed(
        from_address="mailer-daemon@mx.example", auto="bounce",
        subject="Undelivered Mail Returned to Sender",
        bounce=BounceInfo(addresses=(contact.email,), permanent=True,
                          reason="550 5.1.1 User unknown"),
    ))

    # Then the open cases of that address say so in their history, once each
    def bounced(ticket: Ticket) -> list[Any]:
        return list(ticket.events.filter(kind="mail_bounced").values_list("data", flat=True))

    expected = {"to": contact.email, "reason": "550 5.1.1 User unknown", "permanent": True}
    assert bounced(first) == [expected]
    assert bounced(second) == [expected]
    assert bounced(closed) == [] and bounced(other) == []

    # And an agent reading the case sees it in the timeline
    agent = make_agent()
    client.login(username=agent.email, password=PASSWORD)
    page = client.get(f"/desk/cases/{first.pk}/").content.decode()
    assert f"Mail to {contact.email} bounced: 550 5.1.1 User unknown" in page


def test_a_delay_report_is_told_only_on_the_case_of_the_mail_it_reports() -> None:
    # Given two open cases of one contact
    contact = make_contact(make_org())
    about, unrelated = make_case(contact).ticket, make_case(contact).ticket

    # When a delay report comes back, returning the headers of the first case's mail
    ingest(parsed(
        from_address="mailer-daemon@mx.example", auto="bounce",
        bounce=BounceInfo(addresses=(contact.email,), permanent=False,
                          reason="4.4.7 delivery time expired",
                          original_message_id=ack_of(about).message_id),
    ))

    # Then that case says the mail is delayed; the other case and the contact are untouched
    [event] = about.events.filter(kind="mail_bounced")
    assert event.data["permanent"] is False
    assert not unrelated.events.filter(kind="mail_bounced").exists()
    contact.refresh_from_db()
    assert contact.email_bouncing_at is None


def test_a_temporary_delivery_delay_marks_nothing() -> None:
    contact = make_contact(make_org())
    ingest(parsed(from_address="mailer-daemon@mx.example", auto="bounce",
                  bounce=BounceInfo(addresses=(contact.email,), permanent=False)))
    contact.refresh_from_db()
    assert contact.email_bouncing_at is None


def test_acknowledgements_to_one_sender_are_capped_per_hour(settings: Any) -> None:
    # Given a cap of 3 acknowledgements per sender per hour
    settings.CASEDESK_ACK_CAP_PER_HOUR = 3

    # When one address sends five new emails (a loop with a robot that looks human)
    results = [ingest(parsed(from_address="robot@example.org")) for _ in range(5)]

    # Then every one is a case, but only three are acknowledged; others still are
    assert [r.action for r in results] == ["new_case"] * 5
    acks = OutboundMail.objects.filter(to="robot@example.org",
                                       kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    assert acks.count() == 3
    ingest(parsed(from_address="person@example.org"))
    assert OutboundMail.objects.filter(to="person@example.org").exists()


@pytest.mark.parametrize("sender", ["", "not-an-address", "a@b@c.example",
                                    "x" * 250 + "@example.org"])
def test_mail_without_a_usable_sender_is_ignored_not_crashed(sender: str) -> None:
    result = ingest(parsed(from_address=sender))
    assert result.action == "ignored"
    assert not Ticket.objects.exists()


def test_mail_from_our_own_address_is_ignored() -> None:
    result = ingest(parsed(from_address="support@casedesk.localhost"))
    assert result.action == "ignored"
    assert not Ticket.objects.exists()


# ------------------------------------------------------------------ from raw bytes


def test_a_raw_reply_from_a_mail_client_threads_through_the_real_parser(
    client: Client,
) -> None:
    # Given a case, and a customer's real reply to its acknowledgement (quoted history)
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    ack = ack_of(ticket)
    raw = (
        f"From: Customer <{contact.email}>\r\nTo: support@casedesk.localhost\r\n"
        f"Subject: Re: [Case #{ticket.pk}] Filtering\r\nMessage-ID: <raw-1@client.example>\r\n"
        f"In-Reply-To: {ack.message_id}\r\nReferences: {ack.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Still broken this morning.\r\n\r\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <support@casedesk.localhost> wrote:\r\n"
        "> We have received your case.\r\n"
    ).encode()

    # When it is parsed and ingested
    result = ingest(parse_message(raw))

    # Then only the new text is the message; the whole email is kept with it
    message = message_of(result)
    assert message.ticket_id == ticket.pk
    assert message.body == "Still broken this morning."
    assert "We have received your case." in message.full_body
    assert message.message_id_header == "<raw-1@client.example>"
    assert User.objects.filter(email=contact.email).count() == 1
    # And the agent sees the new text, with the whole email one click away
    agent = make_agent()
    client.login(username=agent.email, password=PASSWORD)
    page = client.get(f"/desk/cases/{ticket.pk}/").content.decode()
    assert "Show the whole email" in page
    assert "&gt; We have received your case." in page
