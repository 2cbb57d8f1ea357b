"""Two agents on one case: each sees the other viewing or typing, and a reply written on
a stale view is held back with the new messages marked, the draft kept and "Send anyway"."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.desk.models import Presence
from casedesk.desk.tests.conftest import signed_in
from casedesk.tickets.actions import add_message, merge_cases
from casedesk.tickets.models import Message, Ticket


def ping(client: Client, ticket: Ticket, state: str) -> dict:
    response = client.post(reverse("desk:presence", args=[ticket.pk]), {"state": state})
    assert response.status_code == 200, response.content
    return response.json()


# ------------------------------------------------------------------ presence


def test_the_second_agent_sees_the_first_viewing_then_typing(
    agent_client: Client, other_agent: User, contact: User
) -> None:
    ticket = make_case(contact).ticket
    lee = signed_in(other_agent)

    assert ping(agent_client, ticket, "viewing") == {"others": []}
    assert ping(lee, ticket, "viewing") == {"others": [{"name": "Sam Agent", "state": "viewing"}]}
    ping(agent_client, ticket, "typing")
    assert ping(lee, ticket, "viewing") == {"others": [{"name": "Sam Agent", "state": "typing"}]}
    # And the page itself says so, for a browser without JavaScript too
    html = lee.get(reverse("desk:case", args=[ticket.pk])).content.decode()
    assert '<span class="presence-typing">Sam Agent is typing</span>' in html


def test_an_agent_who_left_or_stopped_pinging_is_no_longer_shown(
    agent_client: Client, other_agent: User, contact: User
) -> None:
    ticket = make_case(contact).ticket
    lee = signed_in(other_agent)
    ping(agent_client, ticket, "viewing")

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert ping(lee, ticket, "viewing") == {"others": []}
    ping(agent_client, ticket, "viewing")
    ping(agent_client, ticket, "left")
    assert ping(lee, ticket, "viewing") == {"others": []}
    # One row per agent and case, however often they ping
    assert Presence.objects.filter(ticket=ticket).count() == 1


def test_presence_refuses_odd_states_gets_and_customers(
    agent_client: Client, contact_client: Client, contact: User
) -> None:
    ticket = make_case(contact).ticket
    url = reverse("desk:presence", args=[ticket.pk])

    assert agent_client.post(url, {"state": "dancing"}).status_code == 400
    assert agent_client.get(url).status_code == 405
    assert contact_client.post(url, {"state": "viewing"}).status_code == 404
    assert agent_client.post(reverse("desk:presence", args=[999_999_999]),
                             {"state": "viewing"}).status_code == 404
    assert not Presence.objects.exists()


# ------------------------------------------------------------------ stale replies


def reply(client: Client, ticket: Ticket, seen: int, body: str = "Try resolver 1.") -> str:
    response = client.post(reverse("desk:reply", args=[ticket.pk]), {
        "kind": "public", "body": body, "seen": str(seen), "new_status": "pending",
    })
    return response.content.decode() if response.status_code == 200 else ""


def test_a_reply_on_a_stale_view_is_held_until_sent_anyway(
    agent: User, agent_client: Client, other_agent: User, contact: User
) -> None:
    ticket = make_case(contact).ticket
    seen = ticket.messages.get().pk
    # While Sam writes, Lee answers and the customer writes again
    lee_reply = add_message(ticket.pk, other_agent, "Lee: restart the resolver.", [])
    customer = add_message(ticket.pk, contact, "Noor: it is back, thanks.", [])

    html = reply(agent_client, ticket, seen, body="Sam: try resolver 1.")

    # Nothing is posted; the new messages are marked, the draft and its choices are kept
    assert ticket.messages.count() == 3
    assert "New messages arrived while you were writing. Nothing was sent." in html
    for message, side in ((lee_reply, "agent"), (customer, "customer")):
        assert f'class="msg from-{side} fresh" id="m{message.pk}"' in html
    assert "Sam: try resolver 1.</textarea>" in html
    assert '<option value="pending" selected>' in html
    assert ">Send anyway</button>" in html
    newest = re.search(r'name="seen" value="(\d+)"', html)
    assert newest is not None and int(newest.group(1)) == customer.pk

    # When Sam sends anyway, it goes
    response = agent_client.post(reverse("desk:reply", args=[ticket.pk]), {
        "kind": "public", "body": "Sam: try resolver 1.", "seen": newest.group(1),
    })
    assert response.status_code == 303
    assert ticket.messages.order_by("-pk").values_list("body", flat=True)[0] == (
        "Sam: try resolver 1."
    )


def test_another_agents_internal_note_does_not_hold_a_reply(
    agent_client: Client, other_agent: User, contact: User
) -> None:
    ticket = make_case(contact).ticket
    seen = ticket.messages.get().pk
    add_message(ticket.pk, other_agent, "Lee's note", [], internal=True)

    assert reply(agent_client, ticket, seen) == ""
    assert ticket.messages.filter(kind=Message.Kind.PUBLIC).count() == 2


def test_the_page_carries_the_latest_message_seen(
    agent_client: Client, agent: User, contact: User
) -> None:
    ticket = make_case(contact).ticket
    note = add_message(ticket.pk, agent, "note", [], internal=True)

    html = agent_client.get(reverse("desk:case", args=[ticket.pk])).content.decode()

    assert f'<input type="hidden" name="seen" value="{note.pk}"' in html


def test_a_reply_to_a_case_merged_meanwhile_is_held_on_the_surviving_case(
    agent: User, agent_client: Client, contact: User
) -> None:
    source, target = make_case(contact).ticket, make_case(contact).ticket
    seen = source.messages.get().pk
    merge_cases(source.pk, target.pk, agent)

    html = reply(agent_client, source, seen, body="Draft for the old case")

    assert f"Case {source.pk} was merged into this case while you were writing." in html
    assert f"<title>Case {target.pk}" in html
    assert "Draft for the old case</textarea>" in html
    assert not Message.objects.filter(body="Draft for the old case").exists()
