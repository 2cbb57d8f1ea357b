"""The queue filters' choices are kept per process (casedesk.desk.choices): read once, read
again after a change, and a value the kept choices do not know yet is looked up anew."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casedesk.accounts.models import Organization, User
from casedesk.conftest import make_agent, make_org


def organization_queries(client, params=None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("desk:queue"), params or {})
    assert response.status_code == 200
    read = [q for q in context.captured_queries if 'FROM "accounts_organization"' in q["sql"]
            and "ORDER BY" in q["sql"]]
    return len(read), response.content.decode()


def test_the_choices_are_read_once_then_kept(agent_client) -> None:
    make_org(name="Kept Org")
    first, html = organization_queries(agent_client)
    again, _html = organization_queries(agent_client)
    assert (first, again) == (1, 0)
    assert "Kept Org" in html


def test_a_renamed_organization_shows_at_the_next_page(agent_client) -> None:
    org = make_org(name="Old Name")
    organization_queries(agent_client)
    org.name = "New Name"
    org.save()
    read, html = organization_queries(agent_client)
    assert read == 1
    assert "New Name" in html and "Old Name" not in html


def test_a_new_agent_shows_in_the_assignee_filter(agent_client) -> None:
    organization_queries(agent_client)
    make_agent(full_name="Brand New Agent")
    _read, html = organization_queries(agent_client)
    assert "Brand New Agent" in html


def test_a_sign_in_does_not_read_them_again(agent_client, agent) -> None:
    organization_queries(agent_client)
    User.objects.get(pk=agent.pk).save(update_fields=["last_login"])
    read, _html = organization_queries(agent_client)
    assert read == 0


def test_an_organization_added_without_a_signal_filters_at_once(agent_client) -> None:
    organization_queries(agent_client)
    # bulk_create sends no post_save: the kept choices do not know this organization.
    [org] = Organization.objects.bulk_create([Organization(name="Bulk Org")])
    _read, html = organization_queries(agent_client, {"organization": str(org.pk)})
    assert "Select a valid choice" not in html and "is not one of" not in html
    assert f'<option value="{org.pk}" selected>Bulk Org</option>' in html
