"""Bulk actions on the ticked cases of the queue: all of them change, or none does."""

from __future__ import annotations

import pytest

from casedesk.core.choices import Priority
from casedesk.desk import bulk as bulk_module
from casedesk.desk.tests.test_queue import open_case
from casedesk.escalation.models import Escalation
from casedesk.tickets.models import Event, Ticket

URL = "/desk/bulk/"
BACK = "/desk/?view=open&sort=priority"


@pytest.fixture
def three(contact, agent):
    return [
        open_case(contact, "DNS 1 down", priority=Priority.HIGH),
        open_case(contact, "DNS 2 down", priority=Priority.MEDIUM, status="open"),
        open_case(contact, "DNS 3 down", priority=Priority.LOW, status="pending", actor=agent),
    ]


def post(client, cases, action, **fields):
    data = {"case": [str(t.pk if hasattr(t, "pk") else t) for t in cases], "action": action,
            "next": BACK, **fields}
    return client.post(URL, data)


def messages_of(client) -> str:
    return client.get(BACK).content.decode()


def snapshot(cases) -> list[tuple]:
    return list(
        Ticket.objects.filter(pk__in=[t.pk for t in cases]).order_by("pk")
        .values_list("status", "priority", "assignee_id", "escalation_level", "updated_at")
    )


def test_the_queue_offers_a_checkbox_per_row_and_the_actions(agent_client, three):
    html = agent_client.get("/desk/").content.decode()

    for ticket in three:
        assert f'<input type="checkbox" name="case" value="{ticket.pk}"' in html
    assert 'action="/desk/bulk/"' in html
    assert 'name="action" value="assign"' in html and 'name="action" value="escalate"' in html
    assert "Select all on this page" in html
    # merge_cases is not on this branch: no merge button that could only fail.
    assert ('value="merge"' in html) == bulk_module.merge_available()
    selected = agent_client.get("/desk/", {"select": "page", "sort": "priority"}).content.decode()
    assert selected.count('name="case" value=') == selected.count(" checked>") == 3
    # After the action the page comes back with the boxes empty.
    assert '<input type="hidden" name="next" value="/desk/?sort=priority">' in selected


def test_assign_all_to_another_agent_each_case_gets_its_event(
    agent_client, agent, other_agent, three
):
    response = post(agent_client, three, "assign", assignee=str(other_agent.pk))

    assert response.status_code == 303 and response["Location"] == BACK
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in three])} == \
        {other_agent.pk}
    events = Event.objects.filter(ticket__in=three, kind=Event.Kind.ASSIGNEE, actor=agent)
    assert sorted(e.ticket_id for e in events) == [t.pk for t in three]
    assert "Assigned 3 cases to Lee Other." in messages_of(agent_client)


def test_assign_to_me_and_to_nobody(agent_client, agent, three):
    post(agent_client, three, "assign", assignee="me")
    mine = set(Ticket.objects.filter(pk__in=[t.pk for t in three])
               .values_list("assignee_id", flat=True))
    post(agent_client, three[:2], "assign", assignee="none")

    assert mine == {agent.pk}
    assert [t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in three])
            .order_by("pk")] == [None, None, agent.pk]
    assert "Unassigned 2 cases." in messages_of(agent_client)


def test_status_and_priority_change_every_case(agent_client, three):
    post(agent_client, three, "status", status="on_hold")
    post(agent_client, three, "priority", priority=str(Priority.QUESTION))

    rows = snapshot(three)
    assert {r[0] for r in rows} == {"on_hold"}
    assert {r[1] for r in rows} == {Priority.QUESTION}
    html = messages_of(agent_client)
    assert "Set 3 cases to On hold." in html
    assert "Set 3 cases to priority Question (Request)." in html


def test_escalate_all_with_a_reason(agent_client, three):
    response = post(agent_client, three, "escalate", reason="Outage across the region")

    assert response.status_code == 303
    assert list(Escalation.objects.filter(ticket__in=three).order_by("ticket_id")
                .values_list("ticket_id", "to_level", "reason")) == [
        (t.pk, 2, "Outage across the region") for t in three
    ]
    html = messages_of(agent_client)
    assert "Escalated 3 cases to the next level." in html
    assert "wait unassigned" in html  # nobody of level 2 is on shift


def test_one_refused_case_changes_none(agent_client, contact, three):
    closed = open_case(contact, "Closed already", status="closed")
    before = snapshot([*three, closed])
    events = Event.objects.count()

    response = post(agent_client, [*three, closed], "escalate", reason="Everything is down")

    assert response.status_code == 303
    assert snapshot([*three, closed]) == before
    assert Event.objects.count() == events
    assert not Escalation.objects.exists()
    html = messages_of(agent_client)
    assert f"Case {closed.pk}: Case {closed.pk} is closed; reopen it or open a new case." in html
    assert "Nothing was changed, on any of the 4 cases." in html


def test_a_case_that_does_not_exist_changes_nothing(agent_client, three):
    before = snapshot(three)

    response = post(agent_client, [*three, 99999999], "status", status="resolved")

    assert response.status_code == 303
    assert snapshot(three) == before
    assert "There is no case 99999999. Nothing was changed." in messages_of(agent_client)


@pytest.mark.parametrize(
    ("cases", "fields", "message"),
    [
        ([], {"action": "status", "status": "open"}, "Tick at least one case first."),
        (["12x"], {"action": "status", "status": "open"}, "“12x” is not a Case ID."),
        (None, {"action": "status", "status": "lost"}, "Select a valid choice."),
        (None, {"action": "assign"}, "Choose who gets the cases."),
        (None, {"action": "assign", "assignee": "424242"}, "Select a valid choice."),
        (None, {"action": "escalate", "reason": ""}, "Say why the cases need escalating."),
        (None, {"action": "escalate", "reason": "x", "to_level": "9"}, "Select a valid choice."),
        (None, {"action": "explode"}, "Select a valid choice."),
    ],
)
def test_bad_bulk_input_is_explained_and_changes_nothing(
    agent_client, three, cases, fields, message
):
    before = snapshot(three)
    chosen = [str(t.pk) for t in three] if cases is None else cases

    response = agent_client.post(URL, {"case": chosen, "next": BACK, **fields})

    assert response.status_code == 303
    assert snapshot(three) == before
    html = messages_of(agent_client)
    assert "Nothing was changed:" in html and message in html


def test_a_contact_cannot_post_bulk(contact_client, three):
    before = snapshot(three)

    response = post(contact_client, three, "status", status="closed")

    assert response.status_code == 404
    assert snapshot(three) == before


def test_merge_is_refused_cleanly_without_merge_cases(agent_client, three):
    before = snapshot(three)

    post(agent_client, three[1:], "merge", merge_into=str(three[0].pk))

    assert snapshot(three) == before
    if not bulk_module.merge_available():
        assert "Merging cases is not available. Nothing was changed." in \
            messages_of(agent_client)


def test_a_redirect_elsewhere_is_not_followed(agent_client, three):
    response = agent_client.post(URL, {"case": [str(three[0].pk)], "action": "status",
                                       "status": "open", "next": "https://evil.example/"})

    assert response["Location"] == "/desk/"
