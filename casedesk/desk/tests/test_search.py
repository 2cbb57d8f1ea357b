"""The desk's search page: results with highlighted snippets, a Case ID that opens the
case, narrowing by status, pages, and searches that cannot run explained."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casedesk.conftest import make_case
from casedesk.tickets.actions import add_message, change_status
from casedesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db
URL = reverse("desk:search")


def hits(response) -> list[int]:
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'<a class="case-link" href="/desk/cases/(\d+)/">',
                                       response.content.decode())]


def test_results_show_the_case_and_the_matching_passage(agent_client, contact, agent):
    ticket = make_case(contact, subject="Safe search off", description="Since Monday.").ticket
    note = add_message(ticket.pk, agent, "Customer's <script>alert(1)</script> profile "
                       "has safe search disabled", [], internal=True)

    response = agent_client.get(URL, {"q": "disabled profile"})

    html = response.content.decode()
    assert hits(response) == [ticket.pk]
    assert "1 case found, best matches first." in html
    assert (f'<a href="/desk/cases/{ticket.pk}/#m{note.pk}" dir="auto">Customer&#x27;s '
            "&lt;script&gt;alert(1)&lt;/script&gt; <mark>profile</mark> has safe search "
            "<mark>disabled</mark></a>") in html
    assert '<span class="internal-label">Internal note</span>' in html
    assert "<script>alert" not in html
    assert "Noor Haddad &lt;noor@gulfnet.example&gt;" in html


def test_arabic_and_names_are_found(agent_client, contact):
    ticket = make_case(contact, subject="مشكلة في إعدادات المدرسة", description="...").ticket

    assert hits(agent_client.get(URL, {"q": "اعدادات المدرسه"})) == [ticket.pk]
    assert hits(agent_client.get(URL, {"q": "noor haddad"})) == [ticket.pk]


def test_a_case_id_opens_the_case(agent_client, contact):
    ticket = make_case(contact).ticket

    for typed in (str(ticket.pk), f" #{ticket.pk} "):
        response = agent_client.get(URL, {"q": typed})
        assert response.status_code == 302
        assert response["Location"] == reverse("desk:case", args=[ticket.pk])


def test_a_number_that_is_not_a_case_is_searched_as_text(agent_client, contact):
    ticket = make_case(contact, description="Error 4711 on login").ticket

    assert hits(agent_client.get(URL, {"q": "4711"})) == [ticket.pk]
    response = agent_client.get(URL, {"q": "999999999"})
    assert "No case matches “999999999”" in response.content.decode()


def test_status_narrows_the_results(agent_client, contact, agent):
    done = make_case(contact, subject="Portal login loop").ticket
    change_status(done.pk, agent, Ticket.Status.CLOSED)
    live = make_case(contact, subject="Portal login slow").ticket

    assert hits(agent_client.get(URL, {"q": "portal login"})) == [live.pk, done.pk]
    assert hits(agent_client.get(URL, {"q": "portal login", "status": "open"})) == [live.pk]
    assert hits(agent_client.get(URL, {"q": "portal login", "status": "closed"})) == [done.pk]


def test_results_come_in_pages_of_25_at_a_constant_number_of_queries(agent_client, contact):
    tickets = [make_case(contact, subject=f"Router firmware {n}").ticket for n in range(27)]

    with CaptureQueriesContext(connection) as queries:
        first = agent_client.get(URL, {"q": "router firmware"})
    second = agent_client.get(URL, {"q": "router firmware", "page": "2"})

    assert hits(first) == [t.pk for t in reversed(tickets)][:25]
    assert hits(second) == [tickets[1].pk, tickets[0].pk]
    assert 'rel="next"' in first.content.decode() and 'rel="prev"' in second.content.decode()
    # Session and user, then: the ranking, the page's cases, their messages.
    assert len(queries) <= 6, [q["sql"] for q in queries]


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("?!?! ... ###", "Nothing to search for: type a word, a name, an email address or a "
                         "Case ID (punctuation and symbols alone are not searchable)."),
        ("x " * 5000, "A search can be at most 500 characters long (this one has 9,999)."),
        ("", "Type something to search for."),
    ],
)
def test_searches_that_cannot_run_are_explained(agent_client, contact, q, message):
    make_case(contact)

    response = agent_client.get(URL, {"q": q})

    html = response.content.decode()
    assert response.status_code == 200
    assert hits(response) == []
    assert f'<p class="error" role="alert">{message}' in html.replace("&#x27;", "'")


def test_an_empty_page_explains_how_to_search(agent_client):
    response = agent_client.get(URL)

    assert response.status_code == 200
    assert "All words must appear somewhere in the case" in response.content.decode()


def test_every_desk_page_has_the_search_box(agent_client):
    html = agent_client.get(reverse("desk:queue")).content.decode()

    assert '<form class="nav-search" method="get" action="/desk/search/"' in html


def test_customers_and_visitors_cannot_search_the_desk(contact_client, client):
    assert contact_client.get(URL, {"q": "x"})["Location"] == reverse("portal:home")
    assert client.get(URL, {"q": "x"})["Location"].startswith(reverse("accounts:signin"))
