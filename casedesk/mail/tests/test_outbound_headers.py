"""What every mail we send carries (issue 4, points 11 and 12), read from the outbox after
the real delivery job: its own stored Message-ID, a Reply-To on the support address, a
text and an HTML part, the [Case #N] tag, and In-Reply-To/References along the case's
thread."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.mail.ingest import ingest
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.test_ingest import parsed
from casedesk.tickets.actions import add_message
from casedesk.tickets.models import Message

pytestmark = pytest.mark.django_db
Outbox = Callable[[], list[EmailMessage]]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, message.get_content_type()
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def test_every_mail_has_its_stored_id_a_reply_to_and_text_and_html_parts(
    send_mail: Outbox, settings: Any
) -> None:
    # Given a new customer's case (acknowledgement and invitation) and an agent's reply
    ticket = make_case(email="new@example.org", full_name="Nour").ticket
    add_message(ticket.pk, make_agent(), "We pushed the list again.", [])

    # When the mail is delivered
    delivered = send_mail()

    # Then each one carries the ID we stored, answers go to the support address, and it
    # has a text part and an HTML part saying the same
    stored = {m.message_id: m for m in OutboundMail.objects.all()}
    assert len(delivered) == len(stored) == 3
    for message in delivered:
        mail = stored[message["Message-ID"]]
        assert message["Reply-To"] == settings.DEFAULT_FROM_EMAIL
        assert message.get_content_type() == "multipart/alternative"
        text, html = parts(message)
        assert text.strip() == mail.body_text.strip()
        assert html.lstrip().startswith("<!doctype html>")
        first_line = next(line for line in text.splitlines() if line.strip())
        assert first_line.split(",")[0] in html


def test_the_reply_to_is_the_configured_support_address(
    send_mail: Outbox, settings: Any
) -> None:
    settings.CASEDESK_SUPPORT_EMAIL = "help@partner-support.example"
    make_case(make_contact(make_org()))
    [ack] = send_mail()
    assert ack["Reply-To"] == "help@partner-support.example"


def test_the_html_part_escapes_what_customers_typed(send_mail: Outbox) -> None:
    # Given a case whose subject and reply contain markup
    contact = make_contact(make_org())
    ticket = make_case(contact, subject="<script>alert(1)</script> DNS").ticket
    add_message(ticket.pk, make_agent(), 'Click <a href="http://evil.example">here</a>', [])

    # When the mail goes out
    html_parts = [parts(m)[1] for m in send_mail()]

    # Then the markup is shown as text, never run (a bare address is still made a link,
    # as mail programs do with text)
    assert all("<script>" not in html for html in html_parts)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt; DNS" in html for html in html_parts)
    assert any("Click &lt;a href=" in html for html in html_parts)
    assert all(">here</a>" not in html for html in html_parts)


def test_the_html_part_of_a_mail_without_its_own_html_template_escapes_names(
    send_mail: Outbox,
) -> None:
    # Given a new customer whose name (from their mail's From header) holds markup: the
    # invitation has no HTML template of its own and shows its text
    make_case(email="new@example.org", full_name="Nour<img/src=x/onerror=alert(1)>")

    # When the mails go out
    delivered = send_mail()

    # Then the invitation's HTML shows the name as text; the text part keeps it as typed
    [invitation] = [m for m in delivered if "password" in parts(m)[0]]
    text, html = parts(invitation)
    assert "<img" not in html and "Hello Nour&lt;img/src=x/onerror=alert(1)&gt;," in html
    assert "Hello Nour<img/src=x/onerror=alert(1)>," in text
    # and its link is still a link
    assert '<a href="http' in html


def test_automatic_mails_say_so_and_a_persons_reply_does_not(send_mail: Outbox) -> None:
    ticket = make_case(email="first@example.org").ticket
    add_message(ticket.pk, make_agent(), "Hello", [])
    by_kind = {
        OutboundMail.objects.get(message_id=m["Message-ID"]).kind: m for m in send_mail()
    }
    assert by_kind[OutboundMail.Kind.ACKNOWLEDGEMENT]["Auto-Submitted"] == "auto-replied"
    assert by_kind[OutboundMail.Kind.INVITATION]["Auto-Submitted"] == "auto-generated"
    assert by_kind[OutboundMail.Kind.REPLY]["Auto-Submitted"] is None


def test_replies_chain_to_the_cases_whole_thread(send_mail: Outbox) -> None:
    # Given a portal case, an agent's reply, and the customer's answer by email
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    agent = make_agent()
    first = ticket.messages.get()
    add_message(ticket.pk, agent, "Which resolver?", [])
    agent_reply = Message.objects.filter(ticket=ticket).order_by("pk").last()
    assert agent_reply is not None
    answer = parsed(from_address=contact.email, subject=f"Re: [Case #{ticket.pk}] x",
                    in_reply_to=agent_reply.message_id_header, text="Resolver 2")
    ingest(answer)

    # When the agent replies again
    add_message(ticket.pk, agent, "Fixed on resolver 2.", [])
    second = [m for m in send_mail() if "Fixed on resolver 2." in m.get_content()]

    # Then that mail answers the customer's email and references the thread from its start
    [mail] = second
    assert mail["Subject"] == f"[Case #{ticket.pk}] {ticket.subject}"
    assert mail["In-Reply-To"] == answer.message_id
    assert mail["References"].split() == [
        first.message_id_header, agent_reply.message_id_header, answer.message_id,
    ]
    # And the acknowledgement of the portal case started that thread under its own ID
    ack = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    assert ack.message_id == first.message_id_header


def test_the_acknowledgement_of_an_email_case_answers_the_email(send_mail: Outbox) -> None:
    # Given an email that itself answered an earlier, unknown thread
    mail = parsed(from_address="writer@example.org", references=["<old@elsewhere.example>"],
                  in_reply_to="<old@elsewhere.example>", subject="New problem")

    # When it opens a case
    result = ingest(mail)

    # Then the acknowledgement is tagged and chains under the customer's email
    [ack] = [m for m in send_mail() if m["To"] == "writer@example.org"
             and OutboundMail.objects.get(message_id=m["Message-ID"]).kind == "ack"]
    assert ack["Subject"] == f"[Case #{result.ticket_id}] New problem"
    assert ack["In-Reply-To"] == mail.message_id
    assert ack["References"].split() == ["<old@elsewhere.example>", mail.message_id]


def test_message_ids_stay_unique_when_the_random_module_is_seeded_again() -> None:
    # Something in the process may seed `random` (hypothesis does for every example):
    # two mails made within one clock tick must still get two Message-IDs.
    import random

    from casedesk.mail.actions import new_message_id

    made = set()
    for _ in range(50):
        random.seed(1)
        made.add(new_message_id())
    assert len(made) == 50
