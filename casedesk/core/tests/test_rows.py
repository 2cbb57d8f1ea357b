"""casedesk.core.rows reads what the ORM reads: every field, converted alike (dates, JSON,
choices), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.core import rows
from casedesk.sla.models import Clock
from casedesk.tickets.models import Event, Ticket

pytestmark = pytest.mark.django_db


def fields(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}  # type: ignore[attr-defined]


def test_a_row_read_by_select_equals_the_orms() -> None:
    # Given a case opened through the real action (dates, clocks, a JSON event)
    ticket = make_case(make_contact(make_org())).ticket

    # When the case, its clocks and its events are read by select
    found = rows.select(Ticket, "id = %s", [ticket.pk])
    clocks = rows.select(Clock, "ticket_id = %s", [ticket.pk], tail=" ORDER BY id")
    events = rows.select(Event, "ticket_id = %s", [ticket.pk], tail=" ORDER BY id")

    # Then each is the instance the ORM reads, field by field, saved and not adding
    assert [fields(t) for t in found] == [fields(Ticket.objects.get(pk=ticket.pk))]
    assert [fields(c) for c in clocks] == [fields(c) for c in Clock.objects.filter(
        ticket=ticket).order_by("id")] != []
    assert [model_to_dict(e) for e in events] == [model_to_dict(e) for e in Event.objects.filter(
        ticket=ticket).order_by("id")] != []
    assert found[0]._state.adding is False and found[0].created_at.tzinfo is not None


def test_no_row_is_an_empty_list() -> None:
    assert rows.select(Ticket, "id = %s", [10**9]) == []


def test_insert_and_update_store_what_the_orm_would() -> None:
    # Given a case
    ticket = make_case(make_contact(make_org())).ticket

    # When an event (JSON data, an auto primary key) is inserted and the case updated
    event = rows.insert(Event(ticket=ticket, kind=Event.Kind.NOTE, data={"a": [1, "ü"]}))
    ticket.subject, ticket.cc_emails = "Changed", "x@example.com"
    rows.update(ticket, ["subject", "cc_emails"])

    # Then the ORM reads them back as written, and the event knows its primary key
    assert event.pk is not None and event._state.adding is False
    assert Event.objects.get(pk=event.pk).data == {"a": [1, "ü"]}
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.cc_emails) == ("Changed", "x@example.com")
