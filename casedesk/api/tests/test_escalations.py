"""/api/v1/cases/{case_id}/escalations: the history, and escalating by the rules of each
source (a contact as the portal widget, an agent on its own or logging a call)."""

from __future__ import annotations

from typing import Any

import pytest

from casedesk.accounts.models import User
from casedesk.api.tests.conftest import Api, fields_of, problem
from casedesk.conftest import make_case
from casedesk.escalation.models import Escalation, EscalationRequest
from casedesk.tickets.models import Ticket


@pytest.fixture
def ticket(contact: User) -> Ticket:
    return make_case(contact).ticket


def test_contact_escalates_like_the_portal_widget(contact_api: Api, contact: User,
                                                  ticket: Ticket) -> None:
    response = contact_api.post(f"/api/v1/cases/{ticket.pk}/escalations",
                                {"reason": "Outage for all our customers"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["from_level"], body["to_level"], body["source"]) == (1, 2, "portal")
    # Who at our end asked, and callers' numbers, stay on the desk.
    assert body["actor"] is None and body["caller_phone"] is None
    escalation = Escalation.objects.get()
    assert escalation.actor == contact and escalation.source == "portal"
    assert EscalationRequest.objects.filter(ticket=ticket, user=contact).exists()
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2


def test_again_within_the_cool_down_is_a_409(contact_api: Api, ticket: Ticket) -> None:
    path = f"/api/v1/cases/{ticket.pk}/escalations"
    assert contact_api.post(path, {"reason": "Down"}).status_code == 201
    body = problem(contact_api.post(path, {"reason": "Still down"}), 409)
    assert "already escalated" in body["detail"]
    assert Escalation.objects.count() == 1


def test_agent_moves_to_a_chosen_level(agent: User, agent_api: Api, ticket: Ticket) -> None:
    response = agent_api.post(f"/api/v1/cases/{ticket.pk}/escalations",
                              {"reason": "Needs the core team", "level": 3})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["to_level"] == 3 and body["source"] == "agent" and body["actor"] == agent.email


def test_agent_logs_a_phone_call(agent_api: Api, ticket: Ticket) -> None:
    response = agent_api.post(f"/api/v1/cases/{ticket.pk}/escalations", {
        "reason": "Caller says every site is down", "source": "phone",
        "caller_name": "Omar", "caller_phone": "+971 4 555 0100",
    })
    assert response.status_code == 201, response.content
    assert response.json()["caller_phone"] == "+971 4 555 0100"


@pytest.mark.parametrize(("who", "data", "field"), [
    ("agent", {"reason": ""}, "reason"),
    ("agent", {"reason": "x", "source": "portal"}, "source"),
    ("agent", {"reason": "x", "source": "sla"}, "source"),
    ("agent", {"reason": "x", "source": "phone", "caller_name": "Omar"}, "caller_phone"),
    ("agent", {"reason": "x", "source": "phone", "caller_phone": "+971 4 555 0100"},
     "caller_name"),
    ("agent", {"reason": "x", "level": 0}, "level"),
    ("contact", {"reason": "x", "source": "agent"}, "source"),
    ("contact", {"reason": "x", "level": 3}, "level"),
])
def test_bad_input_escalates_nothing(agent_api: Api, contact_api: Api, ticket: Ticket,
                                     who: str, data: dict[str, Any], field: str) -> None:
    api = agent_api if who == "agent" else contact_api
    body = problem(api.post(f"/api/v1/cases/{ticket.pk}/escalations", data), 400)
    assert field in fields_of(body)
    assert not Escalation.objects.exists()
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1


def test_refused_moves_are_409(agent_api: Api, ticket: Ticket) -> None:
    path = f"/api/v1/cases/{ticket.pk}/escalations"
    problem(agent_api.post(path, {"reason": "x", "level": 9}), 409)
    problem(agent_api.post(path, {"reason": "x", "level": 1}), 409)
    assert not Escalation.objects.exists()


def test_history(agent_api: Api, contact_api: Api, ticket: Ticket) -> None:
    agent_api.post(f"/api/v1/cases/{ticket.pk}/escalations", {"reason": "Up", "level": 2})
    agent_api.post(f"/api/v1/cases/{ticket.pk}/escalations", {"reason": "Up more", "level": 3})
    for api in (agent_api, contact_api):
        results = api.get(f"/api/v1/cases/{ticket.pk}/escalations").json()["results"]
        assert [(e["from_level"], e["to_level"]) for e in results] == [(1, 2), (2, 3)]
        assert results[0]["to_level_name"]
