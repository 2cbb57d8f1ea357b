"""casedesk.core.rows reads what the ORM reads: every field, converted alike (dates, JSON,
choices), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.core import rows
from casedesk.core.choices import Priority
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


def test_attach_loads_foreign_keys_as_select_related_does(
    django_assert_num_queries: Any,
) -> None:
    # Given two cases, one without an organization, and the events of one
    first = make_case(make_contact(make_org())).ticket
    second = make_case(make_contact()).ticket
    cases = rows.select(Ticket, "id IN (%s, %s)", [first.pk, second.pk], tail=" ORDER BY id")
    events = rows.select(Event, "ticket_id = %s", [first.pk], tail=" ORDER BY created_at, id")

    # When their requesters, organizations and the events' actors are attached: one read
    # per related model, the users of both lists together
    with django_assert_num_queries(2):
        rows.attach([(cases, "requester"), (cases, "organization"), (events, "actor")])

    # Then each relation is the ORM's, read without another query
    requesters = [fields(first.requester), fields(second.requester)]
    organization = first.organization
    actors = [fields(e.actor) if e.actor else None
              for e in Event.objects.filter(ticket=first).select_related("actor")]
    with django_assert_num_queries(0):
        assert [fields(c.requester) for c in cases] == requesters
        assert fields(cases[0].organization) == fields(organization)
        assert cases[1].organization is None
        assert [fields(e.actor) if e.actor else None for e in events] == actors
    assert any(actors)


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


def test_insert_prepares_each_kind_of_value_as_the_orm_does() -> None:
    # Given two cases alike but for their Case ID: choices members for the priority and
    # the status, an int, aware and empty dates, a related instance and an empty relation
    contact = make_contact(make_org())
    now = timezone.now()

    def case(pk: int) -> Ticket:
        return Ticket(id=pk, subject="Same", requester=contact, priority=Priority.HIGH,
                      status=Ticket.Status.OPEN, channel=Ticket.Channel.EMAIL,
                      escalation_level=2, created_at=now, updated_at=now,
                      last_message_at=now, resolved_at=None, category=None,
                      cc_emails="a@example.com")

    # When one is stored by insert and the other by the ORM
    rows.insert(case(9_000_001))
    case(9_000_002).save(force_insert=True)

    # Then the database holds the same values for both, as the ORM reads them and as stored
    a, b = (Ticket.objects.filter(pk=pk).values().get() for pk in (9_000_001, 9_000_002))
    assert {**a, "id": 0} == {**b, "id": 0}
    columns = ", ".join(str(f.column) for f in Ticket._meta.concrete_fields if f.column != "id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM tickets_ticket WHERE id IN (%s, %s) "  # noqa: S608
                       "ORDER BY id", [9_000_001, 9_000_002])
        first, second = cursor.fetchall()
    assert first == second
    assert a["priority"] == Priority.HIGH and a["resolved_at"] is None


def test_insert_new_writes_a_new_row_and_leaves_an_existing_one() -> None:
    from django.db import transaction

    from casedesk.accounts.actions import get_or_create_contact
    from casedesk.accounts.models import User

    # Given a contact at one address, made in another transaction
    org = make_org()
    existing = make_contact(org)

    with transaction.atomic():
        # When a new address and the existing one are inserted as new rows
        new = User(email="new.person@example.com", full_name="New", role=User.Role.CONTACT)
        clash = User(email=existing.email, full_name="Someone else", role=User.Role.CONTACT)
        inserted = rows.insert_new(new, "email")
        refused = rows.insert_new(clash, "email")

        # Then the first is stored with its database id, the second changes nothing, and
        # the transaction goes on (no error to roll back to a savepoint)
        assert inserted and not refused and clash.pk is None
        assert fields(User.objects.get(pk=new.pk)) == fields(new)
        assert User.objects.get(email=existing.email).full_name == existing.full_name

        # And a contact the caller believed new (known_new) is the one found
        found, created = get_or_create_contact(email=existing.email.upper(), full_name="X",
                                               known_new=True)
        assert (found.pk, created) == (existing.pk, False)
    assert User.objects.filter(email__in=[new.email, existing.email]).count() == 2
