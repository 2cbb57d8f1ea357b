"""Macros: managed on the desk, personal or shared, placeholders checked when saved and
filled safely, applied on the case page; status and priority change only with the reply."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.core.choices import Priority
from casedesk.desk.macros import fill
from casedesk.desk.models import Macro
from casedesk.desk.tests.conftest import signed_in
from casedesk.tickets.models import Event, Ticket

BODY = (
    "Hello {{requester_name}},\n\nCase {{ case_id }} is with us; on your plan we answer "
    "within {{plan_target}}.\n\n{{agent_name}}"
)


def make_macro(owner: User | None, **fields: object) -> Macro:
    fields.setdefault("name", "Acknowledge")
    fields.setdefault("body", BODY)
    fields.setdefault("created_by", owner)
    return Macro.objects.create(owner=owner, **fields)  # type: ignore[arg-type]


def test_an_agent_creates_a_personal_macro(agent: User, agent_client: Client) -> None:
    response = agent_client.post(reverse("desk:macro_new"), {
        "name": "Need logs", "body": "Please send logs for case {{case_id}}.",
        "status": "pending", "priority": "",
    }, follow=True)

    assert "Macro “Need logs” saved." in response.content.decode()
    macro = Macro.objects.get()
    assert (macro.owner, macro.status, macro.priority) == (agent, "pending", None)


@pytest.mark.parametrize(("body", "error"), [
    ("Hi {{requester}}", "Unknown placeholder {{requester}}. Use only {{requester_name}}"),
    ("{{ticket.requester.password}} {{x}}",
     "Unknown placeholders {{ticket.requester.password}}, {{x}}"),
    ("Case {{case_id", "A placeholder is not closed"),
    ("{% load static %}{{}}", "Unknown placeholder {{}}"),
])
def test_unknown_placeholders_are_refused_when_saving(
    agent_client: Client, body: str, error: str
) -> None:
    response = agent_client.post(reverse("desk:macro_new"), {"name": "Bad", "body": body})

    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Macro.objects.exists()


def test_placeholders_are_filled_as_plain_text_never_run_as_a_template() -> None:
    text = fill("{% now 'Y' %} {{ case_id }} {{agent_name}}",
                {"case_id": "10234", "agent_name": "{{case_id}} <b>"})

    assert text == "{% now 'Y' %} 10234 {{case_id}} <b>"


def test_personal_macros_are_private_and_shared_ones_belong_to_their_author_and_admins(
    agent: User, other_agent: User
) -> None:
    mine = make_macro(agent, name="My own words")
    shared = make_macro(None, name="Team", created_by=agent)
    other = signed_in(other_agent)

    html = other.get(reverse("desk:macros")).content.decode()
    assert "Team" in html and "My own words" not in html
    assert other.get(reverse("desk:macro_edit", args=[mine.pk])).status_code == 404
    assert other.get(reverse("desk:macro_edit", args=[shared.pk])).status_code == 404
    assert other.post(reverse("desk:macro_delete", args=[shared.pk])).status_code == 404
    assert Macro.objects.count() == 2

    other_agent.is_staff = True
    other_agent.save()
    assert other.post(reverse("desk:macro_delete", args=[shared.pk])).status_code == 303
    assert list(Macro.objects.all()) == [mine]


def test_two_shared_macros_cannot_share_a_name(agent: User, agent_client: Client) -> None:
    make_macro(None, name="Welcome")

    html = agent_client.post(reverse("desk:macro_new"), {
        "name": "welcome", "body": "Hi", "shared": "on",
    }).content.decode()

    assert "There is already a shared macro called “welcome”." in html
    assert Macro.objects.count() == 1


def test_choosing_a_macro_without_javascript_fills_the_reply_for_review(
    agent: User, agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact, priority=Priority.HIGH).ticket
    macro = make_macro(agent, status="pending", priority=Priority.LOW)

    response = agent_client.get(reverse("desk:case", args=[ticket.pk]), {"macro": macro.pk})

    html = response.content.decode()
    body = re.search(r'<textarea name="body"[^>]*>(.*?)</textarea>', html, re.S)
    assert body is not None
    assert body.group(1).strip() == (
        f"Hello Noor Haddad,\n\nCase {ticket.pk} is with us; on your plan we answer "
        "within 1 hour.\n\nSam Agent"
    )
    assert '<option value="pending" selected>' in html
    assert f'<option value="{Priority.LOW}" selected>' in html
    # Nothing changed yet: the agent reviews first
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Ticket.Status.NEW, Priority.HIGH)
    # With JavaScript, the same text is ready in the picker, for this case
    assert f"Case {ticket.pk} is with us" in html.split('id="macro-choice"')[1]


def test_another_agents_personal_macro_cannot_be_applied(
    other_agent: User, agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact).ticket
    theirs = make_macro(other_agent, body="Secret text")

    html = agent_client.get(reverse("desk:case", args=[ticket.pk]),
                            {"macro": theirs.pk}).content.decode()

    assert "Secret text" not in html


def test_the_reply_sets_the_macros_status_and_priority_with_it(
    agent: User, agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact, priority=Priority.HIGH).ticket
    seen = ticket.messages.get().pk

    agent_client.post(reverse("desk:reply", args=[ticket.pk]), {
        "kind": "public", "body": "Please send logs.", "seen": seen,
        "new_status": "pending", "new_priority": str(Priority.LOW),
    })

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Ticket.Status.PENDING, Priority.LOW)
    kinds = [k for k in ticket.events.values_list("kind", flat=True) if not k.startswith("sla")]
    assert kinds[-3:] == [Event.Kind.REPLY, Event.Kind.STATUS, Event.Kind.PRIORITY]


def test_a_bad_priority_sends_nothing(agent_client: Client, contact: User) -> None:
    ticket = make_case(contact).ticket

    response = agent_client.post(reverse("desk:reply", args=[ticket.pk]), {
        "kind": "public", "body": "Hi", "new_priority": "9",
    })

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ticket.messages.count() == 1
