"""/api/v1/organizations: admins create and change them, agents read them all, a contact
reads its own."""

from __future__ import annotations

from typing import Any

import pytest

from casedesk.accounts.models import Organization
from casedesk.api.tests.conftest import Api, fields_of, problem
from casedesk.conftest import make_org

NEW = {"name": "Cedar Schools", "plan": "standard", "domains": ["cedarschools.example"],
       "org_wide_visibility": False, "time_zone": "Asia/Beirut", "language": "ar"}


def test_admin_creates_an_organization(admin_api: Api) -> None:
    response = admin_api.post("/api/v1/organizations", NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    org = Organization.objects.get(pk=body["id"])
    assert response["Location"] == f"/api/v1/organizations/{org.pk}"
    assert org.plan is not None and org.plan.name == "Standard"
    assert org.domain_list() == ["cedarschools.example"] and not org.org_wide_visibility
    assert body == {**NEW, "id": org.pk, "created_at": body["created_at"]}


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "name"), ({"name": "Gulf Net"}, "name"), ({"plan": "gold"}, "plan"),
    ({"domains": ["not a domain"]}, "domains"), ({"time_zone": "Mars/Base"}, "time_zone"),
    ({"language": "fr"}, "language"), ({"org_wide_visibility": "maybe"}, "org_wide_visibility"),
    ({"org_wide_visibility": 1}, "org_wide_visibility"), ({"domains": [7]}, "domains"),
    ({"name": 12.5}, "name"),
])
def test_bad_input_creates_nothing(admin_api: Api, org: Organization, change: dict[str, Any],
                                   field: str) -> None:
    body = problem(admin_api.post("/api/v1/organizations", {**NEW, **change}), 400)
    assert fields_of(body) == {field}
    assert list(Organization.objects.values_list("name", flat=True)) == ["Gulf Net"]


def test_admin_changes_the_plan(admin_api: Api, org: Organization) -> None:
    response = admin_api.patch(f"/api/v1/organizations/{org.pk}", {"plan": "standard"})
    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "standard"
    org.refresh_from_db()
    assert org.plan is not None and org.plan.name == "Standard"


def test_agents_read_but_do_not_write(agent_api: Api, org: Organization) -> None:
    other = make_org("Desert ISP")
    body = agent_api.get("/api/v1/organizations").json()
    assert [o["name"] for o in body["results"]] == ["Gulf Net", "Desert ISP"]
    assert agent_api.get(f"/api/v1/organizations/{other.pk}").json()["name"] == "Desert ISP"
    problem(agent_api.post("/api/v1/organizations", NEW), 403)
    problem(agent_api.patch(f"/api/v1/organizations/{org.pk}", {"name": "Renamed"}), 403)
    org.refresh_from_db()
    assert org.name == "Gulf Net" and not Organization.objects.filter(name="Cedar Schools")


def test_contact_sees_only_its_organization(contact_api: Api, org: Organization,
                                            atlas: Organization) -> None:
    body = contact_api.get("/api/v1/organizations").json()
    assert [o["id"] for o in body["results"]] == [org.pk]
    problem(contact_api.get(f"/api/v1/organizations/{atlas.pk}"), 404)
    problem(contact_api.patch(f"/api/v1/organizations/{atlas.pk}", {"name": "X"}), 404)
    problem(contact_api.patch(f"/api/v1/organizations/{org.pk}", {"name": "X"}), 403)
    problem(contact_api.post("/api/v1/organizations", NEW), 403)


def test_pages(agent_api: Api, org: Organization, django_assert_max_num_queries: Any) -> None:
    for n in range(4):
        make_org(f"Org {n}")
    seen = []
    response = agent_api.get("/api/v1/organizations", page_size="2")
    with django_assert_max_num_queries(6):
        response = agent_api.get("/api/v1/organizations", page_size="2")
    while True:
        seen += [o["name"] for o in response.json()["results"]]
        if response.json()["next"] is None:
            break
        response = agent_api.client.get(response.json()["next"], headers=agent_api.headers)
    assert sorted(seen) == sorted(Organization.objects.values_list("name", flat=True))
