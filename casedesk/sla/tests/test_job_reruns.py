"""A job handed to another worker (casedesk.core.lease) may run a second time: the SLA
jobs must come to the same result."""

from __future__ import annotations

from typing import Any

from django_tasks_db.models import DBTaskResult

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.escalation.models import Escalation, Level
from casedesk.sla.jobs import escalate_for_breaches, sweep
from casedesk.sla.tests.conftest import later, sla_events


def test_the_breach_escalation_job_run_twice_escalates_once(
    contact: User, levels: dict[int, Level], frozen: Any
) -> None:
    # Given a breached case whose escalation job is queued
    ticket = make_case(contact).ticket
    frozen(later(hours=1, minutes=1))
    assert sweep().escalations_queued == 1
    [job] = DBTaskResult.objects.filter(task_path__endswith="escalate_breached")
    clock_ids = job.args_kwargs["args"][0]

    # When it runs, and runs again (as after its first worker died before finishing)
    first = escalate_for_breaches(clock_ids)
    second = escalate_for_breaches(clock_ids)

    # Then the case went up one level, once
    assert first == {"escalated to level 2": 1}
    assert second == {"already escalated for this breach": 1}
    assert Escalation.objects.filter(ticket=ticket).count() == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2


def test_the_sweep_run_twice_records_a_breach_once(contact: User, frozen: Any) -> None:
    ticket = make_case(contact).ticket
    frozen(later(hours=1, minutes=1))
    sweep()
    sweep()
    assert [e.kind for e in sla_events(ticket)].count("sla_breach") == 1
