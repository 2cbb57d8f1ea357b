"""The desk's escalation: the panel on the case page (manual and phone escalations), the
escalation history on both case pages, and the Escalated view."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation
from casedesk.escalation.tests.conftest import around_the_clock, level, signed_in
from casedesk.portal.tests.helpers import field_html, html
from casedesk.tickets.actions import change_status
from casedesk.tickets.models import Event, Ticket

pytestmark = pytest.mark.django_db


def desk(case: Ticket, action: str = "") -> str:
    if action == "phone":
        return reverse("desk:phone_escalation", args=[case.pk])
    if action:
        return reverse(f"desk:{action}", args=[case.pk])
    return reverse("desk:case", args=[case.pk])


def state() -> tuple[int, int, int | None]:
    return (Escalation.objects.count(), Event.objects.count(),
            Ticket.objects.order_by("pk").values_list("escalation_level", flat=True).first())


def test_the_case_page_shows_the_level_and_the_escalate_panel(agent, case, levels):
    page = html(signed_in(agent).get(desk(case)))

    assert '<dd class="level-now">1 · Support Engineer</dd>' in page
    assert 'id="escalate"' in page and 'id="phone-escalation"' in page
    assert '<option value="next" selected>Next level: 2 (Senior Support Engineer)</option>' in page
    assert '<option value="4">Level 4: Head of Support</option>' in page
    assert "Level 1: Support Engineer" not in page  # not the level it is at


def test_an_agent_escalates_to_the_next_level(agent, case, levels):
    senior = around_the_clock(make_agent(full_name="Sami Senior"))
    level(2).team.add(senior)

    response = signed_in(agent).post(desk(case, "escalate"), {
        "escalate-to_level": "next", "escalate-reason": "Needs DNS expertise",
    })

    assert response.status_code == 303
    assert response["Location"] == desk(case) + "#escalate"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Escalated to level 2 (Senior Support Engineer); assigned to Sami Senior."
    ]
    escalation = Escalation.objects.get()
    assert (escalation.source, escalation.actor, escalation.to_level) == ("agent", agent, 2)
    assert Ticket.objects.get(pk=case.pk).assignee == senior


def test_an_agent_chooses_a_level_and_nobody_there_is_on_shift(agent, case, levels):
    response = signed_in(agent).post(desk(case, "escalate"), {
        "escalate-to_level": "4", "escalate-reason": "Outage for every partner",
    }, follow=True)

    assert Ticket.objects.get(pk=case.pk).escalation_level == 4
    page = html(response)
    assert "Escalated to level 4 (Head of Support); NOBODY ON SHIFT" in page
    assert '<dd class="level-now">4 · Head of Support</dd>' in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"escalate-to_level": "next", "escalate-reason": " "}, "reason",
         "Say why the case needs escalating."),
        ({"escalate-to_level": "9", "escalate-reason": "Outage"}, "to_level",
         "Select a valid choice"),
        ({"escalate-to_level": "1", "escalate-reason": "Outage"}, "to_level",
         "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_changes_nothing(
    agent, case, levels, data, field, message
):
    before = state()

    response = signed_in(agent).post(desk(case, "escalate"), data)

    assert response.status_code == 200
    assert message in field_html(response, field)
    assert state() == before


def test_a_refusal_is_shown_above_the_form_with_the_reason_kept(agent, case, levels):
    change_status(case.pk, agent, "closed")
    before = state()

    response = signed_in(agent).post(desk(case, "escalate"), {
        "escalate-to_level": "next", "escalate-reason": "Customer insists",
    })

    page = html(response)
    assert response.status_code == 200
    assert f"Case {case.pk} is closed; reopen it or open a new case." in page
    assert "Customer insists</textarea>" in page
    assert state() == before


def test_an_agent_logs_a_phone_escalation(agent, case, levels):
    response = signed_in(agent).post(desk(case, "phone"), {
        "phone-caller_name": "Omar Khalil", "phone-caller_phone": "+971 50 555 0199",
        "phone-to_level": "next", "phone-reason": "All 14 schools see the block page",
    }, follow=True)

    escalation = Escalation.objects.get()
    assert (escalation.source, escalation.actor) == ("phone", agent)
    assert (escalation.caller_name, escalation.caller_phone) == ("Omar Khalil",
                                                                  "+971 50 555 0199")
    assert escalation.reason == "All 14 schools see the block page"
    # And the desk's history shows who called, from where, and who logged it
    page = html(response)
    history = page.split('id="escalations"')[1]
    assert "1 → 2 (Senior Support Engineer)" in history
    assert "Phone call" in history
    assert "Caller: Omar Khalil, " in history and "+971 50 555 0199" in history
    assert "logged by Sam Agent" in history
    assert "Why: All 14 schools see the block page" in history
    assert "NOBODY ON SHIFT" in history
    assert "Escalated to level 2 by Sam Agent after a phone call (nobody on shift)" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone-caller_name": ""}, "caller_name", "Who called? Enter their name."),
        ({"phone-caller_phone": ""}, "caller_phone", "Enter the number they called from."),
        ({"phone-caller_phone": "call me back"}, "caller_phone", "Enter a phone number"),
        ({"phone-caller_phone": "+1 23"}, "caller_phone", "Enter a phone number"),
        ({"phone-reason": ""}, "reason", "Say why the case needs escalating."),
    ],
)
def test_a_phone_escalation_with_bad_input_changes_nothing(
    agent, case, levels, changes, field, message
):
    data = {
        "phone-caller_name": "Omar Khalil", "phone-caller_phone": "+971 50 555 0199",
        "phone-to_level": "next", "phone-reason": "Schools blocked", **changes,
    }
    before = state()

    response = signed_in(agent).post(desk(case, "phone"), data)

    assert response.status_code == 200
    assert message in html(response).split('id="phone-escalation"')[1].split(
        f'id="field-{field}"')[1].split('id="field-')[0]
    assert state() == before


def test_only_agents_reach_the_desk_escalation(client, contact, case, levels):
    for url in (desk(case, "escalate"), desk(case, "phone")):
        data = {"escalate-to_level": "next", "escalate-reason": "x"}
        assert signed_in(contact).post(url, data).status_code == 404
        anonymous = client.post(url, data)
        assert anonymous.status_code == 302 and "/accounts/signin/" in anonymous["Location"]
    assert not Escalation.objects.exists()


def test_the_portal_case_page_shows_the_history_without_internal_details(
    contact, agent, case, levels
):
    escalate(case.pk, source="phone", reason="Schools blocked", actor=agent,
             caller_name="Omar Khalil", caller_phone="+971 50 555 0199")
    escalate(case.pk, source="agent", reason="Vendor bug confirmed", actor=agent, to_level=4)

    page = html(signed_in(contact).get(f"/cases/{case.pk}/"))

    history = page.split('id="escalations"')[1]
    assert "Escalated to level 2 (Senior Support Engineer)</strong>\n          by phone" in history
    assert "Escalated to level 4 (Head of Support)</strong>\n          by our support team" in (
        history)
    assert "Schools blocked" in history and "Vendor bug confirmed" in history
    assert "+971 50 555 0199" not in page and "Sam Agent" not in page
    assert "<dt>Escalation</dt><dd>Level 4: Head of Support</dd>" in page


def test_a_case_never_escalated_says_so_on_the_portal(contact, case, levels):
    page = html(signed_in(contact).get(f"/cases/{case.pk}/"))

    assert '<span class="muted">Not escalated</span>' in page
    assert 'id="escalations"' not in page


# -- the Escalated view ---------------------------------------------------------------------


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(n) for n in re.findall(
        r'<td class="num"><a href="/desk/cases/(\d+)/">', html(response))]


def test_the_escalated_view_lists_open_escalated_cases(
    agent, contact, levels
):
    never = make_case(contact, subject="Never escalated").ticket
    first = make_case(contact, subject="Escalated first").ticket
    second = make_case(contact, subject="Escalated second").ticket
    closed = make_case(contact, subject="Escalated then closed").ticket
    back_down = make_case(contact, subject="Escalated then back to 1").ticket
    for ticket in (first, second, closed, back_down):
        escalate(ticket.pk, source="agent", reason="x", actor=agent)
    change_status(closed.pk, agent, "closed")
    escalate(back_down.pk, source="agent", reason="x", actor=agent, to_level=1)
    # The first case goes up again last: it is the most recently escalated
    escalate(first.pk, source="agent", reason="again", actor=agent, to_level=3)

    response = signed_in(agent).get(reverse("desk:queue"), {"view": "escalated"})

    # The queue's own orders apply (newest first); the level has its own column.
    assert listed(response) == [second.pk, first.pk]
    page = html(response)
    assert "<h1>Escalated</h1>" in page
    assert '<td class="num">3</td>' in page
    assert '<td class="num">2</td>' in page
    assert '<td class="nowrap escalated"><time' in page
    assert 'href="/desk/?view=escalated" aria-current="page"' in page
    assert never.pk not in listed(response)


def test_the_escalated_view_takes_the_queue_filters(agent, contact, levels):
    other = make_contact(make_org("Other Net"))
    mine = make_case(contact, subject="Ours").ticket
    theirs = make_case(other, subject="Theirs").ticket
    for ticket in (mine, theirs):
        escalate(ticket.pk, source="agent", reason="x", actor=agent)

    response = signed_in(agent).get(reverse("desk:queue"), {
        "view": "escalated", "organization": str(contact.organization_id),
    })

    assert listed(response) == [mine.pk]


def test_the_escalated_view_costs_the_same_queries_with_more_cases(
    agent, contact, levels, django_assert_max_num_queries
):
    client = signed_in(agent)
    url = reverse("desk:queue")
    escalate(make_case(contact).ticket.pk, source="agent", reason="x", actor=agent)
    client.get(url, {"view": "escalated"})  # the site configuration is cached from now on
    with django_assert_max_num_queries(20) as few:
        client.get(url, {"view": "escalated"})
    # Counted now: the next request empties the connection's log that `few` reads.
    few_queries = len(few.captured_queries)
    for n in range(12):
        ticket = make_case(make_contact(make_org())).ticket
        if n % 2:
            escalate(ticket.pk, source="agent", reason="x", actor=agent)
    # The new organizations and contacts make the filters' choices be read once more
    # (casedesk.desk.choices): that page is not the one compared.
    client.get(url, {"view": "escalated"})

    with django_assert_max_num_queries(few_queries):
        response = client.get(url, {"view": "escalated"})

    assert len(listed(response)) == 7
