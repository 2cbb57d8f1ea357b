"""The escalation tests' cast: a partner organization with a contact, the four default
levels with teams, agents who work around the clock or never, and clients signed in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.escalation.models import Level, Shift
from casedesk.tickets.models import Ticket


def around_the_clock(agent: User) -> User:
    """Every day, all day (an end at the start runs 24 hours)."""
    for day in range(7):
        Shift.objects.create(agent=agent, weekday=day, start=time(0), end=time(0))
    return agent


def level(number: int) -> Level:
    return Level.objects.get(number=number)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(contact: User) -> Ticket:
    return make_case(contact, subject="Filtering stopped on resolver 2").ticket


@pytest.fixture
def levels(db: Any) -> dict[int, Level]:
    """The four default levels, each with contacts."""
    found = {lvl.number: lvl for lvl in Level.objects.order_by("number")}
    contacts = {
        1: ("Support desk", "support@casedesk.example", "+44 808 175 0480"),
        2: ("Sami Youssef", "seniors@casedesk.example", "+971 4 555 0142"),
        3: ("Hana Idris", "managers@casedesk.example", "+971 4 555 0177"),
        4: ("Adam Clarke", "head@casedesk.example", "+44 20 7946 0321"),
    }
    for number, (name, email, phone) in contacts.items():
        lvl = found[number]
        lvl.contact_name, lvl.email, lvl.phone = name, email, phone
        lvl.save()
    return found


@pytest.fixture
def new_mail(send_mail: Callable[[], list[EmailMessage]]) -> Callable[[], list[EmailMessage]]:
    """Deliver what is queued and return only the messages sent since the last call."""
    # By Message-ID, not by position: the outbox is in file-name order, which follows the
    # clock, and some tests move the clock back.
    seen = {str(m["Message-ID"]) for m in send_mail()}

    def run() -> list[EmailMessage]:
        fresh = [m for m in send_mail() if str(m["Message-ID"]) not in seen]
        seen.update(str(m["Message-ID"]) for m in fresh)
        return fresh

    return run


def text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if str(m["To"]).lower() == address.lower()]
