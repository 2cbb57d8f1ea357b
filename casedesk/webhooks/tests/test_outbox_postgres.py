"""PostgreSQL hands out event ids before commit: the fan-out must neither skip an event
whose transaction is still open nor wait for ever on an id a rollback threw away."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.tickets.actions import change_status
from casedesk.webhooks.fanout import GAP_GRACE, fan_out
from casedesk.webhooks.models import Delivery
from casedesk.webhooks.tests.conftest import subscribe

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


class OpenTransaction(threading.Thread):
    """Changes a case's status in a transaction that stays open until told to end."""

    def __init__(self, ticket_id: int, agent: User, *, commit: bool) -> None:
        super().__init__(daemon=True)
        self.ticket_id, self.agent, self.commit = ticket_id, agent, commit
        self.written, self.finish = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                change_status(self.ticket_id, self.agent, "on_hold")
                self.written.set()
                self.finish.wait(30)
                if not self.commit:
                    transaction.set_rollback(True)
        finally:
            connections.close_all()


def setup() -> tuple[Any, Any, User]:
    admin = make_agent(is_staff=True, is_superuser=True)
    subscribe("https://8.8.8.8/hooks", ["case.updated"], admin)
    agent = make_agent()
    first = make_case(make_contact(make_org())).ticket
    second = make_case(make_contact(make_org())).ticket
    fan_out()
    return first, second, agent


def test_an_event_still_in_an_open_transaction_is_waited_for_then_sent_in_order() -> None:
    first, second, agent = setup()
    slow = OpenTransaction(first.pk, agent, commit=True)
    slow.start()
    assert slow.written.wait(10)
    # A later event commits while the first one's transaction is still open
    change_status(second.pk, agent, "pending")

    waiting = fan_out()
    assert waiting.waiting_on_gap and not Delivery.objects.exists()
    # However long it takes: the transaction is still open, its event may still come
    assert fan_out(now=timezone.now() + GAP_GRACE * 100).waiting_on_gap
    assert not Delivery.objects.exists()

    slow.finish.set()
    slow.join(10)
    fan_out()

    assert list(Delivery.objects.order_by("event_id").values_list("ticket_id", flat=True)) == [
        first.pk, second.pk]


def test_an_id_a_rollback_threw_away_holds_the_cursor_only_briefly() -> None:
    first, second, agent = setup()
    doomed = OpenTransaction(first.pk, agent, commit=False)
    doomed.start()
    assert doomed.written.wait(10)
    change_status(second.pk, agent, "pending")
    doomed.finish.set()
    doomed.join(10)

    # Seen for the first time: the hole might still fill; nothing past it goes out
    assert fan_out().waiting_on_gap
    assert not Delivery.objects.exists()
    # Once every transaction open back then has ended, and the grace has passed, it is
    # known to be a hole for good
    fan_out(now=timezone.now() + GAP_GRACE + timedelta(seconds=1))
    assert list(Delivery.objects.values_list("ticket_id", flat=True)) == [second.pk]
