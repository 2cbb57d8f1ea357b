"""What ingesting a message costs in queries, so that the savings made for issue 4's
throughput target (500 messages/s) cannot silently regress, and that the per-process
cache of SLA terms (casedesk.sla.terms) still sees every change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.mail.ingest import ingest
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.test_ingest import parsed
from casedesk.sla.models import Clock, Plan, Target
from casedesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL statements run, without transaction bookkeeping (SAVEPOINT, RELEASE)."""
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_reply_by_its_thread_costs_eight_statements() -> None:
    # Given a case opened on the portal, and one reply already ingested (caches warm)
    contact = make_contact(make_org())
    ticket = make_case(contact).ticket
    ack = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    ingest(parsed(in_reply_to=ack.message_id, from_address=contact.email))

    # When the customer replies again to the acknowledgement
    with CaptureQueriesContext(connection) as captured:
        result = ingest(parsed(in_reply_to=ack.message_id, references=[ack.message_id],
                               from_address=contact.email))

    # Then it joins the case in eight statements: the thread's case, the sender, the case
    # locked, the message, its search text, its event, the case's times, its live clocks
    assert (result.action, result.ticket_id) == ("reply", ticket.pk)
    assert len(statements(captured)) == 8, "\n".join(statements(captured))


def test_a_new_case_from_a_known_contact_costs_at_most_fourteen_statements() -> None:
    # Given a contact who opened a case already (caches warm, invitation sent)
    contact = make_contact(make_org(), password=None)
    ingest(parsed(from_address=contact.email, subject="First"))

    # When they email a new request
    with CaptureQueriesContext(connection) as captured:
        result = ingest(parsed(from_address=contact.email, subject="Second"))

    # Then the case, its message, search text, event, clocks and acknowledgement are
    # stored in at most fourteen statements
    assert result.action == "new_case"
    assert Clock.objects.filter(ticket_id=result.ticket_id or 0).count() >= 1
    assert len(statements(captured)) <= 14, "\n".join(statements(captured))


def first_response_minutes(ticket_id: int | None) -> int:
    clock = Clock.objects.get(ticket_id=ticket_id or 0, kind=Clock.Kind.FIRST_RESPONSE)
    return clock.target_seconds // 60


def test_a_changed_target_is_used_by_the_next_case_even_when_changed_behind_the_orm() -> None:
    # Given a partner on the Standard plan whose first case filled the terms cache
    org = make_org(plan="Standard")
    contact = make_contact(org)
    first = ingest(parsed(from_address=contact.email, subject="One"))
    before = first_response_minutes(first.ticket_id)
    ticket = Ticket.objects.get(pk=first.ticket_id or 0)

    # When an admin's change reaches the table without any model's save() (a bulk update)
    Target.objects.filter(plan=org.plan, priority=ticket.priority).update(
        first_response_minutes=before + 17)

    # Then the next case is measured against the new target, not the cached one
    second = ingest(parsed(from_address=contact.email, subject="Two"))
    assert first_response_minutes(second.ticket_id) == before + 17


def test_a_new_plan_for_the_organization_and_a_new_default_plan_are_seen_at_once() -> None:
    # Given a contact without organization, served by the default plan, cache warm
    loner = make_contact(None)
    ingest(parsed(from_address=loner.email, subject="One"))
    premium = Plan.objects.get(name="Premium")

    # When the admin makes Premium the default plan
    Plan.objects.update(is_default=False)
    Plan.objects.filter(pk=premium.pk).update(is_default=True)

    # Then the next case of that contact is under Premium
    result = ingest(parsed(from_address=loner.email, subject="Two"))
    clock = Clock.objects.get(ticket_id=result.ticket_id or 0, kind=Clock.Kind.FIRST_RESPONSE)
    assert clock.plan_id == premium.pk
    target = Target.objects.get(plan=premium, priority=clock.priority)
    assert clock.target_seconds == target.first_response_minutes * 60
