"""/api/v1/cases/{case_id}/messages and attachment downloads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.accounts.models import User
from casedesk.api.tests.conftest import Api, fields_of, problem
from casedesk.conftest import PNG_BYTES, make_case, png_upload
from casedesk.core.files import check_upload
from casedesk.mail.models import OutboundMail
from casedesk.tickets.actions import add_message
from casedesk.tickets.models import Attachment, Message, Ticket


@pytest.fixture
def ticket(contact: User) -> Ticket:
    return make_case(contact, files=[png_upload("first.png")]).ticket


def test_agent_reads_the_whole_thread(agent: User, agent_api: Api, ticket: Ticket) -> None:
    add_message(ticket.pk, agent, "Looking into it internally", [], internal=True)
    body = agent_api.get(f"/api/v1/cases/{ticket.pk}/messages").json()
    assert [m["visibility"] for m in body["results"]] == ["public", "internal"]
    first = body["results"][0]
    assert first["author"]["email"] == ticket.requester.email
    assert first["author"]["role"] == "contact"
    assert first["attachments"][0]["filename"] == "first.png"
    assert first["attachments"][0]["url"].startswith("http://testserver/api/v1/cases/")


def test_contact_never_sees_internal_notes(agent: User, contact_api: Api,
                                           ticket: Ticket) -> None:
    note = add_message(ticket.pk, agent, "Customer is on the old firmware", [], internal=True)
    body = contact_api.get(f"/api/v1/cases/{ticket.pk}/messages").json()
    assert [m["visibility"] for m in body["results"]] == ["public"]
    assert note.pk not in [m["id"] for m in body["results"]]


def test_agent_replies_and_the_reply_is_mailed(agent_api: Api, ticket: Ticket) -> None:
    response = agent_api.post(f"/api/v1/cases/{ticket.pk}/messages",
                              {"body": "Fixed: the resolver config was reloaded."})
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert message.kind == "public" and message.channel == "api"
    ticket.refresh_from_db()
    assert ticket.status == "open"  # an agent's first reply opens a new case
    assert OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).exists()


def test_agent_adds_an_internal_note_with_a_file(agent_api: Api, ticket: Ticket) -> None:
    response = agent_api.post(f"/api/v1/cases/{ticket.pk}/messages", {
        "body": "Trace attached", "visibility": "internal", "attachments": [png_upload("t.png")],
    }, multipart=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["visibility"] == "internal" and body["attachments"][0]["filename"] == "t.png"
    assert not OutboundMail.objects.filter(kind=OutboundMail.Kind.REPLY).exists()


def test_contact_replies_but_cannot_write_notes(contact_api: Api, ticket: Ticket) -> None:
    assert contact_api.post(f"/api/v1/cases/{ticket.pk}/messages",
                            {"body": "Still broken"}).status_code == 201
    before = Message.objects.count()
    body = problem(contact_api.post(f"/api/v1/cases/{ticket.pk}/messages",
                                    {"body": "psst", "visibility": "internal"}), 400)
    assert fields_of(body) == {"visibility"}
    assert Message.objects.count() == before


@pytest.mark.parametrize(("data", "field"), [
    ({"body": ""}, "body"), ({"body": "   "}, "body"), ({}, "body"),
    ({"body": "x", "visibility": "secret"}, "visibility"),
])
def test_bad_messages_change_nothing(agent_api: Api, ticket: Ticket, data: dict[str, Any],
                                     field: str) -> None:
    before = Message.objects.count()
    body = problem(agent_api.post(f"/api/v1/cases/{ticket.pk}/messages", data), 400)
    assert fields_of(body) == {field}
    assert Message.objects.count() == before


def test_bad_file_changes_nothing(agent_api: Api, ticket: Ticket) -> None:
    before = (Message.objects.count(), Attachment.objects.count())
    fake = SimpleUploadedFile("run.pdf", b"#!/bin/sh\nrm -rf /\n")
    body = problem(agent_api.post(f"/api/v1/cases/{ticket.pk}/messages",
                                  {"body": "see file", "attachments": [fake]}, multipart=True),
                   400)
    assert fields_of(body) == {"attachments"}
    assert (Message.objects.count(), Attachment.objects.count()) == before


def test_download_with_the_case_permissions(agent: User, agent_api: Api, contact_api: Api,
                                            ticket: Ticket) -> None:
    public = Attachment.objects.get(ticket=ticket)
    response = contact_api.get(f"/api/v1/cases/{ticket.pk}/attachments/{public.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    note = add_message(ticket.pk, agent, "internal file", [check_upload(png_upload("s.png"))],
                       internal=True)
    secret = note.attachments.get()
    problem(contact_api.get(f"/api/v1/cases/{ticket.pk}/attachments/{secret.pk}"), 404)
    assert agent_api.get(f"/api/v1/cases/{ticket.pk}/attachments/{secret.pk}").status_code == 200
    problem(agent_api.get(f"/api/v1/cases/{ticket.pk}/attachments/999999"), 404)


def test_messages_page_through(agent: User, agent_api: Api, ticket: Ticket,
                               django_assert_max_num_queries: Any) -> None:
    for n in range(4):
        add_message(ticket.pk, agent, f"Reply {n}", [])
    seen = []
    path = f"/api/v1/cases/{ticket.pk}/messages"
    with django_assert_max_num_queries(8):
        response = agent_api.get(path, page_size="2")
    while True:
        seen += [m["body"] for m in response.json()["results"]]
        if response.json()["next"] is None:
            break
        response = agent_api.client.get(response.json()["next"], headers=agent_api.headers)
    assert seen[1:] == [f"Reply {n}" for n in range(4)]
