"""The SLA clock tests' cast: a Standard and a Premium partner with a contact each, an
agent, the escalation levels with contacts, and the clock frozen on a known Monday."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.db import connection
from django_tasks_db.models import DBTaskResult

from casedesk.accounts.models import Organization, User
from casedesk.conftest import make_agent, make_contact, make_org
from casedesk.escalation.models import Level
from casedesk.sla.models import Clock
from casedesk.tickets.models import Event, Ticket

# Monday 2 March 2026, 09:00 UTC: no daylight-saving change nearby in the zones used.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3600


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def clock_of(ticket: Ticket, kind: str = "first_response", *, live: bool = True) -> Clock:
    clocks = Clock.objects.filter(ticket=ticket, kind=kind).order_by("-started_at", "-pk")
    if live:
        clocks = clocks.filter(met_at__isnull=True, cancelled_at__isnull=True)
    return clocks.first()  # type: ignore[return-value]


def sla_events(ticket: Ticket, *kinds: str) -> list[Event]:
    found = Event.objects.filter(ticket=ticket, kind__startswith="sla_")
    if kinds:
        found = found.filter(kind__in=kinds)
    return list(found.order_by("created_at", "pk"))


def run_queued_jobs(name: str) -> list[Any]:
    """Run the jobs queued under `name` (a task's function name) as the worker would."""
    results = []
    for job in DBTaskResult.objects.ready().filter(task_path__endswith=name).order_by("pk"):
        task_result = job.task_result
        results.append(job.task.call(*task_result.args, **task_result.kwargs))
        job.delete()
    return results


@pytest.fixture
def frozen() -> Iterator[Callable[[datetime], None]]:
    """The clock stopped at T0; call the fixture's value to move it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield lambda when: traveller.move_to(when)


@pytest.fixture
def standard_org(db: Any) -> Organization:
    return make_org("Desert Net", plan="Standard", domains="desertnet.example")


@pytest.fixture
def premium_org(db: Any) -> Organization:
    return make_org("Gulf Net", plan="Premium", domains="gulfnet.example")


@pytest.fixture
def contact(premium_org: Organization) -> User:
    return make_contact(premium_org, email="noor@gulfnet.example", full_name="Noor Haddad")


@pytest.fixture
def agent(db: Any) -> User:
    return make_agent(email="sam@casedesk.example", full_name="Sam Agent")


@pytest.fixture
def levels(db: Any) -> dict[int, Level]:
    found = {lvl.number: lvl for lvl in Level.objects.order_by("number")}
    for number, lvl in found.items():
        lvl.email = f"level{number}@casedesk.example"
        lvl.save()
    return found


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def outbox_to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if str(m["To"]).lower() == address.lower()]


def later(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)
