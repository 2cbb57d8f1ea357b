"""On PostgreSQL the inbound job prepares the statements it repeats for every message
(casedesk.core.prepared), and only it: the desk's own statements stay planned with their
values, and a pooler that cannot keep prepared statements can turn them off."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from casedesk.mail.inbound_jobs import process_due
from casedesk.mail.models import InboundMessage
from casedesk.mail.tests.test_inbound_queue import QUESTION, stored
from casedesk.tickets.models import Ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own"),
]


def prepared_here() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return int(cursor.fetchone()[0])


def three_first_mails() -> None:
    for n in range(3):
        stored(QUESTION.replace(b"q1@", f"q{n}@".encode())
               .replace(b"noor@", f"noor{n}@".encode()))


def test_the_inbound_job_prepares_what_it_repeats_and_nothing_else() -> None:
    # Given three first mails from three customers, and a desk query run twice
    three_first_mails()
    for _ in range(2):
        list(Ticket.objects.filter(subject__icontains="dns"))
    assert prepared_here() == 0

    # When the job processes them
    assert process_due() == {"processed": 3}

    # Then they are three cases, and the statements run for each were prepared
    assert Ticket.objects.filter(requester__email__startswith="noor").count() == 3
    assert prepared_here() > 0
    # And the connection went back to planning every statement afresh
    assert connection.connection.prepare_threshold is None
    before = prepared_here()
    for _ in range(3):
        list(Ticket.objects.filter(subject__icontains="resolver"))
    assert prepared_here() == before


def test_prepared_statements_can_be_turned_off_for_a_pooler(settings: Any) -> None:
    # Given a pooler in transaction mode, which cannot keep prepared statements
    settings.CASEDESK_DATABASE_PREPARED_STATEMENTS = False
    three_first_mails()

    # When the job processes the mails
    assert process_due() == {"processed": 3}

    # Then they are cases all the same, and nothing was prepared
    assert set(InboundMessage.objects.values_list("result", flat=True)) == {"new_case"}
    assert prepared_here() == 0
