"""The portal's Escalate a Ticket widget: signed in (at once, own organization only) and
anonymous (same answer for everyone, a single-use expiring link to the requester), with
rate limits per address and per case."""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client

from casedesk.accounts.models import hash_token
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.models import Escalation, EscalationRequest
from casedesk.escalation.tests.conftest import around_the_clock, level, signed_in, text, to
from casedesk.escalation.widget import LinkInvalid, confirm_request, request_by_visitor
from casedesk.mail.models import OutboundMail
from casedesk.portal.tests.helpers import field_html, html, without_csrf
from casedesk.tickets.actions import change_status, reopen_by_contact
from casedesk.tickets.models import Event, Ticket

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
WIDGET = "/escalate/"


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def changes() -> tuple[int, int, int, list[int]]:
    return (
        Escalation.objects.count(), Event.objects.filter(kind="escalated").count(),
        OutboundMail.objects.count(),
        list(Ticket.objects.order_by("pk").values_list("escalation_level", flat=True)),
    )


# -- the form -------------------------------------------------------------------------------


def test_the_home_page_has_the_widget_posting_to_the_escalate_page(client, levels):
    page = html(client.get("/"))

    assert "Escalate a Ticket" in page
    assert f'action="{WIDGET}"' in page
    for name in ("case_id", "email", "reason"):
        assert f'name="{name}"' in page
    assert 'inputmode="numeric"' in page


def test_signed_in_the_widget_does_not_ask_for_an_email(contact, levels):
    page = html(signed_in(contact).get("/"))

    assert 'name="case_id"' in page and 'name="reason"' in page
    assert 'name="email"' not in page


def test_the_escalate_page_works_without_the_home_page_and_fills_in_a_case_id(client, levels):
    response = client.get(WIDGET, {"case": "100123"})

    assert response.status_code == 200
    assert 'value="100123"' in field_html(response, "case_id")


@pytest.mark.parametrize("typed", ["abc", "12a4", "-5", "1e5", "10 01", "9" * 19])
def test_a_case_id_that_is_not_a_number_is_refused_next_to_the_field(
    client, contact, case, typed
):
    for who in (client, signed_in(contact)):
        before = changes()

        response = who.post(WIDGET, {"case_id": typed, "email": contact.email,
                                     "reason": "Slow"})

        assert response.status_code == 200
        assert "A Case ID is a number, like 100123." in field_html(response, "case_id")
        assert changes() == before
        assert not EscalationRequest.objects.exists()


def test_the_case_id_and_reason_are_required(client):
    response = client.post(WIDGET, {"case_id": " ", "email": "", "reason": ""})

    assert "Enter the Case ID." in field_html(response, "case_id")
    assert "required" in field_html(response, "email")
    assert "Say why the case needs escalating." in field_html(response, "reason")


# -- signed in ------------------------------------------------------------------------------


def test_a_contact_escalates_their_case_at_once_and_lands_on_it(
    contact, case, levels, new_mail
):
    senior = around_the_clock(make_agent(full_name="Sami Senior"))
    level(2).team.add(senior)
    new_mail()

    response = signed_in(contact).post(
        WIDGET, {"case_id": str(case.pk), "reason": "Nobody answered in 3 hours"}
    )

    assert response.status_code == 303
    assert response["Location"] == f"/cases/{case.pk}/"
    assert flashes(response) == [
        f"Case {case.pk} is escalated to level 2 (Senior Support Engineer). "
        "Sami is now handling it. We have emailed you the details."
    ]
    escalation = Escalation.objects.get()
    assert (escalation.ticket_id, escalation.source, escalation.actor) == (
        case.pk, "portal", contact)
    assert escalation.reason == "Nobody answered in 3 hours"
    assert EscalationRequest.objects.get().used_at == escalation.created_at
    assert len(to(new_mail(), contact.email)) == 1


def test_a_case_id_with_a_hash_from_a_mail_subject_is_understood(contact, case, levels):
    response = signed_in(contact).post(WIDGET, {"case_id": f"#{case.pk}", "reason": "Slow"})

    assert response.status_code == 303
    assert Ticket.objects.get(pk=case.pk).escalation_level == 2


def test_a_contact_may_escalate_a_colleagues_case(org, case, levels):
    colleague = make_contact(org, full_name="Omar Colleague")

    response = signed_in(colleague).post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})

    assert response.status_code == 303
    assert Escalation.objects.get().actor == colleague


def test_a_foreign_case_answers_exactly_like_a_missing_one(case, levels):
    outsider = make_contact(make_org("Other Net"))
    client = signed_in(outsider)
    missing = case.pk + 1000
    before = changes()

    foreign = client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})
    absent = client.post(WIDGET, {"case_id": str(missing), "reason": "Slow"})

    assert foreign.status_code == absent.status_code == 200
    assert f"We could not find case {case.pk} among your cases." in field_html(
        foreign, "case_id")
    assert without_csrf(foreign).replace(str(case.pk), "N") == without_csrf(absent).replace(
        str(missing), "N")
    assert changes() == before


@pytest.mark.parametrize("status", ["closed", "resolved"])
def test_a_closed_case_is_not_escalated_and_the_case_page_says_why(
    contact, case, levels, status
):
    change_status(case.pk, make_agent(), status)
    before = changes()

    response = signed_in(contact).post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})

    assert response.status_code == 303 and response["Location"] == f"/cases/{case.pk}/"
    assert flashes(response) == [
        f"Case {case.pk} is {status}; reopen it or open a new case."
    ]
    assert changes() == before


def test_escalating_twice_says_it_is_already_escalated_and_when(contact, case, levels):
    client = signed_in(contact)
    with time_machine.travel(NOON, tick=False):
        client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})

        response = client.post(WIDGET, {"case_id": str(case.pk), "reason": "Still slow"},
                               follow=True)

    assert f"Case {case.pk} was already escalated at 12:00 UTC to level 2" in html(response)
    assert Escalation.objects.count() == 1


def test_signed_in_requests_are_limited_per_case_and_say_to_call(contact, case, levels):
    config = SiteConfiguration.current()
    config.support_phone = "+44 808 175 0480"
    config.save()
    client = signed_in(contact)
    with time_machine.travel(NOON, tick=False) as traveller:
        for _ in range(3):  # one escalation, then two refused by the cool-down
            client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})
        before = changes()

        response = client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})

        assert response.status_code == 429
        assert "Too many escalation requests; call us on +44 808 175 0480." in html(response)
        assert changes() == before

        # An hour later the widget answers again
        traveller.move_to(NOON + timedelta(hours=1, minutes=1))
        response = client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})
        assert response.status_code == 303
        assert Escalation.objects.count() == 2


def test_an_agent_using_the_widget_is_sent_to_the_desk(agent, case, levels):
    client = signed_in(agent)

    response = client.post(WIDGET, {"case_id": str(case.pk), "reason": "Slow"})
    missing = client.post(WIDGET, {"case_id": "999999", "reason": "Slow"})

    assert response.status_code == 303
    assert response["Location"] == f"/desk/cases/{case.pk}/#escalate"
    assert "There is no case 999999." in field_html(missing, "case_id")
    assert not Escalation.objects.exists()


# -- anonymous ------------------------------------------------------------------------------


def ask(client: Client, case_id: int | str, email: str, reason: str = "No answer yet"):
    return client.post(WIDGET, {"case_id": str(case_id), "email": email, "reason": reason})


def link_in(message) -> str:
    found = re.search(r"http://\S+/escalate/confirm/[^/\s]+/", text(message))
    assert found, text(message)
    return found.group(0).removeprefix("http://127.0.0.1:8000")


def test_a_visitor_gets_the_same_answer_whatever_the_case_and_address(
    client, contact, case, levels, new_mail
):
    stranger = make_contact(make_org("Other Net"), email="eve@othernet.example")
    new_mail()

    answers = [
        ask(client, case.pk, contact.email),  # the case and its requester
        ask(client, case.pk, stranger.email),  # someone else's address
        ask(client, case.pk + 1000, contact.email),  # no such case
    ]

    # Then every answer is the same redirect to the same page
    assert {(a.status_code, a["Location"]) for a in answers} == {(303, "/escalate/sent/")}
    page = client.get("/escalate/sent/")
    assert "If this is your case, we have emailed you a link to confirm the escalation" in html(
        page)
    assert "Case" not in html(page).split("<main", 1)[1].split("If this is your case")[0]
    # And only the requester got mail, with a link; nothing is escalated yet
    sent = new_mail()
    assert [str(m["To"]) for m in sent] == [contact.email]
    assert sent[0]["Subject"] == f"[Case #{case.pk}] {case.subject}: confirm the escalation"
    assert "No answer yet" in text(sent[0])
    assert not Escalation.objects.exists()
    assert Ticket.objects.get(pk=case.pk).escalation_level == 1
    # And every request is on record, matched or not
    assert [r.ticket_id for r in EscalationRequest.objects.order_by("pk")] == [
        case.pk, None, None]


def test_the_address_is_matched_whatever_its_case(client, contact, case, levels, new_mail):
    new_mail()

    ask(client, case.pk, "  NOOR@GulfNet.Example ")

    assert len(to(new_mail(), contact.email)) == 1


def test_the_emailed_link_confirms_the_escalation_once(client, contact, case, levels, new_mail):
    new_mail()
    ask(client, case.pk, contact.email, "Resolver 2 still lets adult sites through")
    link = link_in(new_mail()[0])
    visitor = Client()

    # When the requester opens the link: a page that says what will happen, and a button
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Confirm escalation" in html(page)
    assert "Resolver 2 still lets adult sites through" in html(page)
    assert not Escalation.objects.exists()

    # When they confirm
    done = visitor.post(link)

    # Then the case is escalated, by its requester, from the portal, with their reason
    assert done.status_code == 200
    assert f"Case {case.pk} is escalated" in html(done)
    escalation = Escalation.objects.get()
    assert (escalation.source, escalation.actor, escalation.reason) == (
        "portal", contact, "Resolver 2 still lets adult sites through")
    assert Ticket.objects.get(pk=case.pk).escalation_level == 2
    assert EscalationRequest.objects.get().used_at is not None
    assert len(to(new_mail(), contact.email)) == 1  # "your case has been escalated"

    # And the link does nothing a second time
    before = changes()
    for replay in (visitor.post(link), Client().get(link)):
        assert replay.status_code == 410
        assert "This link has already been used" in html(replay)
        assert "Nothing has changed." in html(replay)
    assert changes() == before


def test_an_expired_link_is_refused_and_changes_nothing(client, contact, case, levels, new_mail):
    with time_machine.travel(NOON, tick=False) as traveller:
        new_mail()
        ask(client, case.pk, contact.email)
        link = link_in(new_mail()[0])
        before = changes()

        traveller.move_to(NOON + timedelta(hours=24))
        for expired in (Client().get(link), Client().post(link)):
            assert expired.status_code == 410
            assert "This link has expired" in html(expired)
        assert changes() == before

        # Just before, it would still have worked
        traveller.move_to(NOON + timedelta(hours=23, minutes=59))
        assert Client().post(link).status_code == 200


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 300])
def test_a_made_up_or_damaged_link_is_refused(client, contact, case, levels, new_mail, token):
    new_mail()
    ask(client, case.pk, contact.email)
    real = link_in(new_mail()[0])
    before = changes()

    for link in (f"/escalate/confirm/{token}/", real[:-5] + "/"):
        for response in (Client().get(link), Client().post(link)):
            assert response.status_code == 404
            assert "This link is not valid" in html(response)
    assert changes() == before


def test_a_link_for_a_case_closed_meanwhile_says_why_and_works_once_reopened(
    client, contact, case, levels, new_mail
):
    new_mail()
    ask(client, case.pk, contact.email)
    link = link_in(new_mail()[0])
    change_status(case.pk, make_agent(), "closed")
    before = changes()

    page = Client().get(link)
    refused = Client().post(link)

    assert f"Case {case.pk} is closed; reopen it or open a new case." in html(page)
    assert "Confirm escalation" not in html(page)
    assert refused.status_code == 409
    assert changes() == before
    # Once reopened, the same link still works, once
    reopen_by_contact(case.pk, contact)
    assert Client().post(link).status_code == 200
    assert Client().post(link).status_code == 410


def test_visitors_are_limited_per_address(client, contact, levels, new_mail):
    cases = [make_case(contact).ticket for _ in range(6)]
    new_mail()
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        for ticket in cases[:5]:
            ask(client, ticket.pk, contact.email)
        assert len(new_mail()) == 5

        # The sixth within the hour gets the same answer, and nothing is sent
        over = ask(client, cases[5].pk, contact.email)

        assert (over.status_code, over["Location"]) == (303, "/escalate/sent/")
        assert new_mail() == []
        assert EscalationRequest.objects.count() == 5

        traveller.shift(timedelta(hours=1, seconds=1))
        ask(client, cases[5].pk, contact.email)
        assert len(new_mail()) == 1


def test_visitors_are_limited_per_case_but_strangers_cannot_use_it_up(
    client, contact, case, levels, new_mail
):
    new_mail()
    # Strangers' guesses at the address do not count against the case
    for n in range(4):
        ask(client, case.pk, f"guess{n}@example.org")
    for _ in range(3):
        ask(client, case.pk, contact.email)
    assert len(new_mail()) == 3

    over = ask(client, case.pk, contact.email)

    assert over["Location"] == "/escalate/sent/"
    assert new_mail() == []


def test_the_limits_are_settings(client, contact, case, levels, new_mail, settings):
    settings.CASEDESK_ESCALATION_LIMIT_PER_CASE = 1
    new_mail()

    ask(client, case.pk, contact.email)
    ask(client, case.pk, contact.email)

    assert len(new_mail()) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clicks_on_the_link_at_once_escalate_once():
    # Given a requester's confirmation link (made through the widget's own function)
    org = make_org("Gulf Net Two", domains="gulfnet2.example")
    requester = make_contact(org, email="noor@gulfnet2.example")
    case = make_case(requester).ticket
    request_by_visitor(case_id=case.pk, email=requester.email, reason="Slow", ip=None)
    token = "tok-" + secrets.token_urlsafe(16)
    EscalationRequest.objects.filter(ticket=case).update(token_hash=hash_token(token))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        try:
            barrier.wait(timeout=30)
            confirm_request(token)
            outcomes.append("escalated")
        except LinkInvalid:
            outcomes.append("already used")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    # When two requests follow it at the same moment (a double click, two tabs)
    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then exactly one escalates
    assert sorted(outcomes) == ["already used", "escalated"]
    assert Escalation.objects.filter(ticket=case).count() == 1
    assert Ticket.objects.get(pk=case.pk).escalation_level == 2
