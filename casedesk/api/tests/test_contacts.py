"""/api/v1/contacts: agents create, read and change contacts; a contact reads itself (and
its colleagues when it sees its organization's cases)."""

from __future__ import annotations

from typing import Any

import pytest

from casedesk.accounts.models import Organization, User
from casedesk.api.tests.conftest import Api, api_for, fields_of, problem
from casedesk.conftest import make_contact

NEW = {"email": "Omar@GulfNet.example", "name": "Omar Said", "phone": "+971 4 555 0100",
       "language": "ar"}


def test_agent_creates_a_contact(agent_api: Api, org: Organization) -> None:
    response = agent_api.post("/api/v1/contacts", {**NEW, "organization": org.pk})
    assert response.status_code == 201, response.content
    user = User.objects.get(email="omar@gulfnet.example")
    assert user.role == User.Role.CONTACT and user.organization == org
    assert not user.has_usable_password()  # invited with their first case, as on the portal
    assert response.json()["email"] == "omar@gulfnet.example"
    assert response["Location"] == f"/api/v1/contacts/{user.pk}"


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "nope"}, "email"), ({"email": "noor@gulfnet.example"}, "email"),
    ({"name": " "}, "name"), ({"organization": 999}, "organization"),
    ({"language": "fr"}, "language"), ({"phone": "1" * 41}, "phone"),
    # JSON's types as the schema gives them: DRF alone would store 135 as "135".
    ({"name": 135}, "name"), ({"organization": "1"}, "organization"),
    ({"organization": True}, "organization"), ({"phone": ["+971"]}, "phone"),
])
def test_bad_input_creates_nothing(agent_api: Api, contact: User, change: dict[str, Any],
                                   field: str) -> None:
    before = User.objects.count()
    body = problem(agent_api.post("/api/v1/contacts", {**NEW, **change}), 400)
    assert fields_of(body) == {field}
    assert User.objects.count() == before


def test_agent_changes_a_contact(agent_api: Api, contact: User, atlas: Organization) -> None:
    response = agent_api.patch(f"/api/v1/contacts/{contact.pk}",
                               {"name": "Noor H.", "organization": atlas.pk})
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.full_name == "Noor H." and contact.organization == atlas
    body = problem(agent_api.patch(f"/api/v1/contacts/{contact.pk}", {"email": "x@y.example"}),
                   400)
    assert fields_of(body) == {"email"}


def test_agents_are_not_contacts(agent_api: Api, agent: User) -> None:
    problem(agent_api.get(f"/api/v1/contacts/{agent.pk}"), 404)


def test_contact_reads_itself_and_colleagues(contact: User, org: Organization,
                                             atlas_contact: User) -> None:
    colleague = make_contact(org)
    api = api_for(contact)
    listed = [c["id"] for c in api.get("/api/v1/contacts").json()["results"]]
    assert listed == [contact.pk, colleague.pk]
    problem(api.get(f"/api/v1/contacts/{atlas_contact.pk}"), 404)
    problem(api.post("/api/v1/contacts", NEW), 403)
    problem(api.patch(f"/api/v1/contacts/{contact.pk}", {"name": "Me"}), 403)
    org.org_wide_visibility = False
    org.save()
    listed = [c["id"] for c in api_for(contact).get("/api/v1/contacts").json()["results"]]
    assert listed == [contact.pk]


def test_filter_by_email(agent_api: Api, contact: User, atlas_contact: User) -> None:
    body = agent_api.get("/api/v1/contacts", email="LINA@atlasbb.example").json()
    assert [c["id"] for c in body["results"]] == [atlas_contact.pk]


def test_list_queries_are_few(agent_api: Api, org: Organization,
                              django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        make_contact(org)
    with django_assert_max_num_queries(5):
        assert len(agent_api.get("/api/v1/contacts").json()["results"]) == 5
