"""Downloading a case's files from the portal: who may, and how they are sent."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.conftest import PNG_BYTES, make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.files import check_upload
from casedesk.portal.tests.helpers import PDF_BYTES, without_csrf
from casedesk.tickets.actions import add_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    org = make_org("GulfNet")
    owner = make_contact(org)
    teammate = make_contact(org)
    outsider = make_contact(make_org("OtherNet"))
    case = make_case(owner, files=[
        png_upload("screen shot.png"),
        SimpleUploadedFile("report.pdf", PDF_BYTES, content_type="application/pdf"),
        SimpleUploadedFile("page.txt", b"<script>alert(1)</script>", content_type="text/html"),
    ]).ticket
    return owner, teammate, outsider, case


def file_url(case, attachment, name: str | None = None) -> str:
    return f"/cases/{case.pk}/files/{attachment.pk}/{name or attachment.filename}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_image_is_downloaded_with_protective_headers(client, team):
    owner, teammate, outsider, case = team
    image = case.attachments.get(filename="screen shot.png")
    client.force_login(teammate)

    response = client.get(file_url(case, image))

    assert response.status_code == 200
    assert body(response) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"screen shot.png\"; filename*=UTF-8''screen%20shot.png")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_other_files_are_downloaded_never_shown(client, team):
    owner, teammate, outsider, case = team
    pdf = case.attachments.get(filename="report.pdf")
    text = case.attachments.get(filename="page.txt")
    client.force_login(owner)

    pdf_response = client.get(file_url(case, pdf))
    text_response = client.get(file_url(case, text))

    assert pdf_response["Content-Type"] == "application/pdf"
    assert pdf_response["Content-Disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
    # Sent as the type it was checked as, whatever the uploader's browser claimed.
    assert text_response["Content-Type"] == "text/plain"
    assert text_response["Content-Disposition"] == (
        "attachment; filename=\"page.txt\"; filename*=UTF-8''page.txt")
    assert text_response["Content-Security-Policy"] == "sandbox"
    assert body(text_response) == b"<script>alert(1)</script>"


def test_the_name_in_the_url_changes_nothing_that_is_sent(client, team):
    owner, teammate, outsider, case = team
    text = case.attachments.get(filename="page.txt")
    client.force_login(owner)

    response = client.get(file_url(case, text, name="page.html"))

    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"page.txt\"; filename*=UTF-8''page.txt")


def test_an_anonymous_visitor_is_sent_to_sign_in(client, team):
    owner, teammate, outsider, case = team
    image = case.attachments.first()

    response = client.get(file_url(case, image))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/signin/?next=")


def test_another_organizations_file_answers_exactly_like_a_missing_one(client, team):
    owner, teammate, outsider, case = team
    image = case.attachments.first()
    client.force_login(outsider)

    foreign = client.get(file_url(case, image))
    missing_case = client.get(f"/cases/999999/files/{image.pk}/{image.filename}")
    missing_file = client.get(f"/cases/{case.pk}/files/999999/x.png")

    assert foreign.status_code == missing_case.status_code == missing_file.status_code == 404
    assert without_csrf(foreign) == without_csrf(missing_case) == without_csrf(missing_file)


def test_a_file_of_another_case_cannot_be_reached_through_my_own_case(client, team):
    owner, teammate, outsider, case = team
    foreign_case = make_case(outsider, files=[png_upload("theirs.png")]).ticket
    theirs = foreign_case.attachments.get()
    client.force_login(owner)

    response = client.get(f"/cases/{case.pk}/files/{theirs.pk}/theirs.png")

    assert response.status_code == 404


def test_a_file_on_an_internal_note_is_a_404_on_the_portal(client, team):
    owner, teammate, outsider, case = team
    note = add_message(
        case.pk, make_agent(), "Internal analysis", [check_upload(png_upload("internal.png"))],
        internal=True,
    )
    internal = note.attachments.get()
    client.force_login(owner)

    response = client.get(file_url(case, internal))

    assert response.status_code == 404


def test_a_file_missing_from_disk_is_a_404_not_an_error(client, team):
    owner, teammate, outsider, case = team
    image = case.attachments.get(filename="screen shot.png")
    image.file.storage.delete(image.file.name)
    client.force_login(owner)

    assert client.get(file_url(case, image)).status_code == 404


def test_an_agent_is_sent_to_the_desks_copy(client, team):
    owner, teammate, outsider, case = team
    image = case.attachments.first()
    client.force_login(make_agent())

    response = client.get(file_url(case, image))

    assert response.status_code == 302
    assert response["Location"].startswith(f"/desk/cases/{case.pk}/files/{image.pk}/")
