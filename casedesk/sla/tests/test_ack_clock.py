"""A level's acknowledgement target as an SLA clock: started by an escalation, met by the
first agent message after it, warned and breached by the sweep, stopped by the next
escalation or by resolving, shown on the desk with its label and kept from the customer."""

from __future__ import annotations

from typing import Any

from django.test import Client

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.core.choices import Priority
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation, Level
from casedesk.sla.jobs import sweep
from casedesk.sla.models import Clock, Plan
from casedesk.sla.tests.conftest import (
    clock_of,
    later,
    outbox_to,
    run_queued_jobs,
    sla_events,
)
from casedesk.sla.tests.test_clocks_pages import page_text
from casedesk.tickets.actions import add_message, change_priority, change_status
from casedesk.tickets.models import Event, Ticket

ACK = "escalation_ack"


def with_target(level: Level, minutes: int | None) -> Level:
    level.ack_target_minutes = minutes
    level.save()
    return level


def escalate_by(agent: User, ticket: Ticket, to_level: int | None = None) -> Escalation:
    return escalate(ticket.pk, source="agent", reason="Resolver 2 drops queries",
                    actor=agent, to_level=to_level)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_escalation_to_a_level_with_a_target_starts_a_clock_due_in_its_minutes(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    # Given level 2 must acknowledge within 15 minutes, and a Premium High case
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket

    # When an agent escalates it to level 2
    escalate_by(agent, ticket)

    # Then an acknowledgement clock runs, due 15 min later, warned at 75 % of it
    clock = clock_of(ticket, ACK)
    assert clock.started_at == later()
    assert clock.due_at == later(minutes=15)
    assert clock.warn_at == later(minutes=11.25)
    assert clock.get_kind_display() == "Escalation acknowledged"
    [escalated] = Event.objects.filter(ticket=ticket, kind=Event.Kind.ESCALATED)
    assert escalated.data["ack_clock"] == clock.pk
    assert escalated.data["ack_due"] == later(minutes=15).isoformat()
    # And the desk shows it with its label and time left; the customer does not see it
    frozen(later(minutes=5))
    desk = page_text(signed_in(agent).get(f"/desk/cases/{ticket.pk}/").content.decode())
    assert "Escalation acknowledged" in desk and "10m left" in desk
    assert "whose acknowledgement target is 15m" in desk
    portal = signed_in(contact).get(f"/cases/{ticket.pk}/").content.decode()
    assert "acknowledged" not in portal.lower()
    assert "First response due by" in portal


def test_a_level_without_a_target_starts_no_clock(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    with_target(levels[2], None)
    ticket = make_case(contact).ticket

    escalate_by(agent, ticket)

    assert not Clock.objects.filter(ticket=ticket, kind=ACK).exists()
    [escalated] = Event.objects.filter(ticket=ticket, kind=Event.Kind.ESCALATED)
    assert "ack_due" not in escalated.data


def test_an_agent_note_meets_it_but_answers_nobody(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    # Given a case escalated to level 2 (15 min)
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)

    # When an agent adds an internal note 5 minutes later
    frozen(later(minutes=5))
    add_message(ticket.pk, agent, "Taking this; checking resolver 2.", [], internal=True)

    # Then the acknowledgement is met in time, the first response still waits
    ack = clock_of(ticket, ACK, live=False)
    assert ack.met_at == later(minutes=5)
    assert clock_of(ticket).kind == "first_response"
    [met] = sla_events(ticket, "sla_met")
    assert (met.data["kind"], met.data["late_seconds"]) == (ACK, 0)
    # And the sweep finds nothing to warn or breach about it later
    frozen(later(minutes=20))
    assert sweep().claimed == 0


def test_a_public_reply_meets_it_too(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    frozen(later(minutes=20))

    add_message(ticket.pk, agent, "We are on it.", [])

    met = {e.data["kind"]: e.data["late_seconds"] for e in sla_events(ticket, "sla_met")}
    assert met == {ACK: 5 * 60, "first_response": 0}


def test_without_an_agent_the_sweep_warns_then_breaches_once_and_escalates_again(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any, send_mail: Any
) -> None:
    # Given a case escalated to level 2 (15 min), which nobody touches
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    send_mail()

    # When sweeps run at 11, 12, 15, 16 minutes
    frozen(later(minutes=11))
    assert sweep().claimed == 0
    frozen(later(minutes=12))
    assert sweep().warned == 1
    frozen(later(minutes=15))
    breached = sweep()
    frozen(later(minutes=16))
    assert sweep().claimed == 0

    # Then one warning and one breach, both of the acknowledgement, mailed to level 2
    assert [(e.kind, e.data["kind"]) for e in sla_events(ticket)] == [
        ("sla_warning", ACK), ("sla_breach", ACK)]
    assert (breached.breached, breached.escalations_queued) == (1, 1)
    subjects = [m["Subject"] for m in outbox_to(send_mail(), "level2@casedesk.example")]
    assert f"[Case #{ticket.pk}] SLA due soon: escalation acknowledged" in subjects
    assert f"[Case #{ticket.pk}] SLA breached: escalation acknowledged" in subjects
    # And the plan escalates on breach: nobody at level 2 took it up, so level 3 does
    assert run_queued_jobs("escalate_breached") == [{"escalated to level 3": 1}]
    last = Escalation.objects.filter(ticket=ticket).latest("created_at", "pk")
    assert (last.source, last.from_level, last.to_level) == ("sla", 2, 3)
    assert "nobody acknowledged the escalation to level 2 within its target (15m)" \
        in last.reason
    # Level 3 has no target: no new clock; the breached one stopped with the escalation
    assert clock_of(ticket, ACK) is None
    assert clock_of(ticket, ACK, live=False).cancel_reason == "escalated again, to level 3"


def test_a_plan_that_does_not_escalate_leaves_the_breach_at_its_level(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    Plan.objects.filter(name="Premium").update(escalate_on_breach=False)
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    frozen(later(minutes=16))

    result = sweep()

    assert (result.breached, result.escalations_queued) == (1, 0)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2


def test_a_further_escalation_cancels_it_and_starts_the_new_levels(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    # Given a case escalated to level 2 (15 min); level 3 has 30 min
    with_target(levels[2], 15)
    with_target(levels[3], 30)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    first = clock_of(ticket, ACK)

    # When, 5 minutes later, an agent moves it on to level 3
    frozen(later(minutes=5))
    escalate_by(agent, ticket, to_level=3)

    # Then level 2's clock stopped, and level 3's runs from the new escalation
    first.refresh_from_db()
    assert first.cancelled_at == later(minutes=5)
    assert first.cancel_reason == "escalated again, to level 3"
    second = clock_of(ticket, ACK)
    assert second.pk != first.pk
    assert (second.started_at, second.due_at) == (later(minutes=5), later(minutes=35))
    # And only the live one is ever swept
    frozen(later(minutes=16))
    assert sweep().breached == 0


def test_resolving_cancels_it(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    frozen(later(minutes=3))

    change_status(ticket.pk, agent, Ticket.Status.RESOLVED)

    clock = clock_of(ticket, ACK, live=False)
    assert (clock.cancelled_at, clock.cancel_reason) == (later(minutes=3), "case resolved")


def test_a_priority_change_keeps_the_levels_target(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    # The plan has no acknowledgement target: a recomputation must not stop the clock.
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    escalate_by(agent, ticket)
    frozen(later(minutes=2))

    change_priority(ticket.pk, agent, Priority.LOW)

    clock = clock_of(ticket, ACK)
    assert clock is not None
    assert (clock.target_seconds, clock.due_at) == (15 * 60, later(minutes=15))


def test_escalating_a_case_waiting_on_the_customer_starts_it_paused(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any
) -> None:
    # Given a case waiting on the customer, escalated to level 2 (15 min)
    with_target(levels[2], 15)
    ticket = make_case(contact).ticket
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    escalate_by(agent, ticket)
    assert clock_of(ticket, ACK).paused_at == later()

    # When the customer answers 10 minutes later
    frozen(later(minutes=10))
    add_message(ticket.pk, contact, "Here are the logs.", [])

    # Then it runs from then, its due time moved by the pause
    assert clock_of(ticket, ACK).due_at == later(minutes=25)
