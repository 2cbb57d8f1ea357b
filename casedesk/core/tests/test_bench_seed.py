"""`casedesk bench-seed`: a small desk, checked for what the benchmark relies on."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from casedesk.accounts.models import Organization, User
from casedesk.escalation.models import Escalation
from casedesk.sla.models import Clock
from casedesk.tickets.actions import allocate_case_id
from casedesk.tickets.models import CaseCounter, Event, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ARABIC = re.compile("[\u0600-\u06ff]")
BULK_TABLES = ("tickets_ticket", "tickets_message", "tickets_event", "sla_clock",
               "escalation_escalation")


def seed(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("bench-seed", *args, "--json", stdout=out, stderr=io.StringIO())
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name for table in BULK_TABLES
            for name, info in connection.introspection.get_constraints(cursor, table).items()
            if info["index"]
        }


def test_a_small_desk_is_realistic_and_consistent() -> None:
    indexes = index_names()
    summary = seed("--cases", "400", "--organizations", "20", "--agents", "12")

    assert summary["cases"] == Ticket.objects.count() == 400
    assert Organization.objects.count() == 20
    assert User.objects.filter(role="agent").count() == 12
    assert User.objects.filter(role="contact").count() == 100
    # About five messages a case, public replies and internal notes.
    messages = Message.objects.count()
    assert summary["messages"] == messages
    assert 4.5 <= messages / 400 <= 5.5
    assert Message.objects.filter(kind="internal").exists()
    # The status mix of a working desk: most cases done, every open status present.
    done = Ticket.objects.filter(status__in=Ticket.DONE_STATUSES).count()
    assert 0.8 <= done / 400 <= 0.97
    assert set(Ticket.objects.values_list("status", flat=True)) >= {"open", "closed"}
    # A fifth of the cases in Arabic, typed in more than one spelling.
    arabic = sum(1 for s in Ticket.objects.values_list("subject", flat=True) if ARABIC.search(s))
    assert 0.12 <= arabic / 400 <= 0.28
    bodies = "\n".join(Message.objects.values_list("body", flat=True))
    assert "اعادة" in bodies and "إعادة" in bodies  # bare alef and hamza under it
    assert re.search("[\u064b-\u0652\u0640]", bodies)  # diacritics or tatweel
    assert summary["rare_messages"] >= 1
    assert Message.objects.filter(body__contains=summary["rare_word"]).count() == (
        summary["rare_messages"])
    # Ages over three years, Case IDs rising with time.
    oldest, newest = (Ticket.objects.order_by(f).values_list("created_at", flat=True)[0]
                      for f in ("created_at", "-created_at"))
    assert (newest - oldest).days > 2 * 365
    assert list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[:5]) == list(
        Ticket.objects.order_by("created_at").values_list("pk", flat=True)[:5])
    # The case the benchmark opens.
    assert Message.objects.filter(ticket_id=summary["detail_case"]).count() == 50
    # Every case has an event per agent message, and its first-response clock agrees with it.
    assert Event.objects.filter(kind="created").count() == 400
    assert Clock.objects.count() == summary["clocks"] == 400
    assert not Clock.objects.filter(
        ticket__status__in=Ticket.DONE_STATUSES, met_at__isnull=True, cancelled_at__isnull=True
    ).exists()
    assert not Clock.objects.filter(
        ticket__status="pending", met_at__isnull=True, paused_at__isnull=True).exists()
    assert not Clock.objects.filter(ticket__status="new", met_at__isnull=False).exists()
    escalated = Ticket.objects.filter(escalation_level__gt=1)
    assert Escalation.objects.count() == sum(t.escalation_level - 1 for t in escalated)
    # New cases continue after the seeded ones.
    assert CaseCounter.objects.get().last_value == Ticket.objects.order_by("-pk")[0].pk
    with transaction.atomic():
        assert allocate_case_id() == Ticket.objects.order_by("-pk")[0].pk + 1
    # The load's shortcuts are undone: every index is back, and on SQLite the settings too.
    assert index_names() == indexes
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert cursor.execute("PRAGMA foreign_key_check").fetchall() == []

    # The desk shows the seeded desk.
    client = Client()
    client.force_login(User.objects.get(email=summary["agent_email"]))
    for url in ("/desk/?view=open", "/desk/?view=breaching",
                f"/desk/?view=open&organization={summary['organization_ids'][0]}"):
        assert client.get(url).status_code == 200
    page = client.get(f"/desk/cases/{summary['detail_case']}/")
    assert page.status_code == 200
    assert Ticket.objects.get(pk=summary["detail_case"]).subject in page.content.decode()


def test_bad_input_is_refused_and_changes_nothing() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench-seed", "--cases", "0", stdout=io.StringIO())
    with pytest.raises(CommandError, match="between 1 and 100"):
        call_command("bench-seed", "--cases", "5", "--messages-per-case", "0",
                     stdout=io.StringIO())
    assert not Ticket.objects.exists() and not Organization.objects.exists()
    seed("--cases", "20", "--organizations", "3", "--agents", "2")
    with pytest.raises(CommandError, match="already has 20 cases"):
        call_command("bench-seed", "--cases", "20", stdout=io.StringIO())
    assert Ticket.objects.count() == 20 and Organization.objects.count() == 3
