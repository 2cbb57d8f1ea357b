"""The case actions: each change is stored with its event, or not at all."""

from pathlib import Path

import pytest

from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.choices import Priority
from casedesk.core.files import check_upload
from casedesk.mail.models import OutboundMail
from casedesk.tickets.actions import (
    ActionError,
    add_message,
    assign,
    change_priority,
    change_status,
    close_by_contact,
    reopen_by_contact,
)
from casedesk.tickets.models import Attachment, CaseCounter, Event, Message, Ticket


def kinds(ticket: Ticket) -> list[str]:
    return list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True))


def test_every_agent_change_writes_one_event_with_old_and_new(db):
    agent = make_agent()
    ticket = make_case().ticket

    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    change_priority(ticket.pk, agent, Priority.LOW)
    assign(ticket.pk, agent, agent)
    # Setting what is already there is not a change and writes nothing.
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    assign(ticket.pk, agent, agent)

    # Pending pauses the SLA clocks and a new priority recomputes them: each says so.
    assert kinds(ticket) == [
        "created", "status", "sla_paused", "priority", "sla_recomputed", "assignee"
    ]
    status_event = Event.objects.get(ticket=ticket, kind="status")
    assert status_event.data == {"old": "new", "new": "pending"}
    assert status_event.actor == agent
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", Priority.LOW, agent)


def test_events_cannot_be_edited(db):
    event = Event.objects.get(ticket=make_case().ticket)
    event.data = {"forged": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_invalid_values_are_refused_and_change_nothing(db):
    agent = make_agent()
    contact = make_contact(make_org())
    ticket = make_case().ticket

    with pytest.raises(ActionError):
        change_status(ticket.pk, agent, "deleted")
    with pytest.raises(ActionError):
        change_priority(ticket.pk, agent, 9)
    with pytest.raises(ActionError, match="not an agent"):
        assign(ticket.pk, agent, contact)
    with pytest.raises(ActionError, match="Only agents"):
        add_message(ticket.pk, contact, "psst", [], internal=True)

    assert kinds(ticket) == ["created"]
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_public_reply_is_mailed_in_the_thread_and_a_note_is_not(db, send_mail):
    agent = make_agent(full_name="Sam Engineer")
    ticket = make_case(email="noor@example.org").ticket
    (ack,) = [m for m in send_mail() if m["Subject"].startswith("[Case")]

    add_message(ticket.pk, agent, "Internal: resolver 2 runs an old list.", [], internal=True)
    add_message(ticket.pk, agent, "We have pushed the list again; please check.", [])
    mails = send_mail()

    replies = [m for m in mails if m["Subject"].startswith("[Case")]
    replies = [m for m in replies if m["Message-ID"] != ack["Message-ID"]]
    assert len(replies) == 1
    reply = replies[0]
    assert reply["To"] == "noor@example.org"
    assert reply["Subject"] == f"[Case #{ticket.pk}] {ticket.subject}"
    assert reply["In-Reply-To"] == ack["Message-ID"]
    assert "We have pushed the list again" in reply.get_content()
    assert "resolver 2" not in reply.get_content()
    ticket.refresh_from_db()
    # The first public agent reply takes a new case into work.
    assert ticket.status == Ticket.Status.OPEN
    # The reply met the first-response target (the note did not).
    assert kinds(ticket) == ["created", "note", "reply", "sla_met", "status"]


def test_a_customer_reply_reopens_a_resolved_case_and_ends_a_wait(db):
    agent = make_agent()
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    change_status(ticket.pk, agent, Ticket.Status.RESOLVED)

    add_message(ticket.pk, contact, "Still broken here.", [check_upload(png_upload())])

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.resolved_at is None
    assert Event.objects.filter(ticket=ticket, kind="status").last().data["reason"] == (
        "customer_reply"
    )
    assert ticket.attachments.count() == 1


def test_contacts_close_and_reopen_once(db):
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket

    close_by_contact(ticket.pk, contact)
    with pytest.raises(ActionError, match="already closed"):
        close_by_contact(ticket.pk, contact)
    reopen_by_contact(ticket.pk, contact)
    with pytest.raises(ActionError, match="already open"):
        reopen_by_contact(ticket.pk, contact)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.closed_at is None


def test_a_submission_that_fails_midway_stores_nothing_and_keeps_no_file(db, settings, tmp_path):
    make_case()  # the counter now stands at the first Case ID
    counter_before = CaseCounter.objects.get().last_value
    # Uploads cannot be written: the upload folder is a plain file.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)

    with pytest.raises(OSError):
        make_case(email="second@example.org", files=[png_upload()])

    assert Ticket.objects.count() == 1
    assert Attachment.objects.count() == 0
    assert OutboundMail.objects.filter(to="second@example.org").count() == 0
    assert CaseCounter.objects.get().last_value == counter_before
    assert not any(Path(tmp_path).rglob("*.png"))


def test_a_reply_that_fails_midway_stores_nothing(db, settings, tmp_path):
    agent = make_agent()
    ticket = make_case().ticket
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)

    with pytest.raises(OSError):
        add_message(ticket.pk, agent, "With a file", [check_upload(png_upload())])

    assert Message.objects.filter(ticket=ticket).count() == 1
    assert kinds(ticket) == ["created"]
    assert OutboundMail.objects.filter(kind="reply").count() == 0
