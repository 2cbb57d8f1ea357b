"""Every route that serves an uploaded file sends it as a download (RFC 6266, with the name
in UTF-8 as RFC 5987 writes it, so an Arabic name arrives whole), as the type checked when
it arrived, never sniffed, never as HTML: the portal, the desk, the API and the admin's
raw inbound mail."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casedesk.api.tests.conftest import api_for
from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.downloads import content_disposition

pytestmark = pytest.mark.django_db

ARABIC_NAME = "تقرير الشبكة.txt"
HTML_BODY = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def case_with_html_text():
    """A case whose file has an Arabic name and HTML inside a .txt: checked as text/plain."""
    org = make_org("GulfNet")
    owner = make_contact(org)
    case = make_case(owner, files=[
        SimpleUploadedFile(ARABIC_NAME, HTML_BODY, content_type="text/html"),
    ]).ticket
    return owner, case, case.attachments.get()


def assert_safe_download(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename=".txt"' not in disposition and 'filename="download.txt"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == ARABIC_NAME
    assert b"".join(response.streaming_content) == HTML_BODY


def test_the_portal_sends_a_file_as_a_download_with_its_arabic_name(client,
                                                                     case_with_html_text):
    owner, case, stored = case_with_html_text
    client.force_login(owner)

    response = client.get(f"/cases/{case.pk}/files/{stored.pk}/{stored.filename}")

    assert_safe_download(response)


def test_the_desk_sends_a_file_as_a_download_with_its_arabic_name(client, case_with_html_text):
    owner, case, stored = case_with_html_text
    client.force_login(make_agent())

    response = client.get(reverse("desk:attachment", args=[case.pk, stored.pk, "x.html"]))

    assert_safe_download(response)


def test_the_api_sends_a_file_as_a_download_with_its_arabic_name(case_with_html_text):
    owner, case, stored = case_with_html_text

    response = api_for(owner).get(f"/api/v1/cases/{case.pk}/attachments/{stored.pk}")

    assert_safe_download(response)


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
    ("résumé.docx",
     "attachment; filename=\"resume.docx\"; filename*=UTF-8''r%C3%A9sum%C3%A9.docx"),
    ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
    ("سجل", "attachment; filename=\"download\"; filename*=UTF-8''%D8%B3%D8%AC%D9%84"),
    ("x\r\nSet-Cookie: a=b.log",
     "attachment; filename=\"x__Set-Cookie_ a_b.log\"; "
     "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db.log"),
])
def test_the_header_quotes_every_name_safely(name, expected):
    assert content_disposition(name) == expected
