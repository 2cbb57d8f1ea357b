"""SLA clocks through the real case actions: met, paused and resumed, stopped, restarted,
recomputed; with the clock moved by time-machine."""

from __future__ import annotations

from datetime import time
from importlib import import_module
from typing import Any

from django.db import connection

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.sla import clocks as sla_clocks
from casedesk.sla.models import Calendar, Clock, Plan, Target, WeeklyHours
from casedesk.sla.tests.conftest import T0, clock_of, later, sla_events, utc
from casedesk.tickets.actions import (
    add_message,
    change_priority,
    change_status,
    close_by_contact,
    reopen_by_contact,
)
from casedesk.tickets.models import Ticket

met_by_migration = import_module("casedesk.sla.migrations.0010_met_by")


def with_next_and_resolution(plan: str = "Premium", priority: int = Priority.HIGH,
                             next_minutes: int = 60, resolution_minutes: int = 24 * 60) -> None:
    Target.objects.filter(plan__name=plan, priority=priority).update(
        next_response_minutes=next_minutes, resolution_minutes=resolution_minutes
    )


# --- first response ---------------------------------------------------------------------


def test_the_first_public_agent_reply_meets_the_first_response(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a Premium High case (1 hour)
    ticket = make_case(contact).ticket

    # When an agent adds an internal note at 20 minutes, then replies at 40
    frozen(later(minutes=20))
    add_message(ticket.pk, agent, "Checking resolver 2.", [], internal=True)
    assert clock_of(ticket).met_at is None
    frozen(later(minutes=40))
    add_message(ticket.pk, agent, "Fixed, please check.", [])

    # Then the reply met it, in time, and the history says so once
    clock = clock_of(ticket, live=False)
    assert clock.met_at == later(minutes=40)
    assert clock.met_by == agent
    assert not clock.met_late
    assert clock.next_check_at is None
    [met] = sla_events(ticket)
    assert met.kind == "sla_met" and met.data["late_seconds"] == 0


def test_a_late_reply_is_recorded_as_met_late(contact: User, agent: User, frozen: Any) -> None:
    ticket = make_case(contact).ticket
    frozen(later(hours=1, minutes=35))

    add_message(ticket.pk, agent, "Sorry for the wait.", [])

    clock = clock_of(ticket, live=False)
    assert clock.met_late
    assert sla_events(ticket, "sla_met")[0].data["late_seconds"] == 35 * 60


def test_a_customer_follow_up_before_the_first_answer_starts_no_second_clock(
    contact: User, agent: User, frozen: Any
) -> None:
    with_next_and_resolution()
    ticket = make_case(contact).ticket
    frozen(later(minutes=10))

    add_message(ticket.pk, contact, "Any news?", [])

    # The customer still waits for the first response: that one clock says when.
    assert not Clock.objects.filter(ticket=ticket, kind="next_response").exists()
    assert clock_of(ticket).due_at == later(hours=1)


# --- next response ----------------------------------------------------------------------


def test_each_customer_message_after_an_answer_starts_a_next_response_met_by_the_next_reply(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a plan with a 1-hour next response, and a first answer at 30 minutes
    with_next_and_resolution(next_minutes=60)
    ticket = make_case(contact).ticket
    frozen(later(minutes=30))
    add_message(ticket.pk, agent, "Please send the logs.", [])

    # When the customer replies twice, at 2 h and 2 h 10
    frozen(later(hours=2))
    add_message(ticket.pk, contact, "Logs attached.", [])
    frozen(later(hours=2, minutes=10))
    add_message(ticket.pk, contact, "And one more.", [])

    # Then one next-response clock runs from the first of them
    [waiting] = Clock.objects.filter(ticket=ticket, kind="next_response")
    assert waiting.started_at == later(hours=2)
    assert waiting.due_at == later(hours=3)

    # And an agent's next public reply meets it; a note would not have
    frozen(later(hours=2, minutes=20))
    add_message(ticket.pk, agent, "Internal: looking.", [], internal=True)
    assert clock_of(ticket, "next_response").met_at is None
    other = make_agent(email="lee@casedesk.example", full_name="Lee Other")
    add_message(ticket.pk, other, "Found it.", [])
    met = clock_of(ticket, "next_response", live=False)
    assert met.met_at == later(hours=2, minutes=20)
    # Met by the agent who replied this time, not by the first one
    assert met.met_by == other
    assert clock_of(ticket, "first_response", live=False).met_by == agent


def test_the_migration_finds_who_met_the_response_clocks_met_before_it(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a first response by a first agent, a note by a second, a customer's message
    # and a next response by the second agent, then met_by forgotten (as before 0010)
    with_next_and_resolution(next_minutes=60)
    ticket = make_case(contact).ticket
    other = make_agent(email="lee@casedesk.example", full_name="Lee Other")
    frozen(later(minutes=30))
    add_message(ticket.pk, agent, "Please send the logs.", [])
    frozen(later(minutes=50))
    add_message(ticket.pk, other, "Watching this one.", [], internal=True)
    frozen(later(hours=2))
    add_message(ticket.pk, contact, "Logs attached.", [])
    frozen(later(hours=2, minutes=10))
    add_message(ticket.pk, other, "Found it.", [])
    waiting = make_case(contact, subject="Not answered yet").ticket
    Clock.objects.update(met_by=None)

    # When the migration's backfill runs
    with connection.cursor() as cursor:
        cursor.execute(met_by_migration.BACKFILL)

    # Then each met response clock has the agent whose public reply met it; the case no
    # agent answered has none
    assert clock_of(ticket, "first_response", live=False).met_by == agent
    assert clock_of(ticket, "next_response", live=False).met_by == other
    assert clock_of(waiting).met_by is None


# --- pauses -----------------------------------------------------------------------------


def test_waiting_on_the_customer_pauses_and_the_due_time_moves_by_the_pause(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a Premium High case with a 24 h resolution target
    with_next_and_resolution()
    ticket = make_case(contact).ticket
    frozen(later(minutes=30))
    add_message(ticket.pk, agent, "Which resolver?", [], new_status=Ticket.Status.PENDING)

    # Then the resolution clock is paused and nothing is pending for the sweep
    paused = clock_of(ticket, "resolution")
    assert paused.paused_at == sla_events(ticket, "sla_paused")[0].created_at
    assert paused.next_check_at is None

    # When the customer answers 3 hours later
    frozen(later(hours=3, minutes=30))
    add_message(ticket.pk, contact, "Resolver 2.", [])

    # Then the case is open again and the due time moved by exactly 3 hours
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    running = clock_of(ticket, "resolution")
    assert running.paused_at is None
    assert running.paused_seconds == 3 * 3600
    assert running.due_at == later(hours=27)
    resumed = sla_events(ticket, "sla_resumed")[0]
    [row] = [r for r in resumed.data["clocks"] if r["kind"] == "resolution"]
    assert row["paused_seconds"] == 3 * 3600
    assert row["new_due"] == later(hours=27).isoformat()


def test_a_pause_in_business_hours_moves_the_due_time_by_open_time_only(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given Premium counts in Dubai office hours, Monday-Friday 08:00-17:00 (04:00-13:00 UTC)
    office = Calendar.objects.create(name="Dubai office", time_zone="Asia/Dubai",
                                     always_open=False)
    for day in range(5):
        WeeklyHours.objects.create(calendar=office, weekday=day, start=time(8), end=time(17))
    Plan.objects.filter(name="Premium").update(calendar=office)
    Target.objects.filter(plan__name="Premium", priority=Priority.LOW).update(
        resolution_minutes=16 * 60)

    # When a Low case opens Monday 09:00 UTC (13:00 Dubai) and waits on the customer from
    # 10:00 UTC until 06:00 UTC the next day: 3 open hours Monday, 2 on Tuesday
    ticket = make_case(contact, priority=Priority.LOW).ticket
    assert clock_of(ticket, "resolution").due_at == utc(2026, 3, 4, 7)
    frozen(later(hours=1))
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    frozen(utc(2026, 3, 3, 6))
    change_status(ticket.pk, agent, Ticket.Status.OPEN)

    # Then 5 hours of open time were paused, and the due time moved by 5 open hours
    clock = clock_of(ticket, "resolution")
    assert clock.paused_seconds == 5 * 3600
    assert clock.due_at == utc(2026, 3, 4, 12)


def test_a_reply_while_waiting_meets_the_response_and_keeps_the_rest_paused(
    contact: User, agent: User, frozen: Any
) -> None:
    with_next_and_resolution()
    ticket = make_case(contact).ticket
    frozen(later(minutes=10))
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    frozen(later(minutes=40))

    add_message(ticket.pk, agent, "Still waiting for your logs.", [])

    first = clock_of(ticket, live=False)
    assert first.met_at == later(minutes=40) and not first.met_late
    # The 30 minutes it was paused do not count against it either.
    assert first.paused_seconds == 30 * 60
    assert clock_of(ticket, "resolution").paused_at == later(minutes=10)


# --- resolved, closed, reopened ---------------------------------------------------------


def test_resolving_meets_the_resolution_and_cancels_the_rest(
    contact: User, agent: User, frozen: Any
) -> None:
    with_next_and_resolution()
    ticket = make_case(contact).ticket
    frozen(later(hours=5))

    change_status(ticket.pk, agent, Ticket.Status.RESOLVED)

    resolution = clock_of(ticket, "resolution", live=False)
    assert resolution.met_at == later(hours=5) and resolution.met_by == agent
    first = clock_of(ticket, live=False)
    assert first.met_at is None and first.cancelled_at == later(hours=5)
    assert first.met_by is None
    assert first.cancel_reason == "case resolved"
    assert not Clock.objects.filter(next_check_at__isnull=False).exists()


def test_reopening_starts_a_new_resolution_clock_and_a_next_response(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a case answered and then closed by the customer
    with_next_and_resolution(next_minutes=120)
    ticket = make_case(contact).ticket
    frozen(later(minutes=20))
    add_message(ticket.pk, agent, "Done.", [])
    frozen(later(hours=1))
    close_by_contact(ticket.pk, contact)

    # When the customer reopens it the next day
    frozen(later(hours=25))
    reopen_by_contact(ticket.pk, contact)

    # Then a fresh resolution clock runs from now with the full 24 h, and a next
    # response is due in 2 h; the earlier resolution clock stays in the history, met
    resolution = clock_of(ticket, "resolution")
    assert resolution.started_at == later(hours=25)
    assert resolution.due_at == later(hours=49)
    assert clock_of(ticket, "next_response").due_at == later(hours=27)
    assert Clock.objects.filter(ticket=ticket, kind="resolution").count() == 2


def test_an_agent_reopening_restarts_resolution_only(
    contact: User, agent: User, frozen: Any
) -> None:
    with_next_and_resolution()
    ticket = make_case(contact).ticket
    add_message(ticket.pk, agent, "Done.", [], new_status=Ticket.Status.RESOLVED)
    frozen(later(hours=2))

    change_status(ticket.pk, agent, Ticket.Status.OPEN)

    assert clock_of(ticket, "resolution").started_at == later(hours=2)
    assert clock_of(ticket, "next_response") is None


# --- recomputations ---------------------------------------------------------------------


def test_a_priority_change_recomputes_from_the_original_start(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given a Premium Low case (48 h) opened at T0
    ticket = make_case(contact, priority=Priority.LOW).ticket

    # When an agent raises it to High after 30 minutes
    frozen(later(minutes=30))
    change_priority(ticket.pk, agent, Priority.HIGH)

    # Then the first response is due 1 h after the ORIGINAL start, and the history says so
    clock = clock_of(ticket)
    assert (clock.started_at, clock.priority, clock.due_at) == (T0, Priority.HIGH, later(1))
    [event] = sla_events(ticket, "sla_recomputed")
    assert event.data["reason"] == "priority"
    [row] = event.data["clocks"]
    assert row["old_due"] == later(48).isoformat() and row["new_due"] == later(1).isoformat()
    assert (row["old_target"], row["new_target"]) == (48 * 3600, 3600)


def test_a_recompute_into_the_past_is_then_breached_and_a_withdrawn_breach_is_said(
    contact: User, agent: User, frozen: Any
) -> None:
    from casedesk.sla.jobs import sweep

    # Given a High case breached at 1 h 10
    ticket = make_case(contact).ticket
    frozen(later(hours=1, minutes=10))
    sweep()
    assert clock_of(ticket).breached_at is not None

    # When the priority is lowered to Low (48 h)
    change_priority(ticket.pk, agent, Priority.LOW)

    # Then the clock is no longer breached, and the recompute event says the breach was
    # withdrawn; the breach event stays in the history
    clock = clock_of(ticket)
    assert clock.breached_at is None and clock.next_check_at == later(36)
    [row] = sla_events(ticket, "sla_recomputed")[0].data["clocks"]
    assert "breach" in row["withdrawn"]
    assert len(sla_events(ticket, "sla_breach")) == 1


def test_a_priority_change_while_paused_keeps_the_clock_paused(
    contact: User, agent: User, frozen: Any
) -> None:
    ticket = make_case(contact, priority=Priority.LOW).ticket
    frozen(later(hours=1))
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    frozen(later(hours=3))

    change_priority(ticket.pk, agent, Priority.MEDIUM)

    clock = clock_of(ticket)
    assert clock.paused_at == later(1) and clock.next_check_at is None
    frozen(later(hours=4))
    change_status(ticket.pk, agent, Ticket.Status.OPEN)
    # 4 h target + the 3 h pause, from the original start.
    assert clock_of(ticket).due_at == later(7)


def test_a_priority_without_a_target_cancels_the_clock_and_one_with_a_target_starts_it(
    contact: User, agent: User, frozen: Any
) -> None:
    Target.objects.filter(plan__name="Premium", priority=Priority.QUESTION).delete()
    ticket = make_case(contact, priority=Priority.LOW).ticket
    frozen(later(hours=2))

    change_priority(ticket.pk, agent, Priority.QUESTION)
    assert clock_of(ticket) is None
    assert Clock.objects.get(ticket=ticket).cancel_reason.startswith("no target")

    frozen(later(hours=3))
    change_priority(ticket.pk, agent, Priority.LOW)
    # Nobody has answered yet: the first response runs again from the original start.
    clock = clock_of(ticket)
    assert (clock.started_at, clock.due_at) == (T0, later(48))
    assert Clock.objects.filter(ticket=ticket).count() == 2


def test_editing_a_plan_recomputes_its_running_cases_in_batches_in_the_background(
    db: Any, agent: User, frozen: Any
) -> None:
    from casedesk.sla.tests.conftest import run_queued_jobs

    # Given five open Standard Medium cases (8 h), one of them already answered
    org = make_org(plan="Standard")
    tickets = [make_case(make_contact(org), priority=Priority.MEDIUM).ticket for _ in range(5)]
    add_message(tickets[0].pk, agent, "Answered.", [])

    # When the plan's Medium target becomes 6 h and the job runs, 2 cases per batch
    frozen(later(hours=1))
    Target.objects.filter(plan__name="Standard", priority=Priority.MEDIUM).update(
        first_response_minutes=6 * 60)
    changed = sla_clocks.recompute_for_plan(Plan.objects.get(name="Standard").pk, batch=2)

    # Then the four still waiting are due 6 h after their start; the met one is untouched
    assert changed == 4
    for ticket in tickets[1:]:
        assert clock_of(ticket).due_at == later(6)
        assert sla_events(ticket, "sla_recomputed")[0].data["reason"] == "plan_edited"
    assert clock_of(tickets[0], live=False).due_at == later(8)
    assert run_queued_jobs("recompute_clocks") == []


def test_a_plan_gaining_a_target_starts_clocks_from_the_case_creation(
    db: Any, frozen: Any
) -> None:
    Target.objects.filter(plan__name="Standard", priority=Priority.QUESTION).delete()
    ticket = make_case(make_contact(make_org(plan="Standard")),
                       priority=Priority.QUESTION).ticket
    assert clock_of(ticket) is None

    frozen(later(hours=10))
    Target.objects.create(plan=Plan.objects.get(name="Standard"), priority=Priority.QUESTION,
                          first_response_minutes=96 * 60)
    sla_clocks.recompute_for_plan(Plan.objects.get(name="Standard").pk)

    clock = clock_of(ticket)
    assert clock.started_at == ticket.created_at == T0
    assert clock.due_at == later(96)
    [row] = sla_events(ticket, "sla_recomputed")[0].data["clocks"]
    assert row["action"] == "started"


def test_changing_an_organizations_plan_in_the_admin_recomputes_its_cases(
    db: Any, frozen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import Client

    from casedesk.conftest import make_agent
    from casedesk.sla.tests.conftest import run_queued_jobs

    # Given a Standard partner with an open High case (2 h)
    org = make_org("Oasis Telecom", plan="Standard", domains="oasis.example")
    ticket = make_case(make_contact(org)).ticket
    admin = make_agent(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    # When an admin moves the partner to Premium, and the background job runs
    frozen(later(minutes=15))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/accounts/organization/{org.pk}/change/", {
            "name": org.name, "plan": Plan.objects.get(name="Premium").pk,
            "email_domains": org.email_domains, "org_wide_visibility": "on",
            "time_zone": "UTC", "language": "en",
            "created_at_0": "2026-03-01", "created_at_1": "09:00:00",
        })
    assert response.status_code == 302
    assert clock_of(ticket).due_at == later(2)  # not yet: the job does it
    assert run_queued_jobs("recompute_clocks") == [1]

    # Then the case is due 1 h after its original start, under Premium
    clock = clock_of(ticket)
    assert (clock.plan.name, clock.due_at) == ("Premium", later(1))
    assert sla_events(ticket, "sla_recomputed")[0].data["reason"] == "plan"


# --- bad input --------------------------------------------------------------------------


def test_a_calendar_that_is_never_open_still_gives_a_due_time(
    db: Any, frozen: Any
) -> None:
    # Given a calendar saved behind the admin's back with no open hours at all
    closed = Calendar.objects.create(name="Never", time_zone="UTC", always_open=False)
    Plan.objects.filter(name="Standard").update(calendar=closed)

    # When a case is opened under it
    ticket = make_case(make_contact(make_org(plan="Standard"))).ticket

    # Then the case is stored with a clock counted around the clock, not lost
    assert clock_of(ticket).due_at == later(2)


def test_a_viewer_time_zone_that_does_not_exist_shows_utc(
    contact: User, frozen: Any, client: Any
) -> None:
    contact.time_zone = "Mars/Olympus_Mons"
    contact.save()
    ticket = make_case(contact).ticket
    client.force_login(contact)

    page = client.get(f"/cases/{ticket.pk}/").content.decode()

    assert "First response due by 10:00 (your time)" in page
    assert "Times in <bdi>UTC</bdi>" in page


def test_no_plan_at_all_opens_the_case_without_clocks(db: Any, frozen: Any) -> None:
    from casedesk.accounts.models import Organization

    Organization.objects.all().delete()
    Target.objects.all().delete()
    Plan.objects.all().delete()

    submission = make_case(email="lonely@example.org")

    assert Ticket.objects.filter(pk=submission.ticket.pk).exists()
    assert not Clock.objects.exists()
