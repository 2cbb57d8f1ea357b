"""The real worker (`casedesk worker`) runs the periodic webhook dispatch declared in
casedesk.core.schedule, and the receiver gets the case's event."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.schedule import periodic_tasks, tick
from casedesk.webhooks.models import Delivery
from casedesk.webhooks.tests.conftest import Receiver, subscribe


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sends_a_new_cases_event(
    receiver: Receiver, keep_signal_handlers: None, settings: Any
) -> None:
    admin: User = make_agent(is_staff=True, is_superuser=True)
    subscribe(receiver.url, ["case.created"], admin)
    ticket = make_case(make_contact(make_org())).ticket

    tick(tasks=[p for p in periodic_tasks() if p.name == "webhooks.dispatch"])
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    [request] = receiver.requests
    assert json.loads(request.body)["data"]["case"]["case_id"] == ticket.pk
    assert Delivery.objects.get().status == "delivered"
