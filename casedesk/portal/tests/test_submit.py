"""The portal's case form: validation of every field, the success path, the confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casedesk.accounts.models import Invitation, User
from casedesk.conftest import PNG_BYTES, make_contact, make_org, png_upload
from casedesk.mail.models import OutboundMail
from casedesk.portal.tests.helpers import (
    ELF_BYTES,
    EXE_BYTES,
    field_html,
    html,
    snapshot,
    stored_files,
)
from casedesk.tickets.models import Category, Ticket

SUBMIT = "/submit/"
NOTHING = {
    "tickets": 0, "messages": 0, "attachments": 0, "events": 0, "mails": 0, "files": 0,
}

pytestmark = pytest.mark.django_db


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "full_name": "Noor Haddad",
        "email": "noor@gulfnet.example",
        "organization_name": "GulfNet",
        "phone": "+971 4 555 0101",
        "subject": "Filtering stopped on DNS 2",
        "category": str(Category.objects.filter(is_active=True).values_list("pk", flat=True)[0]),
        "priority": "1",
        "description": "Since 09:00 the second resolver lets blocked sites through.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def assert_nothing_stored(users_before: int) -> None:
    state = snapshot()
    assert {k: v for k, v in state.items() if k != "users"} == NOTHING
    assert state["users"] == users_before
    assert stored_files() == []


def submit_confirmation_url(response) -> str:
    assert response.status_code in (302, 303)
    return response["Location"]


# --- the form -----------------------------------------------------------------------------


def test_the_form_flags_required_fields_and_shows_each_priority_with_the_default_plan(client):
    response = client.get(SUBMIT)

    assert response.status_code == 200
    for name in ("full_name", "email", "subject", "category", "description"):
        assert '<span class="req" aria-hidden="true">*</span>' in field_html(response, name)
    for name in ("organization_name", "phone", "attachments"):
        assert 'class="req"' not in field_html(response, name)
    priority = field_html(response, "priority")
    assert 'class="req"' in priority
    assert "High (Critical)" in priority
    assert "prevents operation of critical functions" in priority
    assert "Standard: response within 2 hours" in priority
    assert "Standard: response within 96 hours" in priority
    assert re.search(r'<input type="file" name="attachments"[^>]* multiple', html(response))
    assert 'enctype="multipart/form-data"' in html(response)


def test_only_active_categories_are_offered(client):
    Category.objects.create(name="Retired product", is_active=False)

    response = client.get(SUBMIT)

    assert "Retired product" not in field_html(response, "category")
    assert Category.objects.filter(is_active=True).first().name in field_html(response, "category")


def test_the_form_page_is_cheap_and_gives_an_anonymous_visitor_no_session(
    client, django_assert_max_num_queries
):
    client.get(SUBMIT)  # the site configuration is read once, then cached

    with django_assert_max_num_queries(2):
        response = client.get(SUBMIT)

    assert response.status_code == 200
    assert "sessionid" not in response.cookies


# --- bad input: each stores nothing --------------------------------------------------------


def test_missing_fields_are_reported_beside_each_field_and_typed_values_are_kept(client):
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(
        full_name="", email="", category="", priority=None, description="",
        subject="Resolver 2 down",
    ))

    assert response.status_code == 200
    for name in ("full_name", "email", "category", "priority", "description"):
        assert "This field is required." in field_html(response, name), name
    assert 'value="Resolver 2 down"' in field_html(response, "subject")
    assert 'value="GulfNet"' in field_html(response, "organization_name")
    assert 'value="+971 4 555 0101"' in field_html(response, "phone")
    assert "Please check the fields marked below." in html(response)
    assert_nothing_stored(users)


def test_a_typed_priority_and_description_survive_an_error_elsewhere(client):
    response = client.post(SUBMIT, form_data(email="", priority="3", description="Typed text"))

    assert 'value="3" required id="id_priority_2" checked' in field_html(response, "priority")
    assert "Typed text</textarea>" in field_html(response, "description")


def test_an_address_that_is_not_one_is_refused(client):
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(email="noor-at-gulfnet"))

    assert "Enter a valid email address." in field_html(response, "email")
    assert 'value="noor-at-gulfnet"' in field_html(response, "email")
    assert_nothing_stored(users)


def test_a_subject_over_200_characters_is_refused(client):
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(subject="x" * 201))

    assert "at most 200 characters (it has 201)" in field_html(response, "subject")
    assert_nothing_stored(users)


def test_a_priority_or_category_that_is_not_offered_is_refused(client):
    inactive = Category.objects.create(name="Retired", is_active=False)
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(priority="9", category=str(inactive.pk)))

    assert "Select a valid choice" in field_html(response, "priority")
    assert "Select a valid choice" in field_html(response, "category")
    assert_nothing_stored(users)


def test_a_zero_byte_file_is_refused(client):
    users = User.objects.count()
    empty = SimpleUploadedFile("empty.png", b"", content_type="image/png")

    response = client.post(SUBMIT, form_data(attachments=[empty]))

    assert "“empty.png” is empty (0 bytes)" in field_html(response, "attachments")
    assert_nothing_stored(users)


def test_a_file_over_the_size_limit_is_refused(client, settings):
    settings.CASEDESK_MAX_ATTACHMENT_BYTES = 40
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(attachments=[png_upload("big.png")]))

    assert len(PNG_BYTES) > 40
    assert "“big.png” is" in field_html(response, "attachments")
    assert "each file may be at most 40" in field_html(response, "attachments")
    assert_nothing_stored(users)


@pytest.mark.parametrize("content", [EXE_BYTES, ELF_BYTES], ids=["windows", "linux"])
def test_an_executable_named_png_is_refused(client, content):
    users = User.objects.count()
    disguised = SimpleUploadedFile("screenshot.png", content, content_type="image/png")

    response = client.post(SUBMIT, form_data(attachments=[png_upload("ok.png"), disguised]))

    errors = field_html(response, "attachments")
    assert "“screenshot.png” does not contain what its name says (.png)" in errors
    assert_nothing_stored(users)


def test_more_files_than_allowed_are_refused(client, settings):
    settings.CASEDESK_MAX_ATTACHMENTS = 2
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(
        attachments=[png_upload("a.png"), png_upload("b.png"), png_upload("c.png")]
    ))

    assert "Attach at most 2 files at once; you chose 3." in field_html(response, "attachments")
    assert_nothing_stored(users)


def test_after_an_error_the_visitor_is_told_to_choose_the_files_again(client):
    response = client.post(SUBMIT, form_data(email="", attachments=[png_upload()]))

    assert "choose your attachments again" in html(response)


def test_html_and_script_in_any_field_are_shown_as_text(client):
    script = '<script>alert("x")</script>'
    users = User.objects.count()

    response = client.post(SUBMIT, form_data(
        email="", full_name=script, organization_name=script, phone=script[:40],
        subject=script, description=script,
    ))

    page = html(response)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in field_html(response, "subject")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</textarea>" in page
    assert_nothing_stored(users)


def test_html_in_a_submitted_case_is_shown_as_text_on_the_confirmation(client):
    response = client.post(SUBMIT, form_data(subject="<b>bold</b> <img src=x onerror=alert(1)>"))

    page = html(client.get(submit_confirmation_url(response)))
    assert "&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page


# --- the success path ----------------------------------------------------------------------


def test_an_anonymous_visitor_submits_with_two_screenshots_and_sees_the_case_id(
    client, send_mail
):
    org = make_org(plan="Premium", domains="gulfnet.example")

    response = client.post(SUBMIT, form_data(
        attachments=[png_upload("before.png"), png_upload("after.png")]
    ))

    ticket = Ticket.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith("/submitted/")
    assert ticket.pk == 100001
    assert ticket.subject == "Filtering stopped on DNS 2"
    assert ticket.priority == 1
    assert ticket.organization == org
    assert ticket.organization_name_given == "GulfNet"
    assert ticket.requester_phone == "+971 4 555 0101"
    assert ticket.requester.email == "noor@gulfnet.example"
    assert ticket.requester.full_name == "Noor Haddad"
    assert ticket.channel == "portal"
    assert sorted(a.filename for a in ticket.attachments.all()) == ["after.png", "before.png"]
    assert len(stored_files()) == 2
    # No session was started for the visitor.
    assert Session.objects.count() == 0
    assert "sessionid" not in response.cookies

    page = client.get(response["Location"])

    text = html(page)
    assert page.status_code == 200
    assert '<p class="big-id">100001</p>' in text
    assert "Filtering stopped on DNS 2" in text
    assert "High (Critical)" in text
    assert "within 1 hour (Premium plan)" in text
    # The address is isolated (<bdi>) so it reads left to right inside Arabic text too.
    assert (
        "We emailed an acknowledgement to <strong><bdi>noor@gulfnet.example</bdi></strong>"
        in text
    )
    assert "We also sent you an invitation to create your account" in text
    mails = send_mail()
    ack = next(m for m in mails if m["Subject"] == "[Case #100001] Filtering stopped on DNS 2")
    assert "Case ID:   100001" in ack.get_content()
    assert any(m["Subject"] == "Your invitation to the support portal" for m in mails)


def test_the_invitation_is_sent_only_for_an_address_without_an_account(client):
    first = client.post(SUBMIT, form_data(email="new@example.org"))
    second = client.post(SUBMIT, form_data(email="NEW@example.org", subject="Second case"))
    make_contact(email="known@example.org")
    third = client.post(SUBMIT, form_data(email="known@example.org", subject="Third"))

    assert "we also sent you an invitation" in html(client.get(first["Location"])).lower()
    assert "invitation" not in html(client.get(second["Location"])).lower()
    assert "invitation" not in html(client.get(third["Location"])).lower()
    assert Invitation.objects.count() == 1
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.INVITATION).count() == 1
    assert User.objects.filter(email="new@example.org").count() == 1
    assert Ticket.objects.count() == 3


def test_a_signed_in_contact_is_not_asked_for_name_and_email(client):
    org = make_org(plan="Premium")
    contact = make_contact(org, phone="+44 20 7946 0000")
    client.force_login(contact)

    form = client.get(SUBMIT)
    response = client.post(SUBMIT, form_data(full_name=None, email=None, organization_name=None))

    page = html(form)
    assert 'name="full_name"' not in page
    assert 'name="email"' not in page
    assert 'name="organization_name"' not in page
    assert f"Submitting as <strong>{contact.full_name}</strong>" in page
    assert 'value="+44 20 7946 0000"' in field_html(form, "phone")
    assert "Premium: response within 1 hour" in field_html(form, "priority")
    assert response.status_code == 303
    ticket = Ticket.objects.get()
    assert ticket.requester == contact
    assert ticket.organization == org
    assert Invitation.objects.count() == 0
    assert User.objects.count() == 1
    confirmation = html(client.get(response["Location"]))
    assert f'href="{reverse("portal:case", args=[ticket.pk])}"' in confirmation
    assert "invitation" not in confirmation.lower()


def test_a_signed_in_contact_ignores_a_posted_email(client):
    contact = make_contact(make_org())
    client.force_login(contact)

    client.post(SUBMIT, form_data(email="someone-else@example.org", full_name="Mallory"))

    assert Ticket.objects.get().requester == contact
    assert not User.objects.filter(email="someone-else@example.org").exists()


def test_the_submission_itself_stays_within_a_small_query_budget(
    client, django_assert_max_num_queries
):
    # A known requester: the view's share is the categories and the plan's targets; the
    # rest is the submission action's own work (case, message, event, mail).
    client.post(SUBMIT, form_data())
    data = form_data(subject="Again")

    with django_assert_max_num_queries(16):
        response = client.post(SUBMIT, data)

    assert response.status_code == 303


# --- the confirmation page -----------------------------------------------------------------


def test_a_tampered_confirmation_link_is_a_404(client):
    response = client.post(SUBMIT, form_data())
    token = response["Location"].split("/")[2]
    forged = signing.dumps(Ticket.objects.get().pk, salt="another.salt")

    assert client.get(f"/submitted/{token}x/").status_code == 404
    assert client.get(f"/submitted/{forged}/").status_code == 404
    assert client.get("/submitted/100001/").status_code == 404


def test_a_confirmation_link_expires_after_an_hour(client):
    response = client.post(SUBMIT, form_data())
    url = response["Location"]

    with time_machine.travel(timedelta(minutes=59), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(timedelta(minutes=61), tick=False):
        expired = client.get(url)

    assert expired.status_code == 404
    assert "Not found" in html(expired)


def test_the_confirmation_shows_the_case_id_large_and_nothing_else_of_the_account(client):
    client.post(SUBMIT, form_data())
    response = client.post(SUBMIT, form_data(subject="Second"))

    page = html(client.get(response["Location"]))

    assert re.search(r'<p class="big-id">100002</p>', page)
    # Anonymous: no link to the case page (it needs a sign-in), no other case's subject.
    assert "/cases/100002/" not in page
    assert "Filtering stopped on DNS 2" not in page
