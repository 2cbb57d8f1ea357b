"""The SLA sweep: warnings and breaches recorded once, mailed, escalated; what it reads;
and the periodic schedule that runs it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.accounts.models import User
from casedesk.conftest import make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.core.models import ScheduledRun
from casedesk.core.schedule import Periodic, tick
from casedesk.escalation.models import Escalation, Level
from casedesk.sla.jobs import due_clocks, escalate_for_breach, sweep
from casedesk.sla.models import Clock, Plan
from casedesk.sla.tests.conftest import (
    T0,
    clock_of,
    later,
    outbox_to,
    run_queued_jobs,
    sla_events,
)
from casedesk.tickets.actions import add_message, assign, change_status
from casedesk.tickets.models import Ticket


def test_nothing_due_means_nothing_recorded(contact: User, frozen: Any) -> None:
    ticket = make_case(contact).ticket

    result = sweep()

    assert (result.claimed, result.warned, result.breached) == (0, 0, 0)
    assert sla_events(ticket) == []


def test_a_warning_at_three_quarters_is_recorded_once_and_mailed(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any, send_mail: Any
) -> None:
    # Given a Premium High case (1 h) assigned to Sam
    ticket = make_case(contact).ticket
    assign(ticket.pk, agent, agent)
    send_mail()

    # When sweeps run at 44 minutes, 45 and 50
    frozen(later(minutes=44))
    assert sweep().warned == 0
    frozen(later(minutes=45))
    assert sweep().warned == 1
    frozen(later(minutes=50))
    assert sweep().claimed == 0

    # Then one warning is recorded, and Sam and level 1's contact were told once each
    [warning] = sla_events(ticket)
    assert warning.kind == "sla_warning" and warning.data["percent"] == 75
    mails = send_mail()
    for address in ("sam@casedesk.example", "level1@casedesk.example"):
        [mail] = [m for m in outbox_to(mails, address) if "SLA" in m["Subject"]]
        assert mail["Subject"] == f"[Case #{ticket.pk}] SLA due soon: first response"
        assert "15m left" in mail.get_content()
    # The sweep's next look at this clock is the due time.
    assert clock_of(ticket).next_check_at == later(1)


def test_a_breach_is_recorded_once_and_escalates_one_level(
    contact: User, agent: User, levels: dict[int, Level], frozen: Any, send_mail: Any
) -> None:
    ticket = make_case(contact).ticket
    frozen(later(minutes=46))
    sweep()

    # When the due time passes and two sweeps run, then the queued jobs
    frozen(later(hours=1, minutes=1))
    first, second = sweep(), sweep()
    assert (first.breached, first.escalations_queued, second.claimed) == (1, 1, 0)
    assert not Escalation.objects.exists()  # the job does it, in its own transaction
    assert run_queued_jobs("escalate_breached") == [{"escalated to level 2": 1}]

    # Then one breach, one escalation to level 2 by the SLA source, and nothing left to do
    assert [e.kind for e in sla_events(ticket)] == ["sla_warning", "sla_breach"]
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.source, escalation.from_level, escalation.to_level) == ("sla", 1, 2)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    clock = clock_of(ticket)
    assert clock.breached_at == later(hours=1, minutes=1) and clock.next_check_at is None
    [alert] = [m for m in outbox_to(send_mail(), "level1@casedesk.example")
               if "SLA breached" in m["Subject"]]
    assert "overdue by 1m" in alert.get_content()
    assert "the plan escalates it to the next level now" in alert.get_content()


def test_a_plan_that_does_not_escalate_only_records_and_mails(
    contact: User, levels: dict[int, Level], frozen: Any
) -> None:
    Plan.objects.filter(name="Premium").update(escalate_on_breach=False)
    make_case(contact)
    frozen(later(hours=2))

    result = sweep()

    assert (result.breached, result.escalations_queued) == (1, 0)
    assert run_queued_jobs("escalate_breached") == []


def test_warning_and_breach_due_together_record_only_the_breach(
    contact: User, frozen: Any
) -> None:
    ticket = make_case(contact).ticket
    frozen(later(hours=3))

    sweep()

    assert [e.kind for e in sla_events(ticket)] == ["sla_breach"]
    assert clock_of(ticket).warned_at is not None


def test_paused_met_and_resolved_clocks_are_never_swept(
    contact: User, agent: User, frozen: Any
) -> None:
    paused = make_case(contact).ticket
    answered = make_case(contact).ticket
    resolved = make_case(contact).ticket
    change_status(paused.pk, agent, Ticket.Status.PENDING)
    add_message(answered.pk, agent, "Done.", [])
    change_status(resolved.pk, agent, Ticket.Status.RESOLVED)

    frozen(later(hours=100))
    result = sweep()

    assert result.claimed == 0
    assert not Clock.objects.filter(breached_at__isnull=False).exists()


def test_two_clocks_of_one_case_breaching_together_escalate_it_once(
    contact: User, frozen: Any
) -> None:
    from casedesk.sla.models import Target

    Target.objects.filter(plan__name="Premium", priority=Priority.HIGH).update(
        resolution_minutes=60)
    ticket = make_case(contact).ticket
    frozen(later(hours=2))

    result = sweep()
    run_queued_jobs("escalate_breached")

    assert (result.breached, result.escalations_queued) == (2, 1)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2


def test_a_case_at_the_top_level_keeps_its_breach(contact: User, frozen: Any) -> None:
    ticket = make_case(contact).ticket
    Ticket.objects.filter(pk=ticket.pk).update(escalation_level=4)
    frozen(later(hours=2))

    sweep()

    assert run_queued_jobs("escalate_breached") == [{"not escalated": 1}]
    assert escalate_for_breach(clock_of(ticket).pk) == (
        f"not escalated: Case {ticket.pk} is already at the top level, 4 (Head of Support)."
    )
    assert len(sla_events(ticket, "sla_breach")) == 1


def test_a_breach_withdrawn_before_its_job_runs_escalates_nothing(
    contact: User, agent: User, frozen: Any
) -> None:
    from casedesk.tickets.actions import change_priority

    ticket = make_case(contact).ticket
    frozen(later(hours=1, minutes=5))
    sweep()
    change_priority(ticket.pk, agent, Priority.QUESTION)

    assert run_queued_jobs("escalate_breached") == [{"no breach any more": 1}]
    assert not Escalation.objects.exists()


def test_many_due_clocks_are_swept_in_batches(db: Any, frozen: Any) -> None:
    org = make_org(plan="Standard")
    Plan.objects.filter(name="Standard").update(escalate_on_breach=False)
    tickets = [make_case(make_contact(org)).ticket for _ in range(7)]
    frozen(later(hours=3))

    result = sweep(batch=3)

    assert (result.claimed, result.breached, result.batches) == (7, 7, 3)
    for ticket in tickets:
        assert len(sla_events(ticket, "sla_breach")) == 1


def test_an_empty_sweep_costs_the_same_few_queries_at_any_number_of_open_cases(
    db: Any, frozen: Any
) -> None:
    org = make_org(plan="Standard")
    make_case(make_contact(org))
    with CaptureQueriesContext(connection) as few:
        sweep()
    for _ in range(10):
        make_case(make_contact(org))
    with CaptureQueriesContext(connection) as many:
        sweep()

    # The escalation levels, then one read of the due clocks (transaction statements aside)
    reads = [q["sql"] for q in many.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert len(reads) == 2
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_sweep_reads_due_clocks_through_the_next_check_index(
    db: Any, frozen: Any, is_postgres: bool
) -> None:
    # Given many clocks with nothing pending (met) and a few due, with fresh statistics
    ticket = make_case(make_contact(make_org(plan="Standard"))).ticket
    plan = Plan.objects.get(name="Standard")
    Clock.objects.bulk_create([
        Clock(ticket=ticket, kind="first_response", plan=plan, priority=1, started_at=T0,
              target_seconds=3600, due_at=T0, met_at=T0)
        for _ in range(3000)
    ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # When the sweep's query is explained
    sql, params = due_clocks(later(hours=3), 500).query.sql_with_params()
    with connection.cursor() as cursor:
        prefix = "EXPLAIN " if is_postgres else "EXPLAIN QUERY PLAN "
        cursor.execute(prefix + sql, params)
        plan_text = "\n".join(str(row) for row in cursor.fetchall())

    # Then it walks the partial index on next_check_at, never the whole table
    assert "clock_next_check" in plan_text, plan_text
    if is_postgres:
        assert "Seq Scan on sla_clock" not in plan_text, plan_text
        assert "SKIP LOCKED" in sql.upper()
    else:
        assert "SCAN sla_clock" not in plan_text.replace("USING INDEX", ""), plan_text


# --- the schedule -----------------------------------------------------------------------


EVERY_30 = [Periodic("sla.sweep", "casedesk.sla.jobs.sweep_due_clocks", timedelta(seconds=30))]


def test_the_schedule_enqueues_a_sweep_once_per_interval(db: Any, frozen: Any) -> None:
    assert tick(T0, EVERY_30) == ["sla.sweep"]
    assert tick(later(minutes=0.25), EVERY_30) == []
    # The queued job is the sweep itself.
    assert run_queued_jobs("sweep_due_clocks")[0]["claimed"] == 0
    assert tick(later(minutes=0.5), EVERY_30) == ["sla.sweep"]

    assert DBTaskResult.objects.filter(task_path__endswith="sweep_due_clocks").count() == 1
    assert ScheduledRun.objects.get(name="sla.sweep").next_run_at == later(minutes=1)


def test_a_tick_whose_previous_job_still_waits_enqueues_nothing(db: Any, frozen: Any) -> None:
    # Regression (issue 8.8, found by the soak): with the workers busy, every tick added
    # another job of each periodic task, and dozens of them queued up behind each other.
    assert tick(T0, EVERY_30) == ["sla.sweep"]

    # When the next ticks come while that sweep has not started yet
    assert tick(later(minutes=0.5), EVERY_30) == []
    assert tick(later(minutes=1), EVERY_30) == []

    # Then one sweep waits, and once it ran the next tick enqueues again
    assert DBTaskResult.objects.filter(task_path__endswith="sweep_due_clocks").count() == 1
    run_queued_jobs("sweep_due_clocks")
    assert tick(later(minutes=1.5), EVERY_30) == ["sla.sweep"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_workers_ticking_at_once_enqueue_each_tick_once(is_postgres: bool) -> None:
    # Given eight scheduler threads (each its own database connection) on one tick
    barrier = threading.Barrier(8)
    won: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            won.append(tick(T0, EVERY_30))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one of them enqueued the sweep
    assert errors == []
    assert sorted(len(names) for names in won) == [0] * 7 + [1]
    assert DBTaskResult.objects.filter(task_path__endswith="sweep_due_clocks").count() == 1


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    # The worker installs its own Ctrl-C handlers; give pytest its own back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_worker_sweeps_on_its_own_schedule(
    settings: Any, keep_signal_handlers: None
) -> None:
    # Given a Premium High case opened two hours ago, never answered
    settings.CASEDESK_SLA_SWEEP_SECONDS = 1
    Plan.objects.filter(name="Premium").update(escalate_on_breach=False)
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        ticket = make_case(make_contact(make_org(plan="Premium"))).ticket

    # When `casedesk worker` runs (its scheduler enqueues the sweep; the worker runs it)
    # (three jobs: the first tick's sweep and daily prune, in either order, and the next
    # tick's sweep a second later)
    call_command("worker", "--queue-name", "default", "--max-tasks", "3",
                 "--no-startup-delay", "--interval", "0.1", verbosity=0)

    # Then the breach is recorded without anyone calling the sweep
    assert len(sla_events(ticket, "sla_breach")) == 1
    assert ScheduledRun.objects.get(name="sla.sweep").last_run_at is not None


def test_the_worker_runs_the_scheduler_unless_told_not_to() -> None:
    from casedesk.core.management.commands.worker import Command

    parser = Command().create_parser("casedesk", "worker")
    assert parser.parse_args([]).scheduler is True
    assert parser.parse_args(["--no-scheduler"]).scheduler is False


def test_an_alert_mail_lists_the_first_cases_and_links_to_the_rest(
    db: Any, levels: dict[int, Level], frozen: Any, send_mail: Any, monkeypatch: Any
) -> None:
    from casedesk.sla import jobs

    monkeypatch.setattr(jobs, "MAIL_LINES", 2)
    Plan.objects.filter(name="Standard").update(escalate_on_breach=False)
    org = make_org(plan="Standard")
    tickets = [make_case(make_contact(org)).ticket for _ in range(3)]
    frozen(later(hours=3))

    sweep()

    [mail] = [m for m in outbox_to(send_mail(), "level1@casedesk.example")
              if "SLA" in m["Subject"]]
    body = mail.get_content()
    assert mail["Subject"] == "SLA: 3 breached"
    assert f"Case {tickets[0].pk}:" in body and f"Case {tickets[2].pk}:" not in body
    assert "... and 1 more: http://127.0.0.1:8000/desk/?view=breaching" in body


def test_finished_jobs_are_pruned_daily(db: Any, frozen: Any) -> None:
    from casedesk.core.jobs import prune_finished_jobs
    from casedesk.core.schedule import periodic_tasks

    # Given a sweep job that ran three days ago
    assert "core.prune_jobs" in [p.name for p in periodic_tasks()]
    tick(T0, EVERY_30)
    job = DBTaskResult.objects.get()
    job.claim("test-worker")
    job.set_successful({"claimed": 0})
    frozen(later(hours=72))

    # When the daily prune runs
    prune_finished_jobs.call()

    # Then its row is gone
    assert not DBTaskResult.objects.exists()
