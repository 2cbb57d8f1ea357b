"""/api/v1/cases and /api/v1/cases/{case_id}: opening, listing, reading and changing cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.accounts.models import Organization, User
from casedesk.api.tests.conftest import Api, api_for, fields_of, problem
from casedesk.conftest import make_agent, make_case, make_contact, png_upload
from casedesk.core.choices import Priority
from casedesk.tickets.actions import change_status, merge_cases
from casedesk.tickets.models import Attachment, Event, Ticket

NEW_CASE = {
    "requester_email": "omar@gulfnet.example", "subject": "BGP session down at POP 3",
    "description": "Since 02:10 the session to AS64500 flaps every minute.",
    "priority": "high",
}


def test_agent_opens_a_case_for_a_new_requester(agent_api: Api, org: Organization) -> None:
    response = agent_api.post("/api/v1/cases", NEW_CASE)
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["case_id"])
    assert response["Location"] == f"/api/v1/cases/{ticket.pk}"
    assert ticket.channel == Ticket.Channel.API and ticket.priority == Priority.HIGH
    assert ticket.requester.email == "omar@gulfnet.example"
    assert ticket.organization == org  # joined by its email domain, as on the portal
    assert body["requester"] == "omar@gulfnet.example" and body["priority"] == "high"
    assert body["status"] == "new" and body["organization"] == org.pk
    assert ticket.events.filter(kind=Event.Kind.CREATED).count() == 1
    # Premium plan, high priority: a first-response clock is running.
    first = body["sla"]["first_response"]
    assert first["due_at"] and first["met_at"] is None and first["paused"] is False
    assert set(body["sla"]) == {"first_response", "next_response", "resolution"}


def test_contact_opens_a_case_for_itself(contact_api: Api, contact: User) -> None:
    data = {k: v for k, v in NEW_CASE.items() if k != "requester_email"}
    response = contact_api.post("/api/v1/cases", data)
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(pk=response.json()["case_id"]).requester == contact


def test_contact_cannot_open_a_case_for_someone_else(contact_api: Api) -> None:
    body = problem(contact_api.post("/api/v1/cases", NEW_CASE), 400)
    assert fields_of(body) == {"requester_email"}
    assert not Ticket.objects.exists()


def test_an_empty_form_field_is_refused_as_json_would_refuse_it(contact_api: Api) -> None:
    # A form body with an empty requester_email: not taken for a field left out
    data = {**NEW_CASE, "requester_email": "", "phone": ""}
    body = problem(contact_api.post("/api/v1/cases", data, multipart=True), 400)
    assert fields_of(body) == {"requester_email"}
    assert "may not be blank" in body["errors"][0]["message"]
    assert not Ticket.objects.exists()
    # The fields that may be empty still may be (phone), and left out it is the contact's own
    del data["requester_email"]
    assert contact_api.post("/api/v1/cases", data, multipart=True).status_code == 201


@pytest.mark.parametrize(("change", "field"), [
    ({"subject": ""}, "subject"),
    ({"subject": "x" * 201}, "subject"),
    ({"description": ""}, "description"),
    ({"priority": "urgent"}, "priority"),
    ({"priority": None}, "priority"),
    ({"requester_email": "not an address"}, "requester_email"),
    ({"requester_email": None}, "requester_email"),
    ({"category": 999}, "category"),
    ({"requester_email": "sam@casedesk.example"}, "requester_email"),  # an agent
])
def test_bad_input_opens_nothing(agent_api: Api, change: dict[str, Any], field: str) -> None:
    body = problem(agent_api.post("/api/v1/cases", {**NEW_CASE, **change}), 400)
    assert field in fields_of(body)
    assert all(error["message"] for error in body["errors"])
    assert not Ticket.objects.exists()


def test_not_json_is_refused_clearly(agent_api: Api) -> None:
    response = agent_api.client.post("/api/v1/cases", "{not json", content_type="application/json",
                                     headers=agent_api.headers)
    problem(response, 400)
    response = agent_api.client.post("/api/v1/cases", "x", content_type="text/plain",
                                     headers=agent_api.headers)
    problem(response, 415)
    assert not Ticket.objects.exists()


def test_attachments_by_multipart_upload(agent_api: Api) -> None:
    response = agent_api.post("/api/v1/cases", {**NEW_CASE, "attachments": [png_upload()]},
                              multipart=True)
    assert response.status_code == 201, response.content
    stored = Attachment.objects.get()
    assert stored.ticket_id == response.json()["case_id"] and stored.filename == "screenshot.png"


def test_a_file_that_is_not_what_it_says_opens_nothing(agent_api: Api) -> None:
    fake = SimpleUploadedFile("screenshot.png", b"MZ\x90\x00 not a picture", "image/png")
    body = problem(agent_api.post("/api/v1/cases", {**NEW_CASE, "attachments": [fake]},
                                  multipart=True), 400)
    assert fields_of(body) == {"attachments"}
    assert "does not contain what its name says" in body["errors"][0]["message"]
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


# ---------------------------------------------------------------- reading


def test_read_a_case(agent_api: Api, contact: User) -> None:
    ticket = make_case(contact).ticket
    body = agent_api.get(f"/api/v1/cases/{ticket.pk}").json()
    assert body["case_id"] == ticket.pk and body["subject"] == ticket.subject
    assert body["requester"] == contact.email and body["escalation_level"] == 1
    assert body["channel"] == "portal" and body["merged_into"] is None


def test_missing_case_is_a_problem_404(agent_api: Api) -> None:
    problem(agent_api.get("/api/v1/cases/999999"), 404)
    problem(agent_api.get("/api/v1/cases/abc"), 404)
    problem(agent_api.get("/api/v1/nothing-here"), 404)


def test_merged_case_redirects_to_the_surviving_case(
    agent: User, agent_api: Api, contact_api: Api, contact: User
) -> None:
    old = make_case(contact, subject="Old").ticket
    new = make_case(contact, subject="New").ticket
    merge_cases(old.pk, new.pk, agent)
    for api in (agent_api, contact_api):
        response = api.get(f"/api/v1/cases/{old.pk}")
        assert response.status_code == 308
        assert response["Location"] == f"/api/v1/cases/{new.pk}"
        response = api.get(f"/api/v1/cases/{old.pk}/messages")
        assert response.status_code == 308
        assert response["Location"] == f"/api/v1/cases/{new.pk}/messages"


# ---------------------------------------------------------------- the list


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [case["case_id"] for case in response.json()["results"]]


def test_agent_lists_every_case_newest_first(
    agent_api: Api, contact: User, atlas_contact: User
) -> None:
    first = make_case(contact).ticket
    second = make_case(atlas_contact).ticket
    assert ids(agent_api.get("/api/v1/cases")) == [second.pk, first.pk]


def test_contact_lists_only_its_organizations_cases(
    contact_api: Api, contact: User, atlas_contact: User, org: Organization
) -> None:
    colleague = make_contact(org)
    mine = make_case(contact).ticket
    theirs = make_case(colleague).ticket
    make_case(atlas_contact)
    assert ids(contact_api.get("/api/v1/cases")) == [theirs.pk, mine.pk]


def test_contact_who_sees_only_own_cases(contact: User, org: Organization) -> None:
    org.org_wide_visibility = False
    org.save()
    mine = make_case(contact).ticket
    make_case(make_contact(org))
    assert ids(api_for(contact).get("/api/v1/cases")) == [mine.pk]


def test_filters(agent: User, agent_api: Api, contact: User, atlas_contact: User,
                 atlas: Organization) -> None:
    high = make_case(contact, priority=Priority.HIGH).ticket
    low = make_case(atlas_contact, priority=Priority.LOW).ticket
    change_status(low.pk, agent, Ticket.Status.PENDING)
    assert ids(agent_api.get("/api/v1/cases", priority="low")) == [low.pk]
    assert ids(agent_api.get("/api/v1/cases", status="pending")) == [low.pk]
    assert ids(agent_api.get("/api/v1/cases", status="new")) == [high.pk]
    assert ids(agent_api.get("/api/v1/cases", organization=str(atlas.pk))) == [low.pk]
    assert ids(agent_api.get("/api/v1/cases", plan="premium")) == [high.pk]
    assert ids(agent_api.get("/api/v1/cases", assignee="none")) == [low.pk, high.pk]
    assert ids(agent_api.get("/api/v1/cases", assignee="me")) == []
    assert ids(agent_api.get("/api/v1/cases", sort="priority")) == [high.pk, low.pk]


@pytest.mark.parametrize("params", [
    {"status": "lost"}, {"priority": "urgent"}, {"assignee": "nobody@example.com"},
    {"organization": "x"}, {"plan": "gold"}, {"channel": "fax"}, {"sort": "random"},
    {"created_from": "yesterday"}, {"page_size": "0"}, {"cursor": "garbage"},
    {"q": "!!!"},
])
def test_bad_filters_say_which(agent_api: Api, params: dict[str, str]) -> None:
    body = problem(agent_api.get("/api/v1/cases", **params), 400)
    assert fields_of(body) == set(params)


def test_contact_cannot_use_agent_filters(contact_api: Api) -> None:
    body = problem(contact_api.get("/api/v1/cases", assignee="me"), 400)
    assert fields_of(body) == {"assignee"}


def test_cursor_pages_walk_every_case_once(agent_api: Api, contact_api: Api,
                                           contact: User) -> None:
    made = [make_case(contact, subject=f"Case {n}").ticket.pk for n in range(5)]
    for api in (agent_api, contact_api):
        seen: list[int] = []
        response = api.get("/api/v1/cases", page_size="2")
        while True:
            seen += ids(response)
            following = response.json()["next"]
            if following is None:
                break
            assert following.startswith("http://testserver/api/v1/cases?")
            response = api.client.get(following, headers=api.headers)
        assert seen == list(reversed(made))


def test_cursor_of_other_filters_is_refused(agent_api: Api, contact: User) -> None:
    for _ in range(3):
        make_case(contact)
    following = agent_api.get("/api/v1/cases", page_size="1").json()["next"]
    cursor = following.partition("cursor=")[2].partition("&")[0]
    body = problem(agent_api.get("/api/v1/cases", cursor=cursor, status="new",
                                 page_size="1"), 400)
    assert fields_of(body) == {"cursor"}


def test_full_text_search(agent_api: Api, contact_api: Api, contact: User,
                          atlas_contact: User) -> None:
    wanted = make_case(contact, description="The resolver answers SERVFAIL for dnssec zones").ticket
    make_case(contact, description="Nothing to see")
    make_case(atlas_contact, description="Atlas sees SERVFAIL too")
    assert ids(agent_api.get("/api/v1/cases", q="servfail dnssec")) == [wanted.pk]
    # A contact's search stays within what the contact may see.
    assert ids(contact_api.get("/api/v1/cases", q="servfail")) == [wanted.pk]


def test_list_queries_do_not_grow_with_the_page(
    agent_api: Api, contact_api: Api, contact: User, django_assert_max_num_queries: Any
) -> None:
    make_case(contact)
    for api in (agent_api, contact_api):
        api.get("/api/v1/cases")  # warm caches (levels, site configuration)
        with django_assert_max_num_queries(10) as few:
            ids(api.get("/api/v1/cases"))
        for n in range(6):
            make_case(contact, subject=f"More {n}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(ids(api.get("/api/v1/cases"))) >= 7


# ---------------------------------------------------------------- changing


def test_agent_changes_status_priority_and_assignee(agent: User, agent_api: Api,
                                                    contact: User) -> None:
    other = make_agent(email="lee@casedesk.example")
    ticket = make_case(contact).ticket
    response = agent_api.patch(f"/api/v1/cases/{ticket.pk}", {
        "status": "open", "priority": "low", "assignee": other.email,
    })
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["assignee"]) == ("open", "low", other.email)
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {Event.Kind.STATUS, Event.Kind.PRIORITY, Event.Kind.ASSIGNEE} <= kinds
    response = agent_api.patch(f"/api/v1/cases/{ticket.pk}", {"assignee": None})
    assert response.json()["assignee"] is None


@pytest.mark.parametrize(("data", "field"), [
    ({"status": "lost"}, "status"), ({"priority": 2}, "priority"),
    ({"assignee": "omar@gulfnet.example"}, "assignee"), ({"assignee": "x"}, "assignee"),
])
def test_agent_bad_change_changes_nothing(agent_api: Api, contact: User, data: dict[str, Any],
                                          field: str) -> None:
    ticket = make_case(contact).ticket
    before = ticket.events.count()
    body = problem(agent_api.patch(f"/api/v1/cases/{ticket.pk}",
                                   {"status": "open", **data}), 400)
    assert field in fields_of(body)
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.events.count() == before


def test_contact_closes_and_reopens(contact_api: Api, contact: User) -> None:
    ticket = make_case(contact).ticket
    assert contact_api.patch(f"/api/v1/cases/{ticket.pk}", {"status": "closed"}).json()[
        "status"] == "closed"
    assert contact_api.patch(f"/api/v1/cases/{ticket.pk}", {"status": "open"}).json()[
        "status"] == "open"
    body = problem(contact_api.patch(f"/api/v1/cases/{ticket.pk}", {"priority": "low"}), 400)
    assert fields_of(body) == {"priority"}
    body = problem(contact_api.patch(f"/api/v1/cases/{ticket.pk}", {"status": "pending"}), 400)
    assert fields_of(body) == {"status"}


def test_unknown_address_and_unsupported_method_are_problems(agent_api: Api,
                                                            contact: User) -> None:
    ticket = make_case(contact).ticket
    problem(agent_api.post("/api/v1/nothing", {}), 404)  # no CSRF page for API clients
    problem(agent_api.delete(f"/api/v1/cases/{ticket.pk}"), 405)
    problem(agent_api.delete("/api/v1/cases/999999"), 404)
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_unknown_query_parameters_are_refused(agent_api: Api, contact: User) -> None:
    make_case(contact)
    body = problem(agent_api.get("/api/v1/cases", stauts="open"), 400)
    assert fields_of(body) == {"stauts"}


def test_too_many_files_is_a_problem_not_a_crash(agent_api: Api) -> None:
    files = [png_upload(f"f{n}.png") for n in range(101)]
    problem(agent_api.post("/api/v1/cases", {**NEW_CASE, "attachments": files},
                           multipart=True), 400)
    assert not Ticket.objects.exists()


def test_empty_parameter_and_odd_addresses(agent_api: Api) -> None:
    body = problem(agent_api.get("/api/v1/cases?priority="), 400)
    assert fields_of(body) == {"priority"}
    problem(agent_api.get("/api/v1/cases/%0A12/escalations"), 404)


def test_a_change_is_json(agent_api: Api, contact: User) -> None:
    ticket = make_case(contact).ticket
    response = agent_api.client.patch(f"/api/v1/cases/{ticket.pk}", "status=open",
                                      content_type="application/x-www-form-urlencoded",
                                      headers=agent_api.headers)
    problem(response, 415)
    problem(agent_api.patch(f"/api/v1/cases/{ticket.pk}", 5), 400)
    ticket.refresh_from_db()
    assert ticket.status == "new"
