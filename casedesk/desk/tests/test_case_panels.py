"""The case page's side panels: CCs (add, remove), related-case links, merging from the
page, the requester's and the organization's other recent cases, and all attachments."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from casedesk.accounts.models import User
from casedesk.conftest import make_case, make_contact, make_org, png_upload
from casedesk.tickets.actions import add_cc, link_cases
from casedesk.tickets.models import CaseLink, Event, Ticket


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("desk:case", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def cc_events(ticket: Ticket) -> list[tuple[str, list[str]]]:
    return [
        (e.kind, e.data["addresses"])
        for e in ticket.events.filter(kind__in=[Event.Kind.CC_ADDED, Event.Kind.CC_REMOVED])
    ]


def page_of_history(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("desk:case", args=[ticket.pk]) + "?history")
    assert response.status_code == 200
    return response.content.decode()


# ------------------------------------------------------------------ CCs


def test_an_agent_copies_addresses_and_removes_one_each_with_an_event(
    agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact).ticket

    response = agent_client.post(
        reverse("desk:cc_add", args=[ticket.pk]),
        {"addresses": "Boss@GulfNet.example, it@gulfnet.example"}, follow=True,
    )
    assert "Copied on the case&#x27;s mail: boss@gulfnet.example, it@gulfnet.example" in (
        response.content.decode()
    )
    ticket.refresh_from_db()
    assert ticket.cc_list() == ["boss@gulfnet.example", "it@gulfnet.example"]

    agent_client.post(reverse("desk:cc_remove", args=[ticket.pk]),
                      {"address": "boss@gulfnet.example"})
    ticket.refresh_from_db()
    assert ticket.cc_list() == ["it@gulfnet.example"]
    assert cc_events(ticket) == [
        ("cc_added", ["boss@gulfnet.example", "it@gulfnet.example"]),
        ("cc_removed", ["boss@gulfnet.example"]),
    ]
    html = page(agent_client, ticket)
    assert "stopped copying boss@gulfnet.example" in html
    assert 'aria-label="Stop copying it@gulfnet.example"' in html


def test_one_invalid_address_adds_none_and_keeps_what_was_typed(
    agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact).ticket

    response = agent_client.post(
        reverse("desk:cc_add", args=[ticket.pk]),
        {"addresses": "boss@gulfnet.example, not-an-address; x@"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Not a valid email address: not-an-address, x@. Nothing was added." in html
    assert 'value="boss@gulfnet.example, not-an-address; x@"' in html
    ticket.refresh_from_db()
    assert ticket.cc_emails == "" and cc_events(ticket) == []


def test_the_requester_a_duplicate_and_an_unknown_removal_are_refused(
    agent: User, agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact).ticket
    add_cc(ticket.pk, agent, "boss@gulfnet.example")

    html = agent_client.post(reverse("desk:cc_add", args=[ticket.pk]),
                             {"addresses": "noor@gulfnet.example"}).content.decode()
    assert "noor@gulfnet.example is the requester" in html
    html = agent_client.post(reverse("desk:cc_add", args=[ticket.pk]),
                             {"addresses": "new@x.example BOSS@gulfnet.example"}).content.decode()
    assert "Already copied: boss@gulfnet.example. Nothing was added." in html
    html = agent_client.post(reverse("desk:cc_remove", args=[ticket.pk]),
                             {"address": "ghost@x.example"}, follow=True).content.decode()
    assert "ghost@x.example is not copied on this case." in html

    ticket.refresh_from_db()
    assert ticket.cc_list() == ["boss@gulfnet.example"]
    assert len(cc_events(ticket)) == 1


# ------------------------------------------------------------------ links


def test_linking_shows_the_case_on_both_pages_and_unlinking_removes_it(
    agent: User, agent_client: Client, contact: User
) -> None:
    one = make_case(contact, subject="Resolver 2 down").ticket
    two = make_case(contact, subject="Resolver 2 slow").ticket

    agent_client.post(reverse("desk:link_add", args=[one.pk]), {"case": f"#{two.pk}"})

    assert CaseLink.objects.get().other(one.pk) == two.pk
    assert f'<li class="linked"><a href="/desk/cases/{two.pk}/">Case {two.pk}</a>' in (
        page(agent_client, one)
    )
    html = page(agent_client, two)
    assert f'<li class="linked"><a href="/desk/cases/{one.pk}/">Case {one.pk}</a>' in html
    assert f"Sam Agent linked related case {one.pk}" in html

    agent_client.post(reverse("desk:link_remove", args=[two.pk]), {"case": one.pk})

    assert not CaseLink.objects.exists()
    for ticket, other in ((one, two), (two, one)):
        kinds = list(ticket.events.filter(kind__in=["linked", "unlinked"])
                     .values_list("kind", "data__other"))
        assert kinds == [("linked", other.pk), ("unlinked", other.pk)]


def test_bad_links_are_refused_with_a_reason(
    agent: User, agent_client: Client, contact: User
) -> None:
    one, two = make_case(contact).ticket, make_case(contact).ticket
    link_cases(one.pk, two.pk, agent)
    url = reverse("desk:link_add", args=[one.pk])

    for typed, message in [
        ("abc", "A Case ID is a number"),
        (str(one.pk), f"Case {one.pk} cannot be linked with itself."),
        ("999999999", "There is no case 999999999."),
        (str(two.pk), f"Cases {one.pk} and {two.pk} are already linked."),
    ]:
        assert message in agent_client.post(url, {"case": typed}).content.decode()
    html = agent_client.post(reverse("desk:link_remove", args=[one.pk]),
                             {"case": "999999999"}, follow=True).content.decode()
    assert "There is no case 999999999." in html
    assert CaseLink.objects.count() == 1
    assert Event.objects.filter(kind__in=["linked", "unlinked"]).count() == 2


# ------------------------------------------------------------------ merging from the page


def test_merging_asks_for_confirmation_then_merges(
    agent_client: Client, contact: User, send_mail: Any
) -> None:
    target = make_case(contact, subject="Keep me").ticket
    source = make_case(contact, subject="Duplicate").ticket
    url = reverse("desk:merge", args=[source.pk])

    preview = agent_client.post(url, {"case": str(target.pk)})
    html = preview.content.decode()
    assert f"Merge case {source.pk} into case {target.pk}?" in html
    assert "1 message moves to case" in html and "0 files move too" in html
    source.refresh_from_db()
    assert source.merged_into_id is None  # nothing happens before confirming

    done = agent_client.post(url, {"case": str(target.pk), "confirm": "yes"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("desk:case", args=[target.pk])
    html = done.content.decode()
    assert f"Case {source.pk} was merged into this case" in html
    assert f'Merged in: <a href="/desk/cases/{source.pk}/?history">Case {source.pk}</a>' in html
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    # And the merged case's own history is still there to read
    html = page_of_history(agent_client, source)
    link = f'<a href="/desk/cases/{target.pk}/">case {target.pk}</a>'
    assert f"This case was merged into {link}" in html
    assert f"Sam Agent merged this case into case {target.pk} (1 message moved)" in html


def test_a_refused_merge_shows_why_on_the_case_page(
    agent_client: Client, contact: User
) -> None:
    source = make_case(contact).ticket

    for typed, message in [
        (str(source.pk), f"Case {source.pk} cannot be merged into itself."),
        ("424242424", "There is no case 424242424."),
        ("12x", "A Case ID is a number"),
    ]:
        response = agent_client.post(reverse("desk:merge", args=[source.pk]),
                                     {"case": typed, "confirm": "yes"})
        assert response.status_code == 200
        assert message in response.content.decode()
    source.refresh_from_db()
    assert source.merged_into_id is None and source.status == Ticket.Status.NEW


# ------------------------------------------------------------------ recent cases, files


def test_the_requesters_and_the_organizations_other_recent_cases_are_listed(
    agent_client: Client, org: Any, contact: User
) -> None:
    colleague = make_contact(org, full_name="Omar Khalil")
    outsider = make_contact(make_org("Atlas"))
    earlier = make_case(contact, subject="Earlier question").ticket
    theirs = make_case(colleague, subject="Colleague question").ticket
    make_case(outsider, subject="Someone else entirely")
    ticket = make_case(contact, subject="Today").ticket

    html = page(agent_client, ticket)

    requester_list = html.split('id="requester-cases"')[1].split("</ul>")[0]
    org_list = html.split('id="org-cases"')[1].split("</ul>")[0]
    assert "Earlier question" in requester_list and f"Case {earlier.pk}" in requester_list
    assert "Today" not in requester_list
    assert "Colleague question" in org_list and f"Case {theirs.pk}" in org_list
    assert "Earlier question" not in org_list
    assert "Someone else entirely" not in html


def test_all_attachments_are_listed_with_where_they_came_from(
    agent_client: Client, contact: User
) -> None:
    ticket = make_case(contact, files=[png_upload("dns-log.png")]).ticket

    html = page(agent_client, ticket)

    files = html.split('id="files"')[1].split("</section>")[0]
    assert "dns-log.png" in files and "Noor Haddad" in files
