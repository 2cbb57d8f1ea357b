"""Idempotency-Key on every POST: the same key and body within 24 hours answer the first
response and create nothing; another body is a 422; a failed request leaves the key free."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from casedesk.accounts.models import Organization, User
from casedesk.api.tests.conftest import Api, api_for, fields_of, problem
from casedesk.conftest import make_agent, make_case, png_upload
from casedesk.escalation.models import Escalation
from casedesk.tickets.models import Message, Ticket

NEW_CASE = {"requester_email": "omar@gulfnet.example", "subject": "Link down",
            "description": "POP 3 unreachable", "priority": "high"}


def test_same_key_same_body_replays(agent_api: Api, org: Organization) -> None:
    first = agent_api.post("/api/v1/cases", NEW_CASE, key="retry-1")
    again = agent_api.post("/api/v1/cases", NEW_CASE, key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_same_key_other_body_is_422(agent_api: Api, org: Organization) -> None:
    agent_api.post("/api/v1/cases", NEW_CASE, key="k")
    body = problem(agent_api.post("/api/v1/cases", {**NEW_CASE, "subject": "Other"}, key="k"),
                   422)
    assert fields_of(body) == {"Idempotency-Key"}
    assert Ticket.objects.count() == 1


def test_a_failed_request_leaves_the_key_free(agent_api: Api, org: Organization) -> None:
    problem(agent_api.post("/api/v1/cases", {**NEW_CASE, "priority": "x"}, key="k"), 400)
    assert agent_api.post("/api/v1/cases", {**NEW_CASE, "priority": "x"},
                          key="k").status_code == 400
    assert agent_api.post("/api/v1/cases", NEW_CASE, key="k").status_code == 201
    assert Ticket.objects.count() == 1


def test_keys_belong_to_their_token(agent: User, org: Organization) -> None:
    api_for(agent).post("/api/v1/cases", NEW_CASE, key="shared")
    api_for(make_agent()).post("/api/v1/cases", NEW_CASE, key="shared")
    assert Ticket.objects.count() == 2


def test_after_24_hours_the_key_is_new_again(agent_api: Api, org: Organization) -> None:
    agent_api.post("/api/v1/cases", NEW_CASE, key="daily")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert agent_api.post("/api/v1/cases", NEW_CASE, key="daily").status_code == 201
    assert Ticket.objects.count() == 2


def test_bad_key_is_refused(agent_api: Api, org: Organization) -> None:
    body = problem(agent_api.post("/api/v1/cases", NEW_CASE, key="x" * 256), 400)
    assert fields_of(body) == {"Idempotency-Key"}
    assert not Ticket.objects.exists()


def test_messages_and_escalations_and_multipart(contact_api: Api, contact: User) -> None:
    ticket = make_case(contact).ticket
    path = f"/api/v1/cases/{ticket.pk}/messages"
    for _ in range(2):
        response = contact_api.post(path, {"body": "Me too", "attachments": [png_upload()]},
                                    key="m1", multipart=True)
        assert response.status_code == 201
    assert Message.objects.filter(ticket=ticket).count() == 2  # description + one reply
    path = f"/api/v1/cases/{ticket.pk}/escalations"
    for _ in range(2):
        assert contact_api.post(path, {"reason": "Down"}, key="e1").status_code == 201
    assert Escalation.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_at_once_create_one_case(agent: User, org: Organization) -> None:
    """Real threads, each on its own database connection, released together."""
    api = api_for(agent)
    start = threading.Barrier(3)
    answers: list[Any] = []

    def send() -> None:
        try:
            start.wait()
            answers.append(api.post("/api/v1/cases", NEW_CASE, key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["case_id"] for a in answers}) == 1
    assert sum(a.has_header("Idempotent-Replayed") for a in answers) == 2
    assert Ticket.objects.count() == 1
