"""/api/v1/webhooks: partner organizations subscribe to their own cases with a contact's
token; admins manage every subscription. Two organizations and a real HTTP receiver show
that one never hears of the other's cases; bad input and other people's subscriptions
change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from casedesk.accounts.models import Organization, User
from casedesk.api.tests.conftest import Api, api_for, fields_of, problem
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.tickets.actions import add_message, change_status
from casedesk.webhooks.actions import ORGANIZATION_LIMIT
from casedesk.webhooks.delivery import deliver_due
from casedesk.webhooks.fanout import fan_out
from casedesk.webhooks.models import Delivery, Subscription
from casedesk.webhooks.tests.conftest import Receiver, documented_verify, serving

HOOKS = "/api/v1/webhooks"
@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """The webhooks tests' real HTTP receiver on 127.0.0.1."""
    with serving(settings) as found:
        yield found


EVERY = ["case.created", "case.updated", "message.created", "case.escalated", "sla.warning",
         "sla.breached"]


def subscribe(api: Api, url: str, events: list[str] | None = None, **extra: Any) -> Any:
    return api.post(HOOKS, {"url": url, "events": events or EVERY, **extra})


def test_two_organizations_each_hear_only_of_their_own_cases(
    receiver: Receiver, org: Organization, contact: User, atlas: Organization,
    atlas_contact: User, agent: User,
) -> None:
    # Given each organization's contact subscribed its own system to every event
    made = {}
    for api, path in ((api_for(contact), "gulf"), (api_for(atlas_contact), "atlas")):
        response = subscribe(api, receiver.url + "/" + path)
        assert response.status_code == 201, response.content
        made[path] = response.json()
    assert made["gulf"]["organization"] == org.pk
    assert made["atlas"]["organization"] == atlas.pk

    # When both organizations' cases change (a new case, replies, an internal note, a
    # status change) and the worker's jobs run
    gulf_case = make_case(contact).ticket
    atlas_case = make_case(atlas_contact, subject="Atlas: BGP session flapping").ticket
    add_message(atlas_case.pk, agent, "Looking at the BGP session now.", [])
    add_message(atlas_case.pk, agent, "Internal: their router is a Zyxel-9000.", [], internal=True)
    add_message(gulf_case.pk, agent, "Which resolver?", [])
    change_status(atlas_case.pk, agent, "pending")
    fan_out()
    deliver_due()

    # Then each system got its own organization's events, and not one of the other's
    by_path: dict[str, list[dict[str, Any]]] = {"gulf": [], "atlas": []}
    for request in receiver.requests:
        by_path[request.path.rsplit("/", 1)[1]].append(json.loads(request.body))
        secret = made[request.path.rsplit("/", 1)[1]]["secret"]
        assert documented_verify()(secret, request.headers["Casedesk-Signature"], request.body)
    assert {b["data"]["case"]["case_id"] for b in by_path["gulf"]} == {gulf_case.pk}
    assert {b["data"]["case"]["case_id"] for b in by_path["atlas"]} == {atlas_case.pk}
    assert {b["data"]["case"]["organization"]["id"] for b in by_path["atlas"]} == {atlas.pk}
    atlas_types = [b["type"] for b in by_path["atlas"]]
    # The reply, not the internal note; the status changes (the reply's and ours).
    assert atlas_types[0] == "case.created" and atlas_types.count("message.created") == 1
    assert "case.updated" in atlas_types
    assert "Atlas" not in json.dumps(by_path["gulf"])
    assert "BGP" not in json.dumps(by_path["gulf"]) and "Zyxel" not in json.dumps(by_path["atlas"])

    # And each sees its own deliveries, and not the other's
    atlas_api = api_for(atlas_contact)
    listed = atlas_api.get(made["atlas"]["deliveries_url"]).json()["results"]
    assert [d["type"] for d in listed] == list(reversed(atlas_types))
    assert {d["status"] for d in listed} == {"delivered"}
    assert {d["last_status_code"] for d in listed} == {200}
    problem(atlas_api.get(made["gulf"]["deliveries_url"]), 404)


def test_a_contact_manages_the_organizations_subscriptions_not_anothers(
    contact: User, org: Organization, atlas_contact: User, settings: Any,
) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    mine = api_for(contact)
    created = subscribe(mine, "http://127.0.0.1:9/gulf", ["case.created"],
                        description=" NOC ").json()
    assert created["secret"].startswith("whsec_") and created["description"] == "NOC"
    # A colleague who also sees every case manages it too; the secret is never shown again.
    colleague = api_for(make_contact(org))
    [listed] = colleague.get(HOOKS).json()["results"]
    assert listed["id"] == created["id"] and "secret" not in listed
    assert colleague.get(f"{HOOKS}/{created['id']}").json()["url"] == "http://127.0.0.1:9/gulf"

    # Another organization's contact: the same 404 as for a missing subscription, for
    # every method, and nothing changes.
    theirs = api_for(atlas_contact)
    assert theirs.get(HOOKS).json()["results"] == []
    missing = 999_999
    for method in ("GET", "DELETE", "PATCH", "PUT", "POST"):
        for template in (HOOKS + "/{}", HOOKS + "/{}/deliveries"):
            path = template.format(created["id"])
            found = problem(theirs.client.generic(method, path, headers=theirs.headers), 404)
            absent = problem(theirs.client.generic(method, template.format(missing),
                                                   headers=theirs.headers), 404)
            assert found["detail"] == absent["detail"], (method, path)
    assert Subscription.objects.filter(pk=created["id"]).exists()

    # Deleting it stops it: the next case is sent to nobody.
    assert mine.delete(f"{HOOKS}/{created['id']}").status_code == 204
    assert not Subscription.objects.exists()
    make_case(contact)
    fan_out()
    assert not Delivery.objects.exists()
    problem(mine.delete(f"{HOOKS}/{created['id']}"), 404)


def test_who_may_not_manage_webhooks_is_told_so(settings: Any, agent: User) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    # A contact who sees only their own cases would hear of their colleagues' through a
    # subscription: refused, as are a contact of no organization and a non-admin agent.
    own_only = make_contact(make_org(org_wide_visibility=False))
    nobody = make_contact(None)
    for user in (own_only, nobody, agent):
        api = api_for(user)
        body = problem(api.get(HOOKS), 403)
        assert "webhooks" in body["detail"]
        problem(subscribe(api, "http://127.0.0.1:9/x"), 403)
    assert not Subscription.objects.exists()


def test_an_admin_manages_every_subscription_and_may_make_global_ones(
    settings: Any, contact: User, org: Organization,
) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    theirs = subscribe(api_for(contact), "http://127.0.0.1:9/gulf").json()
    admin = api_for(make_agent(is_staff=True))
    everything = subscribe(admin, "http://127.0.0.1:9/all", ["case.created"],
                           organization=None).json()
    assert everything["organization"] is None
    scoped = subscribe(admin, "http://127.0.0.1:9/one", organization=org.pk).json()
    assert {s["id"] for s in admin.get(HOOKS).json()["results"]} == {
        theirs["id"], everything["id"], scoped["id"]}
    # The organization sees the subscriptions for its cases, not the global one.
    assert {s["id"] for s in api_for(contact).get(HOOKS).json()["results"]} == {
        theirs["id"], scoped["id"]}
    body = problem(subscribe(admin, "http://127.0.0.1:9/x", organization=999_999), 400)
    assert fields_of(body) == {"organization"}


@pytest.mark.parametrize(("data", "field"), [
    ({"url": "http://127.0.0.1:8000/hook"}, "url"),  # loopback, not allowed by default
    ({"url": "https://10.1.2.3/hook"}, "url"),
    ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),
    ({"url": "https://[::ffff:127.0.0.1]/hook"}, "url"),
    ({"url": "https://no-such-host.invalid/hook"}, "url"),
    ({"url": "ftp://example.org/hook"}, "url"),
    ({"url": "https://user:pw@8.8.8.8/hook"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https://8.8.8.8/" + "a" * 2000}, "url"),
    ({"events": []}, "events"),
    ({"events": ["case.deleted"]}, "events"),
    ({"events": "case.created"}, "events"),
    ({"organization": 999_999}, "organization"),
    ({"description": "x" * 201}, "description"),
])
def test_bad_subscriptions_are_refused_and_nothing_is_made(
    contact: User, atlas: Organization, data: dict[str, Any], field: str
) -> None:
    request = {"url": "https://8.8.8.8/hook", "events": ["case.created"], **data}
    if data.get("organization") == 999_999:
        request["organization"] = atlas.pk  # another organization's id
    body = problem(api_for(contact).post(HOOKS, request), 400)
    assert field in fields_of(body), body
    assert not Subscription.objects.exists()


def test_form_bodies_are_refused(contact: User) -> None:
    api = api_for(contact)
    problem(api.post(HOOKS, {"url": "https://8.8.8.8/h", "events": "case.created"},
                     multipart=True), 415)
    assert not Subscription.objects.exists()


def test_an_organization_has_a_bounded_number_of_subscriptions(
    settings: Any, contact: User
) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    api = api_for(contact)
    for n in range(ORGANIZATION_LIMIT):
        assert subscribe(api, f"http://127.0.0.1:9/{n}").status_code == 201
    body = problem(subscribe(api, "http://127.0.0.1:9/one-more"), 400)
    assert fields_of(body) == {"organization"}
    assert Subscription.objects.count() == ORGANIZATION_LIMIT


def test_the_same_idempotency_key_makes_one_subscription(settings: Any, contact: User) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    api = api_for(contact)
    data = {"url": "http://127.0.0.1:9/h", "events": ["case.created"]}
    first = api.post(HOOKS, data, key="noc-1")
    again = api.post(HOOKS, data, key="noc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Subscription.objects.count() == 1


def test_deliveries_filters_and_pages(receiver: Receiver, contact: User) -> None:
    api = api_for(contact)
    made = subscribe(api, receiver.url, ["case.created"]).json()
    receiver.statuses = [500]
    for _ in range(3):
        make_case(contact)
    fan_out()
    deliver_due()
    url = made["deliveries_url"]
    pending = api.get(url, status="pending").json()["results"]
    assert len(pending) == 1 and pending[0]["last_status_code"] == 500
    assert pending[0]["next_attempt_at"] is not None
    seen = []
    response = api.get(url, page_size="2")
    while True:
        seen += response.json()["results"]
        if response.json()["next"] is None:
            break
        response = api.client.get(response.json()["next"], headers=api.headers)
    assert len(seen) == 3 and len({d["id"] for d in seen}) == 3
    assert [d["event"] for d in seen] == sorted((d["event"] for d in seen), reverse=True)
    assert fields_of(problem(api.get(url, status="lost"), 400)) == {"status"}
    assert fields_of(problem(api.get(url, since="yesterday"), 400)) == {"since"}


def test_a_manager_changes_a_subscription_in_part_and_bad_changes_change_nothing(
    receiver: Receiver, contact: User, atlas_contact: User,
) -> None:
    api = api_for(contact)
    made = subscribe(api, receiver.url + "/noc", ["case.created"], description="NOC").json()
    url = f"{HOOKS}/{made['id']}"

    # Only what is given changes; the answer is the subscription as it now is.
    changed = api.patch(url, {"events": ["message.created", "case.created"],
                              "description": "NOC, night shift"})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["events"] == ["case.created", "message.created"]
    assert body["description"] == "NOC, night shift" and body["url"] == receiver.url + "/noc"
    assert "secret" not in body

    # Refused, each with the field named, and the subscription unchanged.
    before = Subscription.objects.values().get(pk=made["id"])
    for data, field in (
        ({"event": ["case.created"]}, "event"),  # misspelt: not silently ignored
        ({"organization": None}, "organization"),
        ({}, "body"),
        ({"events": []}, "events"),
        ({"events": ["case.deleted"]}, "events"),
        ({"url": "ftp://example.org/hook"}, "url"),
        ({"url": "https://8.8.8.8/x", "is_active": "perhaps"}, "is_active"),
    ):
        assert field in fields_of(problem(api.patch(url, data), 400)), data
    problem(api.client.patch(url, "[1]", content_type="application/json",
                             headers=api.headers), 400)
    assert Subscription.objects.values().get(pk=made["id"]) == before
    # Another organization's contact: the same 404 as for a missing one.
    problem(api_for(atlas_contact).patch(url, {"is_active": False}), 404)

    # Paused: the next case is not sent; active again: the one after is.
    assert api.patch(url, {"is_active": False}).json()["is_active"] is False
    make_case(contact, subject="While paused")
    fan_out()
    deliver_due()
    assert receiver.requests == []
    api.patch(url, {"is_active": True})
    make_case(contact, subject="After the pause")
    fan_out()
    deliver_due()
    sent = [json.loads(r.body)["data"]["case"]["subject"] for r in receiver.requests]
    assert sent == ["After the pause"]


def test_rolling_the_secret_signs_the_next_delivery_with_the_new_one_only(
    receiver: Receiver, contact: User, atlas_contact: User,
) -> None:
    api = api_for(contact)
    made = subscribe(api, receiver.url, ["case.created"]).json()
    rolled = api.post(f"{HOOKS}/{made['id']}/secret", key="roll-1")
    assert rolled.status_code == 200, rolled.content
    secret = rolled.json()["secret"]
    assert secret.startswith("whsec_") and secret != made["secret"]
    # A retry with the same key gets the same secret back; it is not rolled again.
    again = api.post(f"{HOOKS}/{made['id']}/secret", key="roll-1")
    assert again.json() == {"secret": secret} and again["Idempotent-Replayed"] == "true"
    assert "secret" not in api.get(f"{HOOKS}/{made['id']}").json()
    problem(api_for(atlas_contact).post(f"{HOOKS}/{made['id']}/secret"), 404)
    assert Subscription.objects.get(pk=made["id"]).secret == secret

    make_case(contact)
    fan_out()
    deliver_due()
    [request] = receiver.requests
    verify = documented_verify()
    assert verify(secret, request.headers["Casedesk-Signature"], request.body)
    assert not verify(made["secret"], request.headers["Casedesk-Signature"], request.body)


def test_a_manager_replays_a_delivery_of_their_own_subscription(
    receiver: Receiver, contact: User, atlas_contact: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from casedesk.webhooks.jobs import replay_delivery

    api = api_for(contact)
    made = subscribe(api, receiver.url, ["case.created"]).json()
    receiver.statuses = [500]
    make_case(contact)
    fan_out()
    deliver_due()
    delivery = Delivery.objects.get()
    replay_url = f"{HOOKS}/{made['id']}/deliveries/{delivery.pk}/replay"

    # Waiting for its next attempt: made due now, and the worker sends it.
    due = api.post(replay_url)
    assert due.status_code == 202, due.content
    assert due.json()["result"] == "due" and due.json()["delivery"]["id"] == str(delivery.pk)
    assert deliver_due()["delivered"] == 1

    # Delivered: sent once more by a job, with the same delivery id.
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(replay_url)
    assert queued.json()["result"] == "queued"
    replay_delivery.call(str(delivery.pk))
    assert len(receiver.requests) == 3
    assert len({r.headers["Casedesk-Delivery"] for r in receiver.requests}) == 1

    # Another organization's contact, or a delivery that is not this subscription's: 404.
    problem(api_for(atlas_contact).post(replay_url), 404)
    other = subscribe(api, receiver.url + "/other", ["case.created"]).json()
    problem(api.post(f"{HOOKS}/{other['id']}/deliveries/{delivery.pk}/replay"), 404)
    problem(api.post(f"{HOOKS}/{made['id']}/deliveries/not-a-uuid/replay"), 404)
    assert len(receiver.requests) == 3
