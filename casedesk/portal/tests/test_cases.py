"""A contact's case list: my cases, my organization's cases, filters, search, pages."""

from __future__ import annotations

import re

import pytest

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.portal.tests.helpers import field_html, html
from casedesk.tickets.actions import change_status

CASES = "/cases/"

pytestmark = pytest.mark.django_db


def listed(response) -> list[int]:
    """The Case IDs in the list, in the order shown."""
    return [int(n) for n in re.findall(r'<td class="num"><a href="/cases/(\d+)/">', html(response))]


@pytest.fixture
def team():
    """An owner and a teammate in one organization, and an outsider in another."""
    org = make_org("GulfNet")
    owner = make_contact(org, full_name="Owner Person")
    teammate = make_contact(org, full_name="Teammate Person")
    outsider = make_contact(make_org("OtherNet"), full_name="Outsider Person")
    return org, owner, teammate, outsider


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(CASES)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/signin/?next=/cases/")


def test_my_cases_lists_only_my_own_newest_first(client, team):
    org, owner, teammate, outsider = team
    first = make_case(owner, subject="First").ticket
    second = make_case(owner, subject="Second").ticket
    make_case(teammate, subject="Teammate's")
    make_case(outsider, subject="Outsider's")
    client.force_login(owner)

    response = client.get(CASES)

    assert listed(response) == [second.pk, first.pk]
    assert "Teammate&#x27;s" not in html(response)
    assert "My organization's cases" in html(response)


def test_the_organization_tab_lists_the_whole_organization_but_never_another(client, team):
    org, owner, teammate, outsider = team
    mine = make_case(owner).ticket
    theirs = make_case(teammate, subject="Proxy logs missing").ticket
    foreign = make_case(outsider).ticket
    client.force_login(owner)

    response = client.get(CASES, {"scope": "org"})

    assert listed(response) == [theirs.pk, mine.pk]
    assert foreign.pk not in listed(response)
    assert "Teammate Person" in html(response)
    assert 'aria-current="page">My organization\'s cases' in html(response)


def test_with_the_organization_switch_off_a_contact_sees_only_their_own(client, team):
    org, owner, teammate, outsider = team
    org.org_wide_visibility = False
    org.save()
    mine = make_case(owner).ticket
    make_case(teammate)
    client.force_login(owner)

    response = client.get(CASES, {"scope": "org"})

    assert listed(response) == [mine.pk]
    assert "My organization's cases" not in html(response)


def test_a_contact_set_to_see_the_organization_does_so_even_with_the_switch_off(client, team):
    org, owner, teammate, outsider = team
    org.org_wide_visibility = False
    org.save()
    owner.case_visibility = User.Visibility.ORGANIZATION
    owner.save()
    theirs = make_case(teammate).ticket
    client.force_login(owner)

    response = client.get(CASES, {"scope": "org"})

    assert listed(response) == [theirs.pk]


def test_a_contact_set_to_see_only_their_own_does_not_see_the_organization(client, team):
    org, owner, teammate, outsider = team
    owner.case_visibility = User.Visibility.OWN
    owner.save()
    mine = make_case(owner).ticket
    make_case(teammate)
    client.force_login(owner)

    response = client.get(CASES, {"scope": "org"})

    assert listed(response) == [mine.pk]
    assert "My organization's cases" not in html(response)


def test_filters_by_status_priority_and_requester(client, team):
    org, owner, teammate, outsider = team
    agent = make_agent()
    high = make_case(owner, priority=Priority.HIGH).ticket
    low = make_case(owner, priority=Priority.LOW).ticket
    theirs = make_case(teammate, priority=Priority.LOW).ticket
    change_status(low.pk, agent, "pending")
    client.force_login(owner)

    by_status = client.get(CASES, {"scope": "org", "status": "pending"})
    by_priority = client.get(CASES, {"scope": "org", "priority": "3"})
    by_requester = client.get(CASES, {"scope": "org", "requester": str(teammate.pk)})
    combined = client.get(CASES, {"scope": "mine", "status": "new", "priority": "1"})

    assert listed(by_status) == [low.pk]
    assert listed(by_priority) == [theirs.pk, low.pk]
    assert listed(by_requester) == [theirs.pk]
    assert listed(combined) == [high.pk]
    assert "Teammate Person" in field_html(by_requester, "requester")
    assert "Outsider Person" not in field_html(by_requester, "requester")


def test_the_requester_filter_is_offered_only_on_the_organization_tab(client, team):
    org, owner, teammate, outsider = team
    client.force_login(owner)

    assert 'name="requester"' not in html(client.get(CASES))
    assert 'name="requester"' in html(client.get(CASES, {"scope": "org"}))


def test_a_requester_from_another_organization_cannot_be_used_to_list_their_cases(
    client, team
):
    org, owner, teammate, outsider = team
    make_case(outsider)
    client.force_login(owner)

    response = client.get(CASES, {"scope": "org", "requester": str(outsider.pk)})

    assert listed(response) == []
    assert "Select a valid choice" in field_html(response, "requester")


def test_a_filter_value_that_is_not_a_choice_is_reported_and_ignored(client, team):
    org, owner, teammate, outsider = team
    mine = make_case(owner).ticket
    client.force_login(owner)

    response = client.get(CASES, {"status": "<b>bogus</b>", "priority": "x"})

    assert listed(response) == [mine.pk]
    assert "Select a valid choice" in field_html(response, "status")
    assert "Select a valid choice" in field_html(response, "priority")
    assert "<b>bogus</b>" not in html(response)


def test_search_by_case_id_or_subject(client, team):
    org, owner, teammate, outsider = team
    dns = make_case(owner, subject="DNS resolver down").ticket
    proxy = make_case(teammate, subject="Proxy is slow").ticket
    foreign = make_case(outsider, subject="DNS at the other partner").ticket
    client.force_login(owner)

    by_id = client.get(CASES, {"scope": "org", "q": str(proxy.pk)})
    by_hash_id = client.get(CASES, {"scope": "org", "q": f"#{dns.pk}"})
    by_subject = client.get(CASES, {"scope": "org", "q": "dns"})
    foreign_id = client.get(CASES, {"scope": "org", "q": str(foreign.pk)})

    assert listed(by_id) == [proxy.pk]
    assert listed(by_hash_id) == [dns.pk]
    assert listed(by_subject) == [dns.pk]
    assert listed(foreign_id) == []
    assert "No case matches these filters." in html(foreign_id)


def test_an_empty_list_invites_a_first_ticket(client, team):
    org, owner, teammate, outsider = team
    client.force_login(owner)

    response = client.get(CASES)

    assert "You have not opened a case yet." in html(response)
    assert 'href="/submit/"' in html(response)


def test_the_list_shows_25_a_page_and_keeps_the_filters_across_pages(client, team):
    org, owner, teammate, outsider = team
    ids = [make_case(owner, subject=f"Case {n}").ticket.pk for n in range(27)]
    client.force_login(owner)

    first = client.get(CASES, {"scope": "mine", "status": "new"})
    second = client.get(CASES, {"scope": "mine", "status": "new", "page": "2"})
    beyond = client.get(CASES, {"scope": "mine", "status": "new", "page": "99"})

    assert listed(first) == ids[::-1][:25]
    assert listed(second) == ids[::-1][25:]
    assert listed(beyond) == listed(second)
    assert "Page 1 of 2" in html(first)
    assert 'href="?scope=mine&amp;status=new&amp;page=2"' in html(first)


def test_the_organization_list_needs_few_queries_however_many_cases(
    client, team, django_assert_max_num_queries
):
    org, owner, teammate, outsider = team
    for n in range(30):
        make_case(owner if n % 2 else teammate, subject=f"Case {n}")
    client.force_login(owner)

    # session, user, organization, requester choices, count, page
    with django_assert_max_num_queries(6):
        response = client.get(CASES, {"scope": "org", "q": "Case"})

    assert len(listed(response)) == 25
