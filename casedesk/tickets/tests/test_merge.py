"""merge_cases: what moves, what the source becomes, who is told, where the old Case ID
leads (portal, desk, email threading, resolve_merged), and every refusal changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.files import check_upload
from casedesk.mail.ingest import ingest
from casedesk.mail.models import OutboundMail
from casedesk.mail.parse import ParsedMail
from casedesk.sla.models import Clock
from casedesk.tickets.access import resolve_merged
from casedesk.tickets.actions import (
    ActionError,
    add_message,
    change_status,
    merge_cases,
)
from casedesk.tickets.models import Attachment, Event, Message, Ticket

pytestmark = pytest.mark.django_db
Outbox = Callable[[], list[EmailMessage]]


def snapshot(*tickets: Ticket) -> Any:
    """Everything a merge could change, to prove a refusal changed nothing."""
    ids = [t.pk for t in tickets]
    return (
        list(Ticket.objects.filter(pk__in=ids).order_by("pk").values()),
        list(Message.objects.filter(ticket__in=ids).order_by("pk").values("pk", "ticket_id")),
        list(Attachment.objects.filter(ticket__in=ids).order_by("pk").values("pk", "ticket_id")),
        Event.objects.filter(ticket__in=ids).count(),
        OutboundMail.objects.count(),
        list(Clock.objects.filter(ticket__in=ids).order_by("pk").values()),
    )


@pytest.fixture
def pair(org: Any, contact: User, agent: User) -> tuple[Ticket, Ticket]:
    colleague = make_contact(org, email="omar@gulfnet.example", full_name="Omar Khalil")
    target = make_case(contact, subject="DNS 2 lets adult sites through").ticket
    source = make_case(colleague, subject="Adult sites open again", files=[png_upload()]).ticket
    add_message(source.pk, colleague, "Still broken at 10:00.", [check_upload(png_upload())])
    Ticket.objects.filter(pk=source.pk).update(cc_emails="boss@gulfnet.example")
    source.refresh_from_db()
    return source, target


def test_a_merge_moves_messages_files_and_ccs_and_closes_the_source(
    pair: tuple[Ticket, Ticket], agent: User, send_mail: Outbox
) -> None:
    source, target = pair
    source_messages = set(source.messages.values_list("pk", flat=True))

    result = merge_cases(source.pk, target.pk, agent)

    # Then every message and file of the source is on the target, none left behind
    assert set(target.messages.values_list("pk", flat=True)) >= source_messages
    assert not Message.objects.filter(ticket=source).exists()
    assert Attachment.objects.filter(ticket=target).count() == 2
    assert (result.messages, result.attachments) == (2, 2)
    # And the source's CCs and its requester are copied on the target
    target.refresh_from_db()
    assert target.cc_list() == ["boss@gulfnet.example", "omar@gulfnet.example"]
    # And the source is closed, points at the target, and its clocks are stopped, not met
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == (Ticket.Status.CLOSED, target.pk)
    clocks = Clock.objects.filter(ticket=source)
    assert clocks and all(c.cancelled_at and c.met_at is None for c in clocks)
    assert all(c.cancel_reason == f"merged into case {target.pk}" for c in clocks)
    # And each case's history says so
    assert Event.objects.get(ticket=source, kind=Event.Kind.MERGED_INTO).data["target"] == target.pk
    into = Event.objects.get(ticket=target, kind=Event.Kind.MERGED_FROM)
    assert (into.actor, into.data["source"], into.data["messages"]) == (agent, source.pk, 2)
    # And both requesters are told, in the surviving case's thread
    mails = [m for m in send_mail() if "merged" in m.get_content()]
    assert sorted(str(m["To"]) for m in mails) == ["noor@gulfnet.example",
                                                   "omar@gulfnet.example"]
    for mail in mails:
        assert f"[Case #{target.pk}]" in str(mail["Subject"])
        assert f"/cases/{target.pk}/" in mail.get_content()


def test_a_merge_of_one_requesters_two_cases_mails_them_once(
    contact: User, agent: User, send_mail: Outbox
) -> None:
    first = make_case(contact).ticket
    second = make_case(contact).ticket
    send_mail()
    before = OutboundMail.objects.count()

    merge_cases(second.pk, first.pk, agent)

    assert OutboundMail.objects.count() == before + 1
    first.refresh_from_db()
    assert first.cc_list() == []  # the requester is not their own CC


def test_a_requester_who_may_not_see_the_target_gets_no_portal_link(
    contact: User, agent: User, send_mail: Outbox
) -> None:
    stranger = make_contact(make_org("Atlas"), email="lina@atlas.example")
    target = make_case(contact).ticket
    source = make_case(stranger).ticket
    send_mail()

    merge_cases(source.pk, target.pk, agent)

    mail = next(m for m in send_mail() if str(m["To"]) == "lina@atlas.example"
                and "merged" in m.get_content())
    assert "/cases/" not in mail.get_content()


def test_resolve_merged_follows_a_chain_to_its_end(contact: User, agent: User) -> None:
    a, b, c = (make_case(contact).ticket for _ in range(3))
    merge_cases(a.pk, b.pk, agent)
    merge_cases(b.pk, c.pk, agent)

    assert resolve_merged(a.pk) == c.pk
    assert resolve_merged(c.pk) == c.pk
    assert resolve_merged(999_999_999) is None


# ------------------------------------------------------------------ refusals


def test_refusals_say_why_and_change_nothing(contact: User, agent: User) -> None:
    a, b, c = (make_case(contact).ticket for _ in range(3))
    merge_cases(c.pk, b.pk, agent)
    closed = make_case(contact).ticket
    change_status(closed.pk, agent, Ticket.Status.CLOSED)
    cases = [a, b, c, closed]
    cases_before = snapshot(*cases)

    refusals = {
        (a.pk, a.pk): f"Case {a.pk} cannot be merged into itself.",
        (a.pk, 999_999_999): "There is no case 999999999.",
        (c.pk, a.pk): f"Case {c.pk} was already merged into case {b.pk}.",
        (a.pk, c.pk): f"Case {c.pk} was itself merged into case {b.pk}",
        (a.pk, closed.pk): f"Case {closed.pk} is closed",
        # Into the case it came from: the chain would close on itself
        (b.pk, c.pk): f"Case {c.pk} was itself merged into case {b.pk}",
    }
    for (source, target), message in refusals.items():
        with pytest.raises(ActionError, match=message.replace("(", r"\(")):
            merge_cases(source, target, agent)

    assert snapshot(*cases) == cases_before


def test_only_agents_merge(contact: User) -> None:
    a, b = make_case(contact).ticket, make_case(contact).ticket
    before = snapshot(a, b)

    with pytest.raises(ActionError, match="Only agents"):
        merge_cases(a.pk, b.pk, contact)
    inactive = make_agent(is_active=False)
    with pytest.raises(ActionError, match="Only agents"):
        merge_cases(a.pk, b.pk, inactive)

    assert snapshot(a, b) == before


def test_a_merged_case_takes_no_new_message(contact: User, agent: User) -> None:
    a, b = make_case(contact).ticket, make_case(contact).ticket
    merge_cases(a.pk, b.pk, agent)

    with pytest.raises(ActionError, match=f"merged into case {b.pk}"):
        add_message(a.pk, contact, "Hello?", [])


# ------------------------------------------------------------------ the old Case ID


def parsed(**fields: Any) -> ParsedMail:
    text = fields.pop("text", "More details.")
    values: dict[str, Any] = {
        "message_id": f"<reply-{timezone.now().timestamp()}@mail.example>",
        "in_reply_to": "", "references": [], "subject": "Re: a case",
        "from_address": "someone@example.org", "from_name": "Some One",
        "to": ["support@casedesk.localhost"], "cc": [], "date": timezone.now(),
        "text": text, "html": "", "reply_text": text, "attachments": [], "auto": None,
        "bounce": None,
    }
    values.update(fields)
    return ParsedMail(**values)


def test_a_reply_to_the_old_cases_mail_lands_on_the_surviving_case(
    pair: tuple[Ticket, Ticket], agent: User
) -> None:
    source, target = pair
    ack = OutboundMail.objects.get(ticket=source, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    merge_cases(source.pk, target.pk, agent)

    # By its headers
    result = ingest(parsed(in_reply_to=ack.message_id, references=[ack.message_id],
                           from_address="omar@gulfnet.example", text="Any news?"))
    assert (result.action, result.ticket_id) == ("reply", target.pk)
    # And by the old Case ID in the subject alone
    result = ingest(parsed(subject=f"Re: [Case #{source.pk}] Adult sites",
                           from_address="omar@gulfnet.example", text="Hello?"))
    assert (result.action, result.ticket_id) == ("reply", target.pk)
    source.refresh_from_db()
    assert source.status == Ticket.Status.CLOSED  # not reopened by the replies
    assert list(target.messages.order_by("-pk").values_list("body", flat=True)[:2]) == [
        "Hello?", "Any news?"
    ]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_old_case_page_leads_to_the_surviving_one_in_the_portal_and_the_desk(
    pair: tuple[Ticket, Ticket], agent: User, contact: User
) -> None:
    source, target = pair
    merge_cases(source.pk, target.pk, agent)
    omar = User.objects.get(email="omar@gulfnet.example")

    response = signed_in(omar).get(reverse("portal:case", args=[source.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:case", args=[target.pk])

    desk = signed_in(agent)
    response = desk.get(reverse("desk:case", args=[source.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("desk:case", args=[target.pk])
    assert f"Case {source.pk} was merged into case {target.pk}." in response.content.decode()


def test_a_portal_reply_on_the_old_case_joins_the_surviving_one(
    pair: tuple[Ticket, Ticket], agent: User
) -> None:
    source, target = pair
    merge_cases(source.pk, target.pk, agent)
    omar = User.objects.get(email="omar@gulfnet.example")

    response = signed_in(omar).post(reverse("portal:reply", args=[source.pk]),
                                    {"body": "Typed on the old page."})

    assert response.status_code == 303
    assert target.messages.order_by("-pk").values_list("body", flat=True)[0] == (
        "Typed on the old page."
    )


def test_the_old_case_id_answers_404_to_a_contact_who_may_not_see_the_survivor(
    contact: User, agent: User
) -> None:
    stranger = make_contact(make_org("Atlas"), email="lina@atlas.example")
    target = make_case(contact).ticket
    source = make_case(stranger).ticket
    merge_cases(source.pk, target.pk, agent)

    client = signed_in(stranger)
    assert client.get(reverse("portal:case", args=[source.pk])).status_code == 404
    assert client.get(reverse("portal:case", args=[999_999_999])).status_code == 404
