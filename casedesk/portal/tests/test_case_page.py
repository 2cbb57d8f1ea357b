"""A case on the portal: its public thread, replying, closing and reopening, and who may."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.files import check_upload
from casedesk.mail.models import OutboundMail
from casedesk.portal.tests.helpers import (
    EXE_BYTES,
    field_html,
    html,
    snapshot,
    without_csrf,
)
from casedesk.tickets.actions import add_message, assign, change_status
from casedesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    """An owner and a teammate in one organization, an outsider in another, and a case."""
    org = make_org("GulfNet")
    owner = make_contact(org, full_name="Owner Person")
    teammate = make_contact(org, full_name="Teammate Person")
    outsider = make_contact(make_org("OtherNet"))
    case = make_case(owner, subject="Filtering stopped", files=[png_upload("dns.png")]).ticket
    return owner, teammate, outsider, case


def url(case: Ticket | int, action: str = "") -> str:
    pk = case.pk if isinstance(case, Ticket) else case
    return f"/cases/{pk}/{action + '/' if action else ''}"


# --- reading -------------------------------------------------------------------------------


def test_the_case_page_shows_the_case_and_its_public_thread(client, team):
    owner, teammate, outsider, case = team
    agent = make_agent(full_name="Samir Khalil")
    assign(case.pk, agent, agent)
    add_message(case.pk, agent, "Please send the resolver logs.", [])
    client.force_login(owner)

    response = client.get(url(case))

    page = html(response)
    assert response.status_code == 200
    assert "<h1>Filtering stopped</h1>" in page
    assert f"Case ID {case.pk}" in page
    assert '<span class="badge status-open">Open</span>' in page
    assert '<span class="badge prio-1">High (Critical)</span>' in page
    assert "Owner Person" in page
    assert "GulfNet" in page
    assert case.category.name in page
    assert "<dt>Engineer</dt><dd>Samir</dd>" in page
    assert "Khalil" not in page
    assert "Since 09:00 the second resolver" in page
    assert "Please send the resolver logs." in page
    assert 'class="msg from-agent"' in page
    attachment = case.attachments.get()
    link = f"/cases/{case.pk}/files/{attachment.pk}/dns.png"
    assert f'<img src="{link}"' in page


def test_internal_notes_never_reach_the_portal(client, team):
    owner, teammate, outsider, case = team
    agent = make_agent()
    note = add_message(
        case.pk, agent, "Customer's firewall is misconfigured, do not say so yet.",
        [check_upload(png_upload("internal.png"))], internal=True,
    )
    client.force_login(owner)

    page = html(client.get(url(case)))

    assert "firewall is misconfigured" not in page
    assert "internal.png" not in page
    assert f"msg-{note.pk}" not in page
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.REPLY).count() == 0


def test_a_teammate_opens_an_organization_case(client, team):
    owner, teammate, outsider, case = team
    client.force_login(teammate)

    assert client.get(url(case)).status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in(client, team):
    owner, teammate, outsider, case = team

    response = client.get(url(case))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/signin/?next=/cases/{case.pk}/"


def test_an_agent_is_sent_to_the_desk(client, team):
    owner, teammate, outsider, case = team
    client.force_login(make_agent())

    response = client.get(url(case))

    assert response.status_code == 302
    assert response["Location"] == f"/desk/cases/{case.pk}/"


def test_a_case_id_that_is_not_a_number_is_a_404(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)

    for bad in ("abc", "10000x", "-1", "1e5", "%20"):
        response = client.get(f"/cases/{bad}/")
        assert response.status_code == 404, bad
        assert "Not found" in html(response)


# --- the same 404 for a foreign case as for a missing one ----------------------------------


@pytest.mark.parametrize("method,action", [
    ("get", ""), ("post", "reply"), ("post", "close"), ("post", "reopen"), ("get", "reply"),
])
def test_another_organizations_case_answers_exactly_like_a_missing_one(
    client, team, method, action
):
    owner, teammate, outsider, case = team
    client.force_login(outsider)
    before = snapshot()
    status = case.status

    foreign = getattr(client, method)(url(case, action), {"body": "Let me in"})
    missing = getattr(client, method)(url(999999, action), {"body": "Let me in"})

    assert foreign.status_code == missing.status_code == 404
    assert without_csrf(foreign) == without_csrf(missing)
    assert snapshot() == before
    assert Ticket.objects.get(pk=case.pk).status == status


def test_with_the_organization_switch_off_a_teammates_case_is_a_404(client, team):
    owner, teammate, outsider, case = team
    org = owner.organization
    org.org_wide_visibility = False
    org.save()
    client.force_login(teammate)

    assert client.get(url(case)).status_code == 404


# --- replying ------------------------------------------------------------------------------


def test_a_reply_with_an_attachment_joins_the_public_thread(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)

    response = client.post(url(case, "reply"), {
        "body": "Logs attached.", "attachments": [png_upload("logs.png")],
    })

    message = Message.objects.filter(ticket=case).last()
    assert response.status_code == 303
    assert response["Location"] == f"{url(case)}#msg-{message.pk}"
    assert message.body == "Logs attached."
    assert message.kind == Message.Kind.PUBLIC
    assert message.channel == "portal"
    assert message.author == owner
    assert [a.filename for a in message.attachments.all()] == ["logs.png"]
    page = html(client.get(response["Location"]))
    assert "Your reply was added." in page
    assert "Logs attached." in page


def test_a_reply_to_a_closed_case_reopens_it(client, team):
    owner, teammate, outsider, case = team
    change_status(case.pk, make_agent(), "closed")
    client.force_login(teammate)

    response = client.post(url(case, "reply"), {"body": "It is back."}, follow=True)

    assert Ticket.objects.get(pk=case.pk).status == "open"
    assert "Your reply was added and the case is open again." in html(response)


def test_html_in_a_reply_is_shown_as_text(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)

    client.post(url(case, "reply"), {"body": "<script>alert(1)</script><b>x</b>"})

    page = html(client.get(url(case)))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page
    assert "<script>alert(1)" not in page


def test_an_empty_reply_is_refused_beside_the_field(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)
    before = snapshot()

    response = client.post(url(case, "reply"), {"body": "  "})

    assert response.status_code == 200
    assert "This field is required." in field_html(response, "body")
    assert "Your reply was not sent." in html(response)
    assert snapshot() == before


def test_a_reply_with_a_bad_file_stores_nothing_and_keeps_the_text(client, team, settings):
    owner, teammate, outsider, case = team
    settings.CASEDESK_MAX_ATTACHMENTS = 2
    client.force_login(owner)
    before = snapshot()
    disguised = SimpleUploadedFile("photo.png", EXE_BYTES, content_type="image/png")
    empty = SimpleUploadedFile("empty.txt", b"")

    bad_content = client.post(url(case, "reply"), {"body": "See file", "attachments": [disguised]})
    zero = client.post(url(case, "reply"), {"body": "See file", "attachments": [empty]})
    too_many = client.post(url(case, "reply"), {
        "body": "See files", "attachments": [png_upload("a.png"), png_upload("b.png"),
                                             png_upload("c.png")],
    })

    assert "does not contain what its name says" in field_html(bad_content, "attachments")
    assert "See file</textarea>" in field_html(bad_content, "body")
    assert "choose your attachments again" in html(bad_content)
    assert "is empty (0 bytes)" in field_html(zero, "attachments")
    assert "Attach at most 2 files" in field_html(too_many, "attachments")
    assert snapshot() == before


# --- closing and reopening ------------------------------------------------------------------


def test_the_requester_closes_and_reopens_a_case(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)

    page = html(client.get(url(case)))
    closed = client.post(url(case, "close"), follow=True)
    after_close = Ticket.objects.get(pk=case.pk).status
    reopened = client.post(url(case, "reopen"), follow=True)

    assert f'action="/cases/{case.pk}/close/"' in page
    assert f'action="/cases/{case.pk}/reopen/"' not in page
    assert after_close == "closed"
    assert f"Case {case.pk} is closed." in html(closed)
    assert f'action="/cases/{case.pk}/reopen/"' in html(closed)
    assert Ticket.objects.get(pk=case.pk).status == "open"
    assert f"Case {case.pk} is open again." in html(reopened)
    kinds = list(case.events.values_list("kind", "data__new"))
    assert kinds[-2:] == [("status", "closed"), ("status", "open")]


def test_closing_a_closed_case_says_so_and_changes_nothing(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)
    client.post(url(case, "close"))
    events = case.events.count()

    response = client.post(url(case, "close"), follow=True)

    assert f"Case {case.pk} is already closed." in html(response)
    assert case.events.count() == events


def test_close_needs_a_post(client, team):
    owner, teammate, outsider, case = team
    client.force_login(owner)

    response = client.get(url(case, "close"))

    assert response.status_code == 303
    assert Ticket.objects.get(pk=case.pk).status == "new"


def test_the_case_page_needs_few_queries_whatever_the_thread(
    client, team, django_assert_max_num_queries
):
    owner, teammate, outsider, case = team
    agent = make_agent()
    for n in range(8):
        add_message(case.pk, agent if n % 2 else owner, f"Message {n}",
                    [check_upload(png_upload(f"{n}.png"))])
    client.force_login(owner)

    # session, user, the user's organization (visibility), case, thread with authors, files,
    # escalation history (with its levels' names), the SLA clocks and their events, and the
    # SLA terms' token the clocks' plans are kept under (casedesk.sla.terms)
    with django_assert_max_num_queries(10):
        response = client.get(url(case))

    assert html(response).count('class="msg ') == 9
