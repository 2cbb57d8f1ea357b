"""The fan-out job: history events become deliveries for the subscriptions that may see
them, once each, whatever the number of runs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.escalation.actions import escalate
from casedesk.sla.jobs import sweep
from casedesk.tickets.actions import add_message, assign, change_status
from casedesk.webhooks.fanout import drain, fan_out
from casedesk.webhooks.models import Cursor, Delivery
from casedesk.webhooks.tests.conftest import subscribe

ALL = ["case.created", "case.updated", "message.created", "case.escalated", "sla.warning",
       "sla.breached"]
URL = "https://8.8.8.8/hooks"  # a public address: saved without any DNS lookup


def bodies(subscription: Any) -> list[dict[str, Any]]:
    return [json.loads(d.body) for d in
            Delivery.objects.filter(subscription=subscription).order_by("event_id")]


def test_running_the_fan_out_twice_makes_each_delivery_once(admin: User) -> None:
    subscribe(URL, ALL, admin)
    subscribe(URL, ["case.created"], admin)
    make_case(make_contact(make_org()))

    first = fan_out()
    second = fan_out()

    assert first.deliveries == 2 and second.deliveries == 0
    assert Delivery.objects.count() == 2
    # Even with its cursor put back (a crash after the inserts, before the commit of a
    # cursor kept elsewhere), an event gives one delivery per subscription
    Cursor.objects.update(last_event_id=0)
    fan_out()
    assert Delivery.objects.count() == 2


def test_an_organizations_subscription_never_sees_another_organizations_case(
    admin: User,
) -> None:
    org_a, org_b = make_org(), make_org()
    for_a, _secret = subscribe(URL, ALL, admin, organization=org_a)
    everything, _secret = subscribe(URL, ALL, admin)
    case_a = make_case(make_contact(org_a), subject="Org A's outage").ticket
    case_b = make_case(make_contact(org_b), subject="Org B's outage").ticket
    agent = make_agent()
    change_status(case_b.pk, agent, "on_hold")

    drain()

    assert {b["data"]["case"]["case_id"] for b in bodies(for_a)} == {case_a.pk}
    assert "Org B" not in "".join(d.body for d in Delivery.objects.filter(subscription=for_a))
    assert {b["data"]["case"]["case_id"] for b in bodies(everything)} == {case_a.pk, case_b.pk}


def test_internal_notes_go_to_global_subscriptions_only(admin: User) -> None:
    org = make_org()
    scoped, _secret = subscribe(URL, ["message.created"], admin, organization=org)
    everything, _secret = subscribe(URL, ["message.created"], admin)
    agent = make_agent(full_name="Sami Youssef", email="sami@casedesk.example")
    ticket = make_case(make_contact(org)).ticket
    add_message(ticket.pk, agent, "Customer's router is EOL; do not promise a fix.", [],
                internal=True)
    add_message(ticket.pk, agent, "We are replacing the resolver tonight.", [])

    drain()

    # The organization hears of the public reply only, with the engineer by first name
    [public] = bodies(scoped)
    assert public["data"]["message"]["body"] == "We are replacing the resolver tonight."
    assert public["data"]["message"]["visibility"] == "public"
    assert public["data"]["message"]["author"] == {"name": "Sami", "email": None,
                                                   "role": "agent"}
    assert "EOL" not in "".join(d.body for d in Delivery.objects.filter(subscription=scoped))
    # Admins' own systems hear of both, with the agent's address
    notes = [b["data"]["message"] for b in bodies(everything)]
    assert [m["visibility"] for m in notes] == ["internal", "public"]
    assert notes[0]["author"]["email"] == "sami@casedesk.example"


def test_a_scoped_payload_names_agents_as_the_portal_does(admin: User) -> None:
    org = make_org()
    scoped, _secret = subscribe(URL, ["case.updated"], admin, organization=org)
    everything, _secret = subscribe(URL, ["case.updated"], admin)
    agent = make_agent(full_name="Hana Idris", email="hana@casedesk.example")
    ticket = make_case(make_contact(org)).ticket
    assign(ticket.pk, agent, agent)

    drain()

    [mine] = bodies(scoped)
    assert mine["data"]["changes"] == {"assignee": {"old": None, "new": "Hana"}}
    assert mine["data"]["case"]["assignee"] == "Hana"
    assert "/desk/" not in mine["data"]["case"]["url"]
    assert "hana@casedesk.example" not in json.dumps(mine)
    [theirs] = bodies(everything)
    assert theirs["data"]["changes"]["assignee"]["new"] == "hana@casedesk.example"
    assert "/desk/" in theirs["data"]["case"]["url"]


def test_escalations_and_sla_events_become_deliveries(admin: User) -> None:
    everything, _secret = subscribe(URL, ["case.escalated", "sla.warning", "sla.breached"],
                                    admin)
    ticket = make_case(make_contact(make_org())).ticket
    escalate(ticket.pk, source="phone", reason="Customer called: all users down")
    # Three days on, every target of the High case has passed
    sweep(now=timezone.now() + timedelta(days=3))

    drain()

    found = bodies(everything)
    types = [b["type"] for b in found]
    assert types[0] == "case.escalated"
    assert found[0]["data"]["escalation"]["reason"] == "Customer called: all users down"
    assert found[0]["data"]["escalation"]["source"] == "phone"
    assert "sla.breached" in types
    breach = next(b for b in found if b["type"] == "sla.breached")
    assert breach["data"]["sla"]["target"] in {"first_response", "resolution",
                                              "escalation_ack"}


def test_events_from_before_a_subscription_are_not_sent_to_it(admin: User) -> None:
    make_case(make_contact(make_org()))
    fan_out()  # nobody listened: the cursor moves on

    subscription, _secret = subscribe(URL, ALL, admin)
    later_case = make_case(make_contact(make_org())).ticket
    fan_out()

    assert [b["data"]["case"]["case_id"] for b in bodies(subscription)] == [later_case.pk]


def test_a_paused_subscription_gets_nothing(admin: User) -> None:
    subscribe(URL, ALL, admin, is_active=False)
    make_case(make_contact(make_org()))

    fan_out()

    assert not Delivery.objects.exists()


def test_a_new_cases_delivery_carries_its_description(admin: User) -> None:
    org = make_org()
    scoped, _secret = subscribe(URL, ["case.created"], admin, organization=org)
    make_case(make_contact(org), description="Resolver 2 lets adult sites through.")

    fan_out()

    [created] = bodies(scoped)
    assert created["data"]["message"]["body"] == "Resolver 2 lets adult sites through."
    assert created["data"]["message"]["author"]["role"] == "contact"
