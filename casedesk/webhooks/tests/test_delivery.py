"""Deliveries to a real HTTP receiver on 127.0.0.1: signed as documented, retried after a
failure, in order per case, replayable."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.tickets.actions import add_message, change_priority, change_status
from casedesk.webhooks.delivery import deliver_due, prune, replay
from casedesk.webhooks.fanout import fan_out
from casedesk.webhooks.models import Delivery
from casedesk.webhooks.tests.conftest import Receiver, documented_verify, subscribe

ALL = ["case.created", "case.updated", "message.created", "case.escalated", "sla.warning",
       "sla.breached"]


def later(**delta: Any) -> Any:
    return timezone.now() + timedelta(**delta)


def test_a_delivery_is_signed_as_the_documentation_says(receiver: Receiver, admin: User) -> None:
    # Given a subscription to new cases
    subscription, secret = subscribe(receiver.url, ["case.created"], admin)
    ticket = make_case(make_contact(make_org())).ticket

    # When the worker's jobs run
    fan_out()
    counts = deliver_due()

    # Then the receiver got one POST whose signature the documented snippet accepts
    assert counts["delivered"] == 1
    [request] = receiver.requests
    verify = documented_verify()
    assert verify(secret, request.headers["Casedesk-Signature"], request.body)
    # and refuses with another secret, or a body changed by one byte
    assert not verify(secret + "x", request.headers["Casedesk-Signature"], request.body)
    assert not verify(secret, request.headers["Casedesk-Signature"], request.body + b" ")
    # and the headers and body say what happened to which case
    delivery = Delivery.objects.get()
    assert request.path == "/hooks/casedesk"
    assert request.headers["Casedesk-Event"] == "case.created"
    assert request.headers["Casedesk-Delivery"] == str(delivery.pk)
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "case.created"
    assert body["data"]["case"]["case_id"] == ticket.pk
    assert body["data"]["case"]["subject"] == ticket.subject
    assert body["data"]["case"]["priority"] == "high"
    assert delivery.status == "delivered" and delivery.last_status_code == 200


def test_a_500_is_retried_later_and_the_retry_succeeds(receiver: Receiver, admin: User) -> None:
    # Given a receiver that fails once, then works
    subscribe(receiver.url, ["case.created"], admin)
    make_case(make_contact(make_org()))
    receiver.statuses = [500]
    fan_out()

    # When the first attempt is made
    counts = deliver_due()

    # Then it failed, was recorded with the receiver's answer, and waits for a retry
    assert counts == {"delivered": 0, "retrying": 1, "failed": 0, "skipped": 0}
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code == 500
    [first] = delivery.attempt_log.all()
    assert first.status_code == 500 and not first.succeeded
    assert first.response_excerpt == "receiver broke: database is down"
    # about a minute later (1 minute, give or take the jitter), not at once
    assert later(seconds=47) <= delivery.next_attempt_at <= later(seconds=73)
    assert deliver_due()["delivered"] == 0
    assert len(receiver.requests) == 1

    # When its time comes
    counts = deliver_due(now=later(minutes=2))

    # Then the same delivery (same id, same body) is sent again and succeeds
    assert counts["delivered"] == 1
    first_request, second_request = receiver.requests
    assert first_request.body == second_request.body
    assert (first_request.headers["Casedesk-Delivery"]
            == second_request.headers["Casedesk-Delivery"])
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]


def test_a_cases_events_arrive_in_order_even_when_the_first_needs_retries(
    receiver: Receiver, admin: User
) -> None:
    # Given a case that is opened, answered, reprioritized and put on hold, while the
    # receiver fails the first delivery twice
    subscribe(receiver.url, ALL, admin)
    agent = make_agent()
    ticket = make_case(make_contact(make_org())).ticket
    add_message(ticket.pk, agent, "We are looking at the resolver.", [])
    change_priority(ticket.pk, agent, 3)
    change_status(ticket.pk, agent, "on_hold")
    receiver.statuses = [500, 503]
    fan_out()
    assert Delivery.objects.count() == 5  # created, reply, open (by the reply), priority, hold

    # When the jobs run now, and again after each wait
    deliver_due()
    # Then nothing after the failed first delivery went out
    assert receiver.types() == ["case.created"]
    deliver_due(now=later(minutes=2))
    assert receiver.types() == ["case.created"] * 2
    deliver_due(now=later(minutes=10))

    # Then the receiver saw the case's events once each after the retries, in order
    assert receiver.types() == ["case.created"] * 3 + [
        "message.created", "case.updated", "case.updated", "case.updated"]
    changes = [json.loads(r.body)["data"].get("changes") for r in receiver.requests[4:]]
    assert changes == [{"status": {"old": "new", "new": "open"}},
                       {"priority": {"old": "high", "new": "low"}},
                       {"status": {"old": "open", "new": "on_hold"}}]
    ids = [json.loads(r.body)["id"] for r in receiver.requests[2:]]
    assert ids == sorted(ids)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_other_cases_do_not_wait_for_a_case_whose_delivery_is_retrying(
    receiver: Receiver, admin: User
) -> None:
    subscribe(receiver.url, ["case.created"], admin)
    first = make_case(make_contact(make_org())).ticket
    second = make_case(make_contact(make_org())).ticket
    receiver.statuses = [500]
    fan_out()

    deliver_due()

    # The first case's delivery failed; the second case's went out all the same
    bodies = [json.loads(r.body)["data"]["case"]["case_id"] for r in receiver.requests]
    assert bodies == [first.pk, second.pk]
    assert Delivery.objects.get(ticket=first).status == "pending"
    assert Delivery.objects.get(ticket=second).status == "delivered"


def test_after_the_last_attempt_a_delivery_is_failed_and_the_case_goes_on(
    receiver: Receiver, admin: User, settings: Any
) -> None:
    # Given three attempts at most and a receiver that fails three times
    settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(receiver.url, ALL, admin)
    agent = make_agent()
    ticket = make_case(make_contact(make_org())).ticket
    change_priority(ticket.pk, agent, 2)
    receiver.statuses = [500, 500, 500]
    fan_out()

    # When the attempts run out
    deliver_due()
    deliver_due(now=later(minutes=2))
    deliver_due(now=later(minutes=10))

    # Then the first delivery is failed, with its last answer kept, and the next one of
    # the case is sent
    created = Delivery.objects.get(event_type="case.created")
    assert created.status == "failed" and created.attempts == 3
    assert created.last_status_code == 500 and created.next_attempt_at is None
    assert receiver.types() == ["case.created"] * 3 + ["case.updated"]
    assert Delivery.objects.get(event_type="case.updated").status == "delivered"


def test_replay_sends_the_same_delivery_again_with_a_fresh_signature(
    receiver: Receiver, admin: User
) -> None:
    # Given a delivered delivery
    subscription, secret = subscribe(receiver.url, ["case.created"], admin)
    make_case(make_contact(make_org()))
    fan_out()
    deliver_due()
    delivery = Delivery.objects.get()

    # When an admin replays it
    outcome = replay(delivery.pk)

    # Then the receiver gets the same id and body again, validly signed, and the delivery
    # has a second attempt, marked as a replay
    assert outcome is not None and outcome.succeeded
    original, again = receiver.requests
    assert again.body == original.body
    assert again.headers["Casedesk-Delivery"] == original.headers["Casedesk-Delivery"]
    assert documented_verify()(secret, again.headers["Casedesk-Signature"], again.body)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == "delivered"
    assert [a.replay for a in delivery.attempt_log.all()] == [False, True]


def test_replay_of_a_failed_delivery_that_now_succeeds_marks_it_delivered(
    receiver: Receiver, admin: User, settings: Any
) -> None:
    settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS = 1
    subscribe(receiver.url, ["case.created"], admin)
    make_case(make_contact(make_org()))
    receiver.statuses = [500]
    fan_out()
    deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"

    replay(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.last_status_code == 200
    assert len(receiver.requests) == 2


def test_an_address_refused_at_send_time_is_recorded_and_nothing_is_sent(
    receiver: Receiver, admin: User, settings: Any
) -> None:
    # Given a subscription saved while loopback was allowed, and allowed no longer
    subscribe(receiver.url, ["case.created"], admin)
    make_case(make_contact(make_org()))
    fan_out()
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = False

    deliver_due()

    # Then no request was made and the reason is on the delivery
    assert receiver.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert "127.0.0.1" in delivery.last_error and "public addresses only" in delivery.last_error


def test_a_receiver_that_is_down_is_an_error_to_retry(admin: User, settings: Any) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    from casedesk.mail.tests.conftest import free_port

    subscribe(f"http://127.0.0.1:{free_port()}/down", ["case.created"], admin)
    make_case(make_contact(make_org()))
    fan_out()

    assert deliver_due()["retrying"] == 1

    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error


def test_finished_deliveries_are_pruned_after_the_keeping_days(
    receiver: Receiver, admin: User, settings: Any
) -> None:
    settings.CASEDESK_WEBHOOK_KEEP_DAYS = 30
    subscribe(receiver.url, ["case.created"], admin)
    make_case(make_contact(make_org()))
    make_case(make_contact(make_org()))
    receiver.statuses = [200, 500]
    fan_out()
    deliver_due()
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["delivered",
                                                                           "pending"]

    assert prune(now=later(days=29)) == 0
    prune(now=later(days=31))

    # The delivered one went (with its attempt); the one still to retry stays
    assert list(Delivery.objects.values_list("status", flat=True)) == ["pending"]
