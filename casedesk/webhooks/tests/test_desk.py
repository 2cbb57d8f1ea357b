"""The desk's webhook pages: admins only; bad input told, nothing saved; the secret shown
once; deliveries listed with what the receiver said; replay from the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.webhooks.delivery import deliver_due
from casedesk.webhooks.fanout import fan_out
from casedesk.webhooks.jobs import replay_delivery
from casedesk.webhooks.models import Delivery, Subscription
from casedesk.webhooks.tests.conftest import Receiver, subscribe


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**fields: Any) -> dict[str, Any]:
    return {"url": "https://8.8.8.8/hooks", "description": "NOC", "events": ["case.created"],
            "organization": "", "is_active": "on", **fields}


def test_an_admin_subscribes_and_sees_the_secret_once(admin: User) -> None:
    client = signed_in(admin)
    org = make_org("Gulfnet Telecom")

    response = client.post(reverse("webhooks:create"), form(
        events=["case.created", "message.created"], organization=org.pk))

    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[subscription.pk])
    assert subscription.url == "https://8.8.8.8/hooks"
    assert subscription.events == ["case.created", "message.created"]
    assert subscription.organization == org and subscription.is_active
    page = client.get(response["Location"]).content.decode()
    assert subscription.secret.startswith("whsec_") and subscription.secret in page
    assert "Gulfnet Telecom" in page
    # Not a second time
    assert subscription.secret not in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("fields", "message"), [
    ({"url": "not a url"}, "must start with https://"),
    ({"url": "https://8.8.8.8:99999/hooks"}, "Enter a valid URL."),
    ({"url": "ftp://8.8.8.8/hooks"}, "must start with https://"),
    ({"url": "https://10.1.2.3/hooks"}, "10.1.2.3, a private, loopback or reserved address"),
    ({"url": "https://169.254.169.254/latest"}, "public addresses only"),
    ({"url": "http://127.0.0.1:8080/hooks"}, "public addresses only"),
    ({"url": "https://[::ffff:192.168.1.1]/hooks"}, "public addresses only"),
    ({"url": "http://8.8.8.8/hooks"}, "Use https://"),
    ({"url": "https://user:pw@8.8.8.8/hooks"}, "user name or password"),
    ({"url": "https://no-such-host.invalid/hooks"}, "could not be resolved"),
    ({"events": []}, "Choose at least one event."),
    ({"events": ["case.deleted"]}, "case.deleted"),
])
def test_bad_input_is_told_and_nothing_is_saved(
    admin: User, fields: dict[str, Any], message: str
) -> None:
    response = signed_in(admin).post(reverse("webhooks:create"), form(**fields))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscription.objects.exists()


def test_loopback_is_accepted_when_the_setting_allows_it(admin: User, settings: Any) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    response = signed_in(admin).post(reverse("webhooks:create"),
                                     form(url="http://127.0.0.1:8080/hooks"))
    assert response.status_code == 302
    # Plain http to a private (not loopback) address still needs its own setting
    response = signed_in(admin).post(reverse("webhooks:create"),
                                     form(url="http://10.1.2.3/hooks"))
    assert response.status_code == 400 and "Use https://" in response.content.decode()
    assert Subscription.objects.count() == 1


def test_editing_checks_the_same_and_keeps_the_old_values_on_error(admin: User) -> None:
    subscription, _secret = subscribe("https://8.8.8.8/a", ["case.created"], admin)
    client = signed_in(admin)
    url = reverse("webhooks:edit", args=[subscription.pk])

    bad = client.post(url, form(url="https://192.168.0.10/a"))
    good = client.post(url, form(url="https://1.1.1.1/b", events=["sla.breached"],
                                 is_active=""))

    assert bad.status_code == 400 and good.status_code == 302
    subscription.refresh_from_db()
    assert subscription.url == "https://1.1.1.1/b"
    assert subscription.events == ["sla.breached"] and not subscription.is_active


def test_rolling_the_secret_shows_the_new_one_once(admin: User) -> None:
    subscription, old = subscribe("https://8.8.8.8/a", ["case.created"], admin)
    client = signed_in(admin)

    response = client.post(reverse("webhooks:secret", args=[subscription.pk]), follow=True)

    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret in response.content.decode()


def test_deleting_asks_then_deletes(admin: User) -> None:
    subscription, _secret = subscribe("https://8.8.8.8/a", ["case.created"], admin)
    client = signed_in(admin)
    url = reverse("webhooks:delete", args=[subscription.pk])

    assert client.get(url).status_code == 200
    assert Subscription.objects.exists()
    assert client.post(url).status_code == 302
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("who", ["agent", "contact", "anonymous"])
def test_only_admins_reach_the_pages(admin: User, who: str) -> None:
    subscription, _secret = subscribe("https://8.8.8.8/a", ["case.created"], admin)
    client = Client()
    if who == "agent":
        client.force_login(make_agent())
    elif who == "contact":
        client.force_login(make_contact(make_org()))
    for url in [reverse("webhooks:list"), reverse("webhooks:create"),
                reverse("webhooks:detail", args=[subscription.pk])]:
        response = client.get(url)
        assert response.status_code == (302 if who == "anonymous" else 404), url
    assert client.post(reverse("webhooks:delete", args=[subscription.pk])).status_code in (
        302 if who == "anonymous" else 404,)
    assert Subscription.objects.exists()


def test_the_desk_lists_deliveries_and_replays_one(
    receiver: Receiver, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a delivery that failed once (500) then succeeded
    subscription, _secret = subscribe(receiver.url, ["case.created"], admin)
    ticket = make_case(make_contact(make_org())).ticket
    receiver.statuses = [500]
    fan_out()
    deliver_due()
    client = signed_in(admin)

    # The subscription's page lists it as pending with the receiver's answer
    page = client.get(reverse("webhooks:detail", args=[subscription.pk])).content.decode()
    delivery = Delivery.objects.get()
    assert "case.created" in page and str(ticket.pk) in page and "500" in page
    assert "Pending" in page
    # and its own page shows the attempt and the body excerpt
    detail = client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert "receiver broke: database is down" in detail and "Retry now" in detail

    # When the admin asks to retry it now, then it is due now and goes out
    client.post(reverse("webhooks:replay", args=[delivery.pk]))
    assert deliver_due()["delivered"] == 1

    # When the admin replays the delivered delivery
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:replay", args=[delivery.pk]))
    assert response.status_code == 302
    # Then a replay job is queued, and running it sends the delivery a third time
    [job] = DBTaskResult.objects.filter(task_path="casedesk.webhooks.jobs.replay_delivery")
    assert job.args_kwargs["args"] == [str(delivery.pk)]
    replay_delivery.call(str(delivery.pk))
    assert len(receiver.requests) == 3
    assert len({r.headers["Casedesk-Delivery"] for r in receiver.requests}) == 1
    detail = client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert "Delivered" in detail and "replay" in detail
