"""Only active agents use the desk; customers never learn a desk URL exists."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from casedesk.conftest import make_agent, make_case, png_upload
from casedesk.desk.tests.conftest import signed_in
from casedesk.tickets.models import Event, Message


def desk_urls(case_id: int, attachment_id: int) -> list[str]:
    return [
        reverse("desk:case", args=[case_id]),
        reverse("desk:attachment", args=[case_id, attachment_id, "screenshot.png"]),
    ]


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_brought_back(db, contact):
    ticket = make_case(contact).ticket

    for path in ["/desk/?view=mine", reverse("desk:case", args=[ticket.pk])]:
        response = Client().get(path)

        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.path == reverse("accounts:signin")
        assert parse_qs(target.query)["next"] == [path]


def test_a_visitor_cannot_reply_without_signing_in(db, contact):
    ticket = make_case(contact).ticket

    response = Client().post(reverse("desk:reply", args=[ticket.pk]), {"body": "hi"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:signin"))
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_a_customer_opening_the_queue_is_sent_to_the_portal(contact_client):
    response = contact_client.get(reverse("desk:queue"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_a_customer_gets_not_found_for_desk_pages_even_of_their_own_case(
    contact, contact_client
):
    ticket = make_case(contact, files=[png_upload()]).ticket
    attachment = ticket.attachments.get()

    for path in desk_urls(ticket.pk, attachment.pk):
        assert contact_client.get(path).status_code == 404
    for name in ("desk:reply", "desk:update"):
        response = contact_client.post(
            reverse(name, args=[ticket.pk]),
            {"body": "sneaky", "kind": "internal", "status": "closed", "priority": 1},
        )
        assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert Event.objects.filter(ticket=ticket).count() == 1


def test_an_agent_sees_the_queue_with_the_desk_navigation(agent_client):
    response = agent_client.get(reverse("desk:queue"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="desk"' in page
    assert "Agent desk" in page
    assert 'href="/desk/?view=mine"' in page
    assert 'href="/"' in page  # back to the portal
    assert reverse("admin:index") not in page


def test_staff_agents_get_a_link_to_the_admin(db):
    admin = make_agent(is_staff=True)

    page = signed_in(admin).get(reverse("desk:queue")).content.decode()

    assert reverse("admin:index") in page


def test_an_agent_who_is_deactivated_is_signed_out_of_the_desk(agent, agent_client):
    agent.is_active = False
    agent.save()

    response = agent_client.get(reverse("desk:queue"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:signin"))


@pytest.mark.parametrize("case_id", ["999999", "abc", "12x", "-5", "1e5"])
def test_a_case_id_that_is_unknown_or_not_a_number_is_not_found(agent_client, case_id):
    response = agent_client.get(f"/desk/cases/{case_id}/")

    assert response.status_code == 404
    assert "Check the Case ID" in response.content.decode()
