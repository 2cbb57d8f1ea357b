"""A small desk history with known numbers, built through the real actions at fixed times.

Two partners: Gulf Net (Premium) and Atlas (Standard); two agents, Sam and Lee; nine cases,
eight of them opened in March 2026 and one in February. The report is read on
31 March 2026 at 12:00 UTC. Each test module asserts the numbers this history must give;
the comments below say where each comes from.

case  org, plan          priority  opened (UTC)  channel, category  then
c1    Gulf Net, Premium  High      03-02 09:00   portal, outage     Sam replies 09:30 (met)
c2    Gulf Net, Premium  High      03-03 09:00   email, outage      Sam replies 10:30 (late)
c3    Gulf Net, Premium  High      03-04 09:00   phone, filtering   Lee replies 09:10 (met)
c4    Gulf Net, Premium  Medium    03-05 09:00   portal, filtering  never answered (breach)
c5    Atlas, Standard    High      03-06 09:00   portal, none       Lee notes, replies 10:00
c6    Atlas, Standard    Low       03-31 10:00   email, outage      waiting (due 04-03)
c7    Gulf Net, Premium  High      02-20 10:00   portal, outage     before the period
c8    Atlas, Standard    Question  03-10 09:00   portal, general    Sam replies, resolves
c9    Atlas, Standard    Medium    03-29 12:00   api, outage        never answered (breach)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from casedesk.accounts.models import Organization, User
from casedesk.conftest import make_agent, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.escalation.actions import escalate
from casedesk.tickets.actions import add_message, assign, change_status, submit_case
from casedesk.tickets.models import Category, Ticket

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class History:
    gulf: Organization
    atlas: Organization
    noor: User
    lina: User
    sam: User
    lee: User
    cases: dict[str, Ticket]


def open_case(requester: User, when: datetime, priority: int, channel: str,
              category: str | None) -> Ticket:
    with time_machine.travel(when, tick=False):
        return submit_case(
            email=requester.email, full_name=requester.full_name, subject="Resolver down",
            description="Nothing resolves since this morning.", priority=priority,
            category=Category.objects.get(name=category) if category else None, files=[],
            channel=channel, submitted_by=requester,
        ).ticket


def reply(case: Ticket, agent: User, when: datetime, *, internal: bool = False) -> None:
    with time_machine.travel(when, tick=False):
        add_message(case.pk, agent, "We are on it.", [], internal=internal)


@pytest.fixture
def history(db: Any) -> History:
    gulf = make_org("Gulf Net", plan="Premium", domains="gulfnet.example")
    atlas = make_org("Atlas", plan="Standard", domains="atlas.example")
    noor = make_contact(gulf, email="noor@gulfnet.example", full_name="Noor Haddad")
    lina = make_contact(atlas, email="lina@atlas.example", full_name="Lina Aziz")
    sam = make_agent(email="sam@casedesk.example", full_name="Sam Agent")
    lee = make_agent(email="lee@casedesk.example", full_name="Lee Other")
    outage, filtering, general = "Service outage", "Filtering and blocking", "General question"

    c7 = open_case(noor, at(2, 20, 10), Priority.HIGH, "portal", outage)
    with time_machine.travel(at(2, 21, 9), tick=False):
        escalate(c7.pk, source="portal", reason="No answer yet", actor=noor)

    c1 = open_case(noor, at(3, 2, 9), Priority.HIGH, "portal", outage)
    reply(c1, sam, at(3, 2, 9, 30))
    with time_machine.travel(at(3, 2, 12), tick=False):
        escalate(c1.pk, source="portal", reason="Still down", actor=noor)

    c2 = open_case(noor, at(3, 3, 9), Priority.HIGH, "email", outage)
    reply(c2, sam, at(3, 3, 10, 30))
    with time_machine.travel(at(3, 3, 11), tick=False):
        escalate(c2.pk, source="agent", reason="Needs the manager", actor=sam, to_level=3)
    reply(c2, sam, at(3, 3, 11, 5), internal=True)

    c3 = open_case(noor, at(3, 4, 9), Priority.HIGH, "phone", filtering)
    reply(c3, lee, at(3, 4, 9, 10))
    with time_machine.travel(at(3, 4, 12), tick=False):
        escalate(c3.pk, source="phone", reason="Customer called", actor=lee,
                 caller_name="Noor Haddad", caller_phone="+971 4 000 0000")
    with time_machine.travel(at(3, 29, 8), tick=False):
        change_status(c3.pk, lee, Ticket.Status.PENDING)

    c4 = open_case(noor, at(3, 5, 9), Priority.MEDIUM, "portal", filtering)
    with time_machine.travel(at(3, 5, 14), tick=False):
        escalate(c4.pk, source="sla", reason="First response target missed")

    c5 = open_case(lina, at(3, 6, 9), Priority.HIGH, "portal", None)
    reply(c5, lee, at(3, 6, 9, 30), internal=True)
    reply(c5, lee, at(3, 6, 10))

    c8 = open_case(lina, at(3, 10, 9), Priority.QUESTION, "portal", general)
    reply(c8, sam, at(3, 10, 10))
    with time_machine.travel(at(3, 10, 10, 5), tick=False):
        assign(c8.pk, sam, sam)
    with time_machine.travel(at(3, 12, 9), tick=False):
        change_status(c8.pk, sam, Ticket.Status.RESOLVED)

    c9 = open_case(lina, at(3, 29, 12), Priority.MEDIUM, "api", outage)
    c6 = open_case(lina, at(3, 31, 10), Priority.LOW, "email", outage)

    cases = {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6, "c7": c7, "c8": c8,
             "c9": c9}
    return History(gulf, atlas, noor, lina, sam, lee, cases)
