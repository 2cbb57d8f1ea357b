"""The seed's response targets, as the cases opened under them get them; plans without a
target; the plan's own settings and how admins edit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.sla.models import Clock, Plan, Target
from casedesk.sla.tests.conftest import HOUR, T0, clock_of

# The seed's table: first response per priority, in hours.
SEED = {
    "Standard": {Priority.HIGH: 2, Priority.MEDIUM: 8, Priority.LOW: 72, Priority.QUESTION: 96},
    "Premium": {Priority.HIGH: 1, Priority.MEDIUM: 4, Priority.LOW: 48, Priority.QUESTION: 72},
}
TABLE = [(plan, priority, hours) for plan, row in SEED.items() for priority, hours in row.items()]


@pytest.mark.parametrize(("plan", "priority", "hours"), TABLE)
def test_the_seed_targets_are_the_first_response_due_times_of_new_cases(
    db: Any, frozen: Any, plan: str, priority: int, hours: int
) -> None:
    # Given a partner on the plan
    contact = make_contact(make_org(plan=plan))

    # When its contact opens a case at that priority
    ticket = make_case(contact, priority=priority).ticket

    # Then the first response is due that many hours later (the plans are 24/7)
    clock = clock_of(ticket)
    assert clock.plan.name == plan
    assert clock.target_seconds == hours * HOUR
    assert clock.due_at == T0 + timedelta(hours=hours)
    assert clock.warn_at == T0 + timedelta(hours=hours * 0.75)


def test_the_seeded_plans_hold_exactly_the_seed_table(db: Any) -> None:
    found = {
        (t.plan.name, t.priority): t.first_response_minutes // 60
        for t in Target.objects.select_related("plan")
    }
    assert found == {(plan, priority): hours for plan, priority, hours in TABLE}
    standard = Plan.objects.get(name="Standard")
    assert standard.is_default and standard.calendar is None
    assert (standard.warn_percent, standard.escalate_on_breach) == (75, True)


def test_a_contact_without_an_organization_gets_the_default_plan(db: Any, frozen: Any) -> None:
    # Given Premium made the default plan
    Plan.objects.update(is_default=False)
    Plan.objects.filter(name="Premium").update(is_default=True)

    # When someone with no organization opens a Medium case
    ticket = make_case(email="walk-in@example.org", priority=Priority.MEDIUM).ticket

    # Then Premium's 4 hours apply
    assert ticket.organization is None
    assert clock_of(ticket).plan.name == "Premium"
    assert clock_of(ticket).due_at == T0 + timedelta(hours=4)


def test_an_organization_without_a_plan_gets_the_default_plan(db: Any, frozen: Any) -> None:
    org = make_org()
    org.plan = None
    org.save()

    ticket = make_case(make_contact(org), priority=Priority.LOW).ticket

    assert clock_of(ticket).plan.name == "Standard"
    assert clock_of(ticket).due_at == T0 + timedelta(hours=72)


def test_a_resolution_target_starts_a_resolution_clock_too(db: Any, frozen: Any) -> None:
    Target.objects.filter(plan__name="Premium", priority=Priority.HIGH).update(
        resolution_minutes=24 * 60
    )
    ticket = make_case(make_contact(make_org(plan="Premium"))).ticket

    assert clock_of(ticket, "resolution").due_at == T0 + timedelta(hours=24)
    # No next-response clock yet: that starts with the customer's next message.
    assert not Clock.objects.filter(ticket=ticket, kind="next_response").exists()


def test_a_priority_without_a_target_starts_no_clock_and_the_portal_says_so(
    db: Any, frozen: Any
) -> None:
    # Given the Standard plan has no target for questions
    Target.objects.filter(plan__name="Standard", priority=Priority.QUESTION).delete()
    contact = make_contact(make_org(plan="Standard"))

    # When the contact asks a question
    ticket = make_case(contact, priority=Priority.QUESTION).ticket

    # Then no clock runs, and the case page says there is no response target
    assert not Clock.objects.filter(ticket=ticket).exists()
    client = Client()
    client.force_login(contact)
    page = client.get(f"/cases/{ticket.pk}/").content.decode()
    assert "no response target" in page


@pytest.mark.parametrize("percent", [0, 100, 150])
def test_a_warning_share_outside_1_to_99_is_refused(db: Any, percent: int) -> None:
    plan = Plan.objects.get(name="Standard")
    plan.warn_percent = percent
    with pytest.raises(ValidationError) as refused:
        plan.full_clean()
    assert "warn_percent" in refused.value.message_dict


def test_admins_edit_a_plan_and_its_targets_on_one_page(db: Any) -> None:
    # Given a staff agent on the plan's admin page
    admin = make_agent(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    plan = Plan.objects.get(name="Premium")
    url = f"/admin/sla/plan/{plan.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="warn_percent"' in page and 'name="escalate_on_breach"' in page
    assert 'name="calendar"' in page

    # When they set the warning at 50 %, turn escalation off and give High a 2 h
    # next-response target
    targets = list(plan.targets.order_by("priority"))
    data: dict[str, Any] = {
        "name": "Premium", "warn_percent": "50", "calendar": "",
        "targets-TOTAL_FORMS": str(len(targets)), "targets-INITIAL_FORMS": str(len(targets)),
        "targets-MIN_NUM_FORMS": "0", "targets-MAX_NUM_FORMS": "1000",
    }
    for i, target in enumerate(targets):
        data.update({
            f"targets-{i}-id": str(target.pk), f"targets-{i}-plan": str(plan.pk),
            f"targets-{i}-priority": str(target.priority),
            f"targets-{i}-first_response_minutes": str(target.first_response_minutes),
            f"targets-{i}-next_response_minutes": "120" if i == 0 else "",
            f"targets-{i}-resolution_minutes": "",
        })
    response = client.post(url, data)

    # Then the plan is saved as typed
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    assert (plan.warn_percent, plan.escalate_on_breach) == (50, False)
    assert plan.targets.get(priority=Priority.HIGH).next_response_minutes == 120

    # And a warning share of 0 is refused next to the field, changing nothing
    response = client.post(url, {**data, "warn_percent": "0"})
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1" in response.content.decode()
    plan.refresh_from_db()
    assert plan.warn_percent == 50


def test_the_acknowledgement_promises_the_case_clock_target(
    db: Any, frozen: Any, send_mail: Any
) -> None:
    contact = make_contact(make_org(plan="Premium"))
    ticket = make_case(contact, priority=Priority.MEDIUM).ticket

    ack = send_mail()[-1]

    assert ack["Subject"] == f"[Case #{ticket.pk}] {ticket.subject}"
    assert "an engineer will respond within 4 hours (Premium plan)" in ack.get_content()
    assert T0 == clock_of(ticket).started_at


def test_admins_can_read_clocks_but_not_change_them(db: Any, frozen: Any) -> None:
    ticket = make_case(make_contact(make_org())).ticket
    client = Client()
    client.force_login(make_agent(is_staff=True, is_superuser=True))

    listing = client.get("/admin/sla/clock/")
    clock = clock_of(ticket)
    change = client.post(f"/admin/sla/clock/{clock.pk}/change/", {"target_seconds": "1"})

    assert listing.status_code == 200 and f"#{ticket.pk}" in listing.content.decode()
    assert change.status_code == 403
    clock.refresh_from_db()
    assert clock.target_seconds == 2 * HOUR
