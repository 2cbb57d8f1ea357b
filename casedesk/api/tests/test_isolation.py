"""Two partner organizations' contact tokens, each trying every endpoint and method on the
other's cases, messages, attachments and escalations: every answer is the 404 a missing
case gets, and nothing changes."""

from __future__ import annotations

from typing import Any

from casedesk.accounts.models import User
from casedesk.api.tests.conftest import Api, api_for, problem
from casedesk.conftest import make_case, png_upload
from casedesk.escalation.models import Escalation
from casedesk.kb.actions import Text, save_article
from casedesk.kb.models import Category, Section
from casedesk.tickets.models import Attachment, Event, Message, Ticket
from casedesk.webhooks.models import Subscription

MISSING = 999_999_999


def snapshot() -> dict[str, Any]:
    return {
        "cases": list(Ticket.objects.order_by("pk").values()),
        "messages": Message.objects.count(), "attachments": Attachment.objects.count(),
        "escalations": Escalation.objects.count(), "events": Event.objects.count(),
    }


def attempts(case_id: int, attachment_id: int) -> list[tuple[str, str, Any]]:
    """Every endpoint under a case, with every method, and a valid body where one is read."""
    case = f"/api/v1/cases/{case_id}"
    valid = {
        "PATCH": {"status": "closed"}, "POST": {"body": "hi", "reason": "down"},
        "PUT": {"status": "closed"},
    }
    paths = [case, f"{case}/messages", f"{case}/escalations",
             f"{case}/attachments/{attachment_id}"]
    return [(method, path, valid.get(method)) for path in paths
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")]


def send(api: Api, method: str, path: str, data: Any) -> Any:
    import json

    return api.client.generic(method, path, json.dumps(data) if data else "",
                              content_type="application/json",
                              headers={**api.headers, "Idempotency-Key": f"{method}{path}"})


def test_each_organization_sees_nothing_of_the_other(contact: User, atlas_contact: User) -> None:
    gulf_case = make_case(contact, files=[png_upload()]).ticket
    atlas_case = make_case(atlas_contact, files=[png_upload()]).ticket
    for ticket in (gulf_case, atlas_case):
        Escalation.objects.create(ticket=ticket, from_level=1, to_level=2, source="agent",
                                  reason="seeded")
    pairs = [(api_for(contact), atlas_case), (api_for(atlas_contact), gulf_case)]
    before = snapshot()
    for api, theirs in pairs:
        their_file = Attachment.objects.get(ticket=theirs)
        for method, path, data in attempts(theirs.pk, their_file.pk):
            response = send(api, method, path, data)
            missing = send(api, method, path.replace(str(theirs.pk), str(MISSING)), data)
            assert response.status_code == 404, (method, path, response.status_code)
            assert missing.status_code == 404, (method, path, missing.status_code)
            if method != "HEAD":
                body, other = problem(response, 404), problem(missing, 404)
                body.pop("instance"), other.pop("instance")
                assert body == other, (method, path)
        # Their file through one's own case is no better.
        own = gulf_case if theirs is atlas_case else atlas_case
        problem(api.get(f"/api/v1/cases/{own.pk}/attachments/{their_file.pk}"), 404)
        # Nor do lists, filters or search show the other's cases.
        listed = api.get("/api/v1/cases").json()["results"]
        assert [c["case_id"] for c in listed] == [own.pk]
        assert api.get("/api/v1/cases", q="resolver").json()["results"] == [
            c for c in listed if c["case_id"] == own.pk]
        problem(api.get(f"/api/v1/organizations/{theirs.organization_id}"), 404)
        problem(api.get(f"/api/v1/contacts/{theirs.requester_id}"), 404)
    assert snapshot() == before


def test_each_organization_sees_nothing_of_the_others_webhooks(
    settings: Any, contact: User, atlas_contact: User,
) -> None:
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    made = {}
    for user in (contact, atlas_contact):
        response = api_for(user).post("/api/v1/webhooks", {
            "url": f"http://127.0.0.1:9/{user.pk}", "events": ["case.created"]})
        assert response.status_code == 201
        made[user.pk] = response.json()["id"]
    before = list(Subscription.objects.order_by("pk").values())
    for user, other in ((contact, atlas_contact), (atlas_contact, contact)):
        api = api_for(user)
        assert [s["id"] for s in api.get("/api/v1/webhooks").json()["results"]] == [
            made[user.pk]]
        for path in (f"/api/v1/webhooks/{made[other.pk]}",
                     f"/api/v1/webhooks/{made[other.pk]}/deliveries"):
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
                theirs = send(api, method, path, {"url": "https://8.8.8.8/x"})
                missing = send(api, method, path.replace(
                    f"/webhooks/{made[other.pk]}", f"/webhooks/{MISSING}"), None)
                assert theirs.status_code == missing.status_code == 404, (method, path)
        # Nor can one subscribe to the other's cases.
        response = api.post("/api/v1/webhooks", {"url": "https://8.8.8.8/x",
                                                 "events": ["case.created"],
                                                 "organization": other.organization_id})
        problem(response, 400)
    assert list(Subscription.objects.order_by("pk").values()) == before


def test_internal_articles_and_drafts_are_missing_to_contacts(
    contact: User, atlas_contact: User, agent: User,
) -> None:
    category = Category.objects.create(title="Help")
    section = Section.objects.create(category=category, title="Routers")
    for slug, internal, status in (("runbook", True, "published"), ("soon", False, "draft")):
        save_article(by=agent, section=section, texts=[Text("en", f"Router {slug}", "Text.")],
                     status=status, internal=internal, slug=slug)
    for api in (api_for(contact), api_for(atlas_contact)):
        assert api.get("/api/v1/kb/articles").json()["results"] == []
        assert api.get("/api/v1/kb/articles", q="router").json()["results"] == []
        for slug in ("runbook", "soon", "nothing"):
            problem(api.get(f"/api/v1/kb/articles/{slug}"), 404)
