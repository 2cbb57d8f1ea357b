"""The profile page: the language and time zone a person reads casedesk in."""

from __future__ import annotations

import pytest
from django.utils import translation

from casedesk.conftest import make_contact, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_after():
    # The test client serves requests on this thread; the language they activated must
    # not leak into the next test's code that runs outside a request.
    yield
    translation.deactivate()

PROFILE = "/accounts/profile/"


def test_the_profile_needs_a_signed_in_person(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/signin/")


def test_a_contact_chooses_arabic_and_dubai_time(client):
    contact = make_contact(make_org())
    client.force_login(contact)

    page = client.get(PROFILE).content.decode()
    assert '<option value="Asia/Dubai">Asia/Dubai</option>' in page
    assert "As my organization says (UTC)" in page

    response = client.post(PROFILE, {"language": "ar", "time_zone": "Asia/Dubai"})

    assert response.status_code == 303
    contact.refresh_from_db()
    assert (contact.language, contact.time_zone) == ("ar", "Asia/Dubai")
    after = client.get(PROFILE).content.decode()
    assert '<html lang="ar" dir="rtl">' in after
    assert "حُفظت تفضيلاتك." in after
    assert "الأوقات بتوقيت <bdi>Asia/Dubai</bdi>" in after
    assert '<option value="Asia/Dubai" selected>Asia/Dubai</option>' in after


def test_empty_choices_fall_back_to_the_organization(client):
    org = make_org()
    org.time_zone, org.language = "Africa/Cairo", "ar"
    org.save()
    contact = make_contact(org, language="en", time_zone="Asia/Dubai")
    client.force_login(contact)

    client.post(PROFILE, {"language": "", "time_zone": ""})

    contact.refresh_from_db()
    assert (contact.language, contact.time_zone) == ("", "")
    page = client.get("/").content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "<bdi>Africa/Cairo</bdi>" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "is not a time zone we know. Choose one from the list"),
        ("time_zone", "asia/dubai", "is not a time zone we know"),
        ("language", "xx", "is not a language casedesk is written in."),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message_and_nothing_is_saved(
    client, field, value, message
):
    contact = make_contact(make_org(), language="en", time_zone="Europe/London")
    client.force_login(contact)
    data = {"language": "en", "time_zone": "Europe/London", field: value}

    response = client.post(PROFILE, data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Nothing was saved." in page
    contact.refresh_from_db()
    assert (contact.language, contact.time_zone) == ("en", "Europe/London")
