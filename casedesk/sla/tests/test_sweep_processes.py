"""Two real processes sweeping the same due clocks at the same moment, on PostgreSQL: each
clock is handled by exactly one of them (one breach event, one queued escalation per case),
and two real workers running those escalations escalate each case once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.conftest import make_contact, make_org
from casedesk.escalation.models import Escalation
from casedesk.sla.models import Clock, Plan
from casedesk.tickets.models import Event, Ticket

REPO = Path(__file__).resolve().parents[3]
DUE_CLOCKS = 2000

# Each process waits for the agreed start time, then sweeps in batches of 100: both are
# inside the same 20 batches' worth of work at once.
SWEEPER = """
import json, sys, time
import django
django.setup()
from dataclasses import asdict
from casedesk.sla.jobs import sweep
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
print(json.dumps(asdict(sweep(batch=100))))
"""


def seed_due_clocks(count: int) -> None:
    """`count` open cases, each with a first-response clock two hours overdue."""
    org = make_org(plan="Premium")
    requester = make_contact(org)
    plan = Plan.objects.get(name="Premium")
    now = timezone.now()
    start = now - timedelta(hours=3)
    first_id = 900_000
    Ticket.objects.bulk_create([
        Ticket(id=first_id + n, subject=f"Due case {n}", requester=requester, organization=org,
               priority=1, created_at=start, updated_at=start, last_message_at=start)
        for n in range(count)
    ])
    Clock.objects.bulk_create([
        Clock(ticket_id=first_id + n, kind="first_response", plan=plan, priority=1,
              started_at=start, target_seconds=3600, due_at=start + timedelta(hours=1),
              warn_at=start + timedelta(minutes=45),
              next_check_at=start + timedelta(minutes=45))
        for n in range(count)
    ])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_processes_sweeping_at_once_never_handle_one_clock_twice(
    is_postgres: bool, tmp_path: Path
) -> None:
    if not is_postgres:
        pytest.skip(
            "SQLite has one write lock per database and the sweep's transaction takes it "
            "first (IMMEDIATE): two sweeps cannot overlap, so there is no race to test. "
            "Run with CASEDESK_DATABASE_URL=postgres://... to test SKIP LOCKED."
        )
    # Given 2,000 due clocks (committed: the sweepers are other processes)
    seed_due_clocks(DUE_CLOCKS)
    settings = connection.settings_dict
    env = {
        **os.environ,
        "CASEDESK_DATABASE_URL": (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        ),
        "CASEDESK_EMAIL_URL": f"file://{tmp_path / 'outbox'}",
        "DJANGO_SETTINGS_MODULE": "casedesk.settings",
        "CASEDESK_LOG_LEVEL": "ERROR",
    }

    # When two processes sweep, starting at the same instant
    start = time.time() + 4
    processes = [
        subprocess.Popen([sys.executable, "-c", SWEEPER, str(start)], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results: list[dict[str, Any]] = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    # Then together they claimed every clock once, and both took part
    assert sum(r["claimed"] for r in results) == DUE_CLOCKS
    assert sum(r["breached"] for r in results) == DUE_CLOCKS
    assert all(r["claimed"] > 0 for r in results), results
    # And each clock has exactly one breach event and one queued escalation
    per_clock = Counter(
        Event.objects.filter(kind=Event.Kind.SLA_BREACH).values_list("data__clock", flat=True)
    )
    assert len(per_clock) == DUE_CLOCKS and set(per_clock.values()) == {1}
    jobs = Counter(
        clock_id
        for job in DBTaskResult.objects.filter(task_path__endswith="escalate_breached")
        for clock_id in job.args_kwargs["args"][0]
    )
    assert len(jobs) == DUE_CLOCKS and set(jobs.values()) == {1}
    assert not Clock.objects.filter(next_check_at__isnull=False).exists()
    assert Clock.objects.filter(breached_at__isnull=True).count() == 0

    # When two real workers run the queued escalations at once
    workers = [
        subprocess.Popen([sys.executable, "-m", "casedesk", "worker", "--batch",
                          "--queue-name", "default", "--no-startup-delay", "--interval", "0",
                          "-v", "0"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]

    # Then every case went up exactly one level
    per_case = Counter(Escalation.objects.values_list("ticket_id", flat=True))
    assert len(per_case) == DUE_CLOCKS and set(per_case.values()) == {1}
    assert set(Ticket.objects.filter(pk__gte=900_000).values_list(
        "escalation_level", flat=True)) == {2}
