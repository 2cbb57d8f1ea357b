"""The case page: header, requester, the whole thread with notes set apart, files, history."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casedesk.conftest import make_case, make_contact, png_upload
from casedesk.core.choices import Priority
from casedesk.core.files import check_upload
from casedesk.tickets.actions import add_message, assign, change_priority, change_status
from casedesk.tickets.models import Ticket


def page_of(client, ticket: Ticket) -> str:
    response = client.get(reverse("desk:case", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_header_and_the_requester_card_show_who_asked_and_their_plan(
    agent_client, contact
):
    ticket = make_case(contact, subject="DNS 2 lets adult sites through").ticket

    html = page_of(agent_client, ticket)

    assert f"Case {ticket.pk}" in html
    assert "DNS 2 lets adult sites through" in html
    assert '<span class="badge status-new">New</span>' in html
    assert '<span class="badge prio-1">High (Critical)</span>' in html
    assert "Noor Haddad" in html
    assert 'href="mailto:noor@gulfnet.example"' in html
    assert "<dd>Gulf Net</dd>" in html
    assert "Premium" in html
    assert "within 1 hour" in html  # Premium's first response for High


def test_the_organization_name_the_requester_typed_is_shown_when_it_differs(
    agent_client, db
):
    submission = make_case(
        email="walkin@example.org", full_name="Walk In", subject="Hello",
    )
    Ticket.objects.filter(pk=submission.ticket.pk).update(
        organization_name_given="Gulf Net Holdings", requester_phone="+971 4 000 0000"
    )

    html = page_of(agent_client, submission.ticket)

    assert "They typed" in html and "Gulf Net Holdings" in html
    assert 'href="tel:+97140000000"' in html
    assert "Standard" in html and "(default)" in html


def test_the_thread_is_in_order_and_internal_notes_are_set_apart(
    agent, agent_client, contact
):
    ticket = make_case(contact, description="First: the problem.").ticket
    add_message(ticket.pk, agent, "Second: a public answer.", [], channel="agent")
    add_message(ticket.pk, agent, "Third: only for agents.", [], internal=True,
                channel="agent")
    add_message(ticket.pk, contact, "Fourth: the customer again.", [])

    html = page_of(agent_client, ticket)

    positions = [html.index(text) for text in (
        "First: the problem.", "Second: a public answer.", "Third: only for agents.",
        "Fourth: the customer again.",
    )]
    assert positions == sorted(positions)
    assert html.count('class="msg internal"') == 1
    assert html.count("Internal note — not visible to the customer") == 1
    note_at = html.index('class="msg internal"')
    assert note_at < positions[2] < html.index("</li>", note_at)
    assert html.count('class="msg from-agent"') == 1
    assert html.count('class="msg from-customer"') == 2


def test_text_people_typed_is_shown_as_text(agent_client, db):
    ticket = make_case(
        subject="<b>bold</b>", description="<script>alert(1)</script>",
        email="x@example.org",
    ).ticket

    html = page_of(agent_client, ticket)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_the_history_reads_as_sentences(agent, other_agent, agent_client, contact):
    ticket = make_case(contact, priority=Priority.MEDIUM).ticket
    change_status(ticket.pk, agent, "open")
    change_priority(ticket.pk, agent, Priority.HIGH)
    assign(ticket.pk, agent, other_agent)
    assign(ticket.pk, agent, None)
    add_message(ticket.pk, agent, "note", [], internal=True, channel="agent")
    add_message(ticket.pk, agent, "answer", [check_upload(png_upload())], channel="agent")

    html = page_of(agent_client, ticket)

    for sentence in [
        "Noor Haddad created the case via portal",
        "Status: New → Open by Sam Agent",
        "Priority: Medium (Major) → High (Critical) by Sam Agent",
        "Assigned to Lee Other by Sam Agent",
        "Unassigned (was Lee Other) by Sam Agent",
        "Sam Agent added an internal note",
        "Sam Agent replied with 1 attachment",
    ]:
        assert sentence in html


def test_attachments_link_to_files_that_are_served_safely(agent_client, contact):
    ticket = make_case(contact, files=[png_upload("screen.png")]).ticket
    log = SimpleUploadedFile("resolver.log", b"09:00 upstream timeout\n")
    add_message(ticket.pk, contact, "The log", [check_upload(log)])
    image, text = ticket.attachments.order_by("pk")
    html = page_of(agent_client, ticket)
    image_url = reverse("desk:attachment", args=[ticket.pk, image.pk, "screen.png"])
    text_url = reverse("desk:attachment", args=[ticket.pk, text.pk, "resolver.log"])
    assert image_url in html and text_url in html

    shown = agent_client.get(image_url)
    downloaded = agent_client.get(text_url)

    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    # Shown in the page by an <img>; opened on its own, downloaded like any file.
    assert shown["Content-Disposition"].startswith("attachment")
    assert b"".join(shown.streaming_content).startswith(b"\x89PNG")
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert downloaded["Content-Disposition"] == (
        "attachment; filename=\"resolver.log\"; filename*=UTF-8''resolver.log")
    for response in (shown, downloaded):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"


def test_agents_open_files_of_internal_notes_but_customers_do_not(
    agent, agent_client, contact, contact_client
):
    ticket = make_case(contact).ticket
    add_message(ticket.pk, agent, "Trace from our side", [check_upload(png_upload("trace.png"))],
                internal=True, channel="agent")
    attachment = ticket.attachments.get()

    by_agent = agent_client.get(
        reverse("desk:attachment", args=[ticket.pk, attachment.pk, "trace.png"])
    )
    by_customer = contact_client.get(
        reverse("portal:attachment", args=[ticket.pk, attachment.pk, "trace.png"])
    )

    assert by_agent.status_code == 200
    assert by_customer.status_code == 404


def test_an_attachment_of_another_case_or_a_missing_one_is_not_found(agent_client, contact):
    first = make_case(contact, files=[png_upload()]).ticket
    second = make_case(make_contact(), files=[png_upload()]).ticket
    theirs = second.attachments.get()

    assert agent_client.get(
        reverse("desk:attachment", args=[first.pk, theirs.pk, "screenshot.png"])
    ).status_code == 404
    assert agent_client.get(
        reverse("desk:attachment", args=[first.pk, 999999, "screenshot.png"])
    ).status_code == 404


def test_the_case_page_costs_the_same_queries_with_a_long_thread(
    agent, agent_client, contact, django_assert_max_num_queries
):
    ticket = make_case(contact, files=[png_upload()]).ticket
    assign(ticket.pk, agent, agent)
    url = reverse("desk:case", args=[ticket.pk])
    agent_client.get(url)  # the site configuration is cached from now on
    # (15: the session and the agent; the case, its people, organization and category;
    # the thread, its files, the history, the escalations and their people, the names in
    # assignment events; the SLA terms (twice) and the clocks; 5 more for the side panels:
    # the requester's and the organization's recent cases, macros, linked cases, and who
    # else is on the case. Most are fixed statements, cheaper than compiling fewer joins.)
    with django_assert_max_num_queries(20) as short:
        agent_client.get(url)
    for n in range(10):
        note = n % 3 == 0
        author = agent if note or n % 2 else contact
        add_message(ticket.pk, author, f"message {n}", [check_upload(png_upload())],
                    internal=note, channel="agent" if author == agent else "portal")
        assign(ticket.pk, agent, agent if n % 2 else None)

    with django_assert_max_num_queries(len(short.captured_queries)):
        html = page_of(agent_client, ticket)

    assert "message 9" in html
