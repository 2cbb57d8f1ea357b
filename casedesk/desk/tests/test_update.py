"""Status, priority and assignee: each change writes one event; bad values change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casedesk.conftest import make_agent, make_case
from casedesk.core.choices import Priority
from casedesk.tickets.actions import change_priority
from casedesk.tickets.models import Event, Ticket


def seen(ticket: Ticket) -> dict[str, object]:
    """The form as the agent's browser sends it: new values and the ones the page showed."""
    return {
        "status": ticket.status, "initial-status": ticket.status,
        "priority": ticket.priority, "initial-priority": ticket.priority,
        "assignee": ticket.assignee_id or "", "initial-assignee": ticket.assignee_id or "",
    }


def post_update(client, ticket: Ticket, **changes):
    return client.post(reverse("desk:update", args=[ticket.pk]), {**seen(ticket), **changes})


def events(ticket: Ticket, kind: str) -> list[tuple[object, object]]:
    return [
        (e.data["old"], e.data["new"]) for e in Event.objects.filter(ticket=ticket, kind=kind)
    ]


def test_the_case_page_form_carries_what_the_agent_saw(agent_client, contact):
    ticket = make_case(contact).ticket

    html = agent_client.get(reverse("desk:case", args=[ticket.pk])).content.decode()

    assert 'name="initial-status" value="new"' in html
    assert 'name="initial-priority" value="1"' in html
    assert '<option value="" selected>Unassigned</option>' in html


def test_changing_the_status_writes_one_event(agent, agent_client, contact):
    ticket = make_case(contact).ticket

    response = post_update(agent_client, ticket, status="pending")

    assert response.status_code == 303
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert events(ticket, "status") == [("new", "pending")]
    assert Event.objects.get(ticket=ticket, kind="status").actor == agent
    # Besides the status event, waiting on the customer pauses the SLA clocks.
    assert list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "created", "status", "sla_paused"
    ]
    page = agent_client.get(response["Location"]).content.decode()
    assert "Saved: status Waiting on customer." in page


def test_changing_the_priority_writes_one_event(agent_client, contact):
    ticket = make_case(contact, priority=Priority.LOW).ticket

    post_update(agent_client, ticket, priority=Priority.HIGH)

    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert events(ticket, "priority") == [(Priority.LOW, Priority.HIGH)]
    # Besides the priority event, the SLA due times are recomputed for the new priority.
    assert list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "created", "priority", "sla_recomputed"
    ]


def test_assigning_and_unassigning_write_one_event_each(
    agent_client, contact, other_agent
):
    ticket = make_case(contact).ticket

    post_update(agent_client, ticket, assignee=other_agent.pk)
    ticket.refresh_from_db()
    assigned_to = ticket.assignee
    post_update(agent_client, ticket, assignee="")

    ticket.refresh_from_db()
    assert assigned_to == other_agent
    assert ticket.assignee is None
    assert events(ticket, "assignee") == [
        (None, "lee@casedesk.example"), ("lee@casedesk.example", None)
    ]


def test_three_changes_at_once_write_three_events(agent, agent_client, contact):
    ticket = make_case(contact, priority=Priority.QUESTION).ticket

    post_update(agent_client, ticket, status="on_hold", priority=Priority.MEDIUM,
                assignee=agent.pk)

    kinds = list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["created", "status", "priority", "sla_recomputed", "assignee"]


def test_saving_without_a_change_writes_nothing(agent_client, contact):
    ticket = make_case(contact).ticket

    response = post_update(agent_client, ticket)

    assert Event.objects.filter(ticket=ticket).count() == 1
    page = agent_client.get(response["Location"]).content.decode()
    assert "Nothing to save" in page


def test_a_change_another_agent_made_meanwhile_is_not_overwritten(
    agent_client, contact, other_agent
):
    ticket = make_case(contact, priority=Priority.LOW).ticket
    form_as_shown = seen(ticket)
    change_priority(ticket.pk, other_agent, Priority.HIGH)  # while our page was open

    agent_client.post(
        reverse("desk:update", args=[ticket.pk]), {**form_as_shown, "status": "open"}
    )

    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.priority == Priority.HIGH
    assert events(ticket, "priority") == [(Priority.LOW, Priority.HIGH)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "archived"), ("status", ""), ("priority", "9"), ("priority", "urgent"),
     ("assignee", "999999"), ("assignee", "abc")],
)
def test_a_value_that_is_not_a_choice_is_an_error_and_nothing_changes(
    agent_client, contact, field, value
):
    ticket = make_case(contact).ticket
    before = Ticket.objects.values("status", "priority", "assignee").get(pk=ticket.pk)

    # A valid change sent along with the bad value is not applied either.
    response = post_update(agent_client, ticket, **{"status": "open", field: value})

    html = response.content.decode()
    assert response.status_code == 200
    error_at = html.index(f'id="field-{field}"')
    assert 'class="error"' in html[error_at: html.index("</div>", error_at)]
    assert Ticket.objects.values("status", "priority", "assignee").get(pk=ticket.pk) == before
    assert Event.objects.filter(ticket=ticket).count() == 1


@pytest.mark.parametrize("who", ["contact", "inactive agent"])
def test_only_active_agents_can_be_assigned(agent_client, contact, who):
    ticket = make_case(contact).ticket
    person = contact if who == "contact" else make_agent(is_active=False)

    response = post_update(agent_client, ticket, assignee=person.pk)

    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert not Event.objects.filter(ticket=ticket, kind="assignee").exists()


def test_a_case_of_a_deactivated_agent_keeps_them_until_someone_reassigns_it(
    agent, agent_client, contact
):
    leaver = make_agent(full_name="Rana Left")
    ticket = make_case(contact).ticket
    post_update(agent_client, ticket, assignee=leaver.pk)
    leaver.is_active = False
    leaver.save()
    ticket.refresh_from_db()
    html = agent_client.get(reverse("desk:case", args=[ticket.pk])).content.decode()
    assert "Rana Left (no longer an agent)</option>" in html

    post_update(agent_client, ticket, status="open")
    ticket.refresh_from_db()
    kept = ticket.assignee
    post_update(agent_client, ticket, assignee=agent.pk)

    ticket.refresh_from_db()
    assert kept == leaver
    assert ticket.assignee == agent
    assert events(ticket, "assignee") == [
        (None, leaver.email), (leaver.email, "sam@casedesk.example")
    ]


def test_the_assignee_select_marks_the_assignee_and_escapes_names(agent_client, contact):
    odd = make_agent(full_name="Noor <b>&</b> Co")
    ticket = make_case(contact).ticket
    post_update(agent_client, ticket, assignee=odd.pk)

    html = agent_client.get(reverse("desk:case", args=[ticket.pk])).content.decode()

    select = html.split('name="assignee">')[1].split("</select>")[0]
    assert f'<option value="{odd.pk}" selected>Noor &lt;b&gt;&amp;&lt;/b&gt; Co</option>' in select
    assert '<option value="">Unassigned</option>' in select
