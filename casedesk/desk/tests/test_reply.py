"""Replies (mailed to the requester) and internal notes (never shown or mailed to them)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casedesk.conftest import make_case, png_upload
from casedesk.mail.models import OutboundMail
from casedesk.tickets.models import Event, Message, Ticket


def post_reply(client, ticket: Ticket, **data):
    data.setdefault("kind", "public")
    return client.post(reverse("desk:reply", args=[ticket.pk]), data)


def test_a_public_reply_is_stored_opens_the_case_and_is_mailed_in_the_thread(
    agent, agent_client, contact, send_mail
):
    ticket = make_case(contact, subject="DNS 2 down").ticket
    send_mail()  # the acknowledgement
    ack = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)

    response = post_reply(
        agent_client, ticket, body="We restarted resolver 2; please check again.",
        attachments=[png_upload("after.png")],
    )

    reply = Message.objects.filter(ticket=ticket).last()
    assert response.status_code == 303
    assert response["Location"] == reverse("desk:case", args=[ticket.pk]) + f"#m{reply.pk}"
    assert reply.kind == Message.Kind.PUBLIC
    assert reply.author == agent
    assert reply.channel == Ticket.Channel.AGENT
    assert reply.attachments.get().filename == "after.png"
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert list(
        Event.objects.filter(ticket=ticket).values_list("kind", flat=True)
    ) == ["created", "reply", "sla_met", "status"]
    mails = [m for m in send_mail() if m["Message-ID"] != ack.message_id]
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "noor@gulfnet.example"
    assert mail["Subject"] == f"[Case #{ticket.pk}] DNS 2 down"
    assert mail["In-Reply-To"] == ack.message_id
    assert ack.message_id in mail["References"]
    body = mail.get_content()
    assert "We restarted resolver 2; please check again." in body
    assert "after.png" in body
    page = agent_client.get(response["Location"]).content.decode()
    assert "Reply sent to noor@gulfnet.example." in page


def test_an_internal_note_is_never_mailed_nor_shown_on_the_portal(
    agent_client, contact, contact_client, send_mail
):
    ticket = make_case(contact).ticket
    send_mail()
    mails_before = OutboundMail.objects.count()

    response = post_reply(
        agent_client, ticket, kind="internal",
        body="Customer's firewall blocks port 853; do not tell them yet.",
        attachments=[png_upload("firewall.png")],
    )

    assert response.status_code == 303
    note = Message.objects.filter(ticket=ticket).last()
    assert note.kind == Message.Kind.INTERNAL
    assert Event.objects.filter(ticket=ticket, kind="note").count() == 1
    assert OutboundMail.objects.count() == mails_before
    assert not OutboundMail.objects.filter(kind=OutboundMail.Kind.REPLY).exists()
    ticket.refresh_from_db()
    assert ticket.status == "new"  # a note is not an answer to the customer
    portal = contact_client.get(reverse("portal:case", args=[ticket.pk]))
    assert portal.status_code == 200
    assert "port 853" not in portal.content.decode()
    assert "firewall.png" not in portal.content.decode()
    desk = agent_client.get(response["Location"]).content.decode()
    assert "port 853" in desk
    assert "Internal note added." in desk


def test_a_reply_can_set_the_status_in_the_same_step(agent_client, contact):
    ticket = make_case(contact).ticket

    post_reply(agent_client, ticket, body="Please send the resolver log.",
               new_status="pending")

    ticket.refresh_from_db()
    assert ticket.status == "pending"
    status_events = Event.objects.filter(ticket=ticket, kind="status")
    assert [(e.data["old"], e.data["new"]) for e in status_events] == [("new", "pending")]


def assert_nothing_stored(ticket: Ticket) -> None:
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "created"
    ]
    assert not OutboundMail.objects.filter(kind=OutboundMail.Kind.REPLY).exists()
    assert not ticket.attachments.exists()


def test_an_empty_reply_gets_an_error_next_to_the_field_and_stores_nothing(
    agent_client, contact
):
    ticket = make_case(contact).ticket

    response = post_reply(agent_client, ticket, body="   \n ", attachments=[png_upload()])

    html = response.content.decode()
    assert response.status_code == 200
    field = html[html.index('id="field-body"'):]
    assert "Write a message before sending." in field[: field.index("</div>")]
    assert_nothing_stored(ticket)


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_stored(
    agent_client, contact
):
    ticket = make_case(contact).ticket
    fake = SimpleUploadedFile("invoice.png", b"MZ\x90\x00" + b"\x00" * 200)

    response = post_reply(agent_client, ticket, body="See attached", attachments=[fake])

    html = response.content.decode()
    assert response.status_code == 200
    field = html[html.index('id="field-attachments"'):]
    assert "does not contain what its name says" in field[: field.index("</div>")]
    assert "See attached" in html  # what the agent typed is kept
    assert_nothing_stored(ticket)


def test_a_kind_or_status_that_is_not_a_choice_is_refused(agent_client, contact):
    ticket = make_case(contact).ticket

    bad_kind = post_reply(agent_client, ticket, kind="broadcast", body="Hello")
    bad_status = post_reply(agent_client, ticket, body="Hello", new_status="archived")

    assert "Select a valid choice" in bad_kind.content.decode()
    assert "Select a valid choice" in bad_status.content.decode()
    assert_nothing_stored(ticket)


def test_opening_the_reply_address_in_the_browser_goes_to_the_case(agent_client, contact):
    ticket = make_case(contact).ticket

    response = agent_client.get(reverse("desk:reply", args=[ticket.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("desk:case", args=[ticket.pk])
