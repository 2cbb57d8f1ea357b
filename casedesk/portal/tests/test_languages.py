"""English and Arabic on the portal: who reads which language, the language menu, right to
left, and times in the reader's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from casedesk.accounts.models import User
from casedesk.conftest import PASSWORD, make_agent, make_case, make_contact, make_org
from casedesk.portal.tests.helpers import html

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_after():
    # The test client serves requests on this thread; the language they activated must
    # not leak into the next test's code that runs outside a request.
    yield
    translation.deactivate()

SETLANG = "/i18n/setlang/"
COOKIE = django_settings.LANGUAGE_COOKIE_NAME


def html_tag(response) -> str:
    match = re.search(r"<html[^>]*>", html(response))
    assert match, "no <html> tag"
    return match.group()


def test_a_contact_who_chose_arabic_reads_the_portal_right_to_left(client):
    contact = make_contact(make_org(), language="ar")
    client.force_login(contact)

    page = client.get("/cases/")

    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    text = html(page)
    assert "<title>طلباتي ·" in text
    assert "تقديم طلب" in text and "تسجيل الخروج" in text
    assert "My cases" not in text and "Sign out" not in text


def test_a_contact_without_a_choice_reads_their_organizations_language(client):
    org = make_org()
    org.language = "ar"
    org.save()
    client.force_login(make_contact(org))

    assert html_tag(client.get("/")) == '<html lang="ar" dir="rtl">'


def test_other_people_read_english_left_to_right(client):
    client.force_login(make_contact(make_org()))

    page = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="en")

    assert html_tag(page) == '<html lang="en" dir="ltr">'
    assert "My cases" in html(page) and "طلباتي" not in html(page)


def test_a_visitor_follows_the_browsers_preferred_language(client):
    arabic = client.get("/submit/", HTTP_ACCEPT_LANGUAGE="ar-AE,ar;q=0.9,en;q=0.5")
    english = client.get("/submit/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    unknown = client.get("/submit/", HTTP_ACCEPT_LANGUAGE="fr-FR")

    assert html_tag(arabic) == '<html lang="ar" dir="rtl">'
    # The submit form's fields are cached for visitors: once per language, never mixed.
    assert "اسمك" in html(arabic) and "Your name" not in html(arabic)
    assert html_tag(english) == '<html lang="en" dir="ltr">'
    assert "Your name" in html(english) and "اسمك" not in html(english)
    assert html_tag(unknown) == '<html lang="en" dir="ltr">'


def test_the_language_menu_is_a_form_that_works_without_javascript(client):
    page = html(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))

    menu = re.search(r'<form class="language-menu".*?</form>', page, re.S)
    assert menu, "no language menu"
    assert 'method="post" action="/i18n/setlang/"' in menu.group()
    assert 'name="csrfmiddlewaretoken"' in menu.group()
    assert '<button type="submit" class="link" name="language" value="ar" lang="ar">' in (
        menu.group()
    )
    assert 'aria-current="true">English</span>' in menu.group()


def test_a_visitor_switches_to_arabic_and_the_cookie_keeps_it(client):
    response = client.post(
        SETLANG, {"language": "ar"}, HTTP_REFERER="http://testserver/submit/",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 303
    assert response["Location"] == "http://testserver/submit/"
    assert response.cookies[COOKIE].value == "ar"
    # The browser still prefers English; the choice wins.
    page = client.get("/submit/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_tag(page) == '<html lang="ar" dir="rtl">'


def test_a_contact_switches_to_arabic_and_it_follows_them_to_another_browser(client):
    contact = make_contact(make_org())
    client.force_login(contact)

    response = client.post(SETLANG, {"language": "ar"}, HTTP_REFERER="http://testserver/cases/")

    assert response.status_code == 303
    contact.refresh_from_db()
    assert contact.language == "ar"
    # Another browser, which prefers English and has no cookie: signing in is enough.
    other = Client()
    signed_in = other.post(
        "/accounts/signin/", {"email": contact.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en", follow=True,
    )
    assert html_tag(signed_in) == '<html lang="ar" dir="rtl">'
    assert "طلباتي" in html(signed_in)


def test_switching_back_to_english_is_saved_too(client):
    contact = make_contact(make_org(), language="ar")
    client.force_login(contact)

    client.post(SETLANG, {"language": "en"})

    contact.refresh_from_db()
    assert contact.language == "en"
    assert html_tag(client.get("/")) == '<html lang="en" dir="ltr">'


@pytest.mark.parametrize("code", ["xx", "", "ar-<script>", "en" * 30])
def test_a_language_that_does_not_exist_is_refused_and_nothing_changes(client, code):
    contact = make_contact(make_org(), language="en")
    client.force_login(contact)

    response = client.post(SETLANG, {"language": code}, HTTP_REFERER="http://testserver/cases/")

    assert response.status_code == 303
    assert response["Location"] == "http://testserver/cases/"
    assert COOKIE not in response.cookies
    contact.refresh_from_db()
    assert contact.language == "en"
    page = html(client.get("/cases/"))
    assert "is not a language casedesk is written in. Nothing was changed." in page
    assert "<script>" not in page


def test_a_visitors_bad_language_code_sets_no_cookie(client):
    response = client.post(SETLANG, {"language": "klingon"})

    assert response.status_code == 303
    assert response["Location"] == "/"
    assert COOKIE not in response.cookies
    assert html_tag(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == '<html lang="en" dir="ltr">'


def test_the_menu_never_sends_anyone_to_another_site(client):
    response = client.post(SETLANG, {"language": "ar"}, HTTP_REFERER="https://evil.example/")

    assert response.status_code == 303
    assert response["Location"] == "/"


def test_the_menu_only_answers_post(client):
    assert client.get(SETLANG, {"language": "ar"}).status_code == 405


def test_arabic_messages_use_arabic_punctuation_and_latin_digits(client):
    contact = make_contact(make_org(), language="ar")
    case = make_case(contact).ticket
    client.force_login(contact)

    response = client.post(f"/cases/{case.pk}/close/", follow=True)

    text = html(response)
    assert f"أُغلق الطلب {case.pk}. أعد فتحه من هنا إذا عادت المشكلة." in text
    assert "رقم الطلب" in text
    # Numbers stay in Latin digits: no Arabic-Indic digit anywhere on the page.
    assert not re.search("[\u0660-\u0669]", text)


def test_an_agent_gets_the_language_of_their_browser_or_their_choice(client):
    agent = make_agent()
    client.force_login(agent)
    assert html_tag(client.get("/", HTTP_ACCEPT_LANGUAGE="ar")) == '<html lang="ar" dir="rtl">'
    User.objects.filter(pk=agent.pk).update(language="en")
    assert html_tag(client.get("/", HTTP_ACCEPT_LANGUAGE="ar")) == '<html lang="en" dir="ltr">'


# -- times in the reader's time zone -----------------------------------------------------


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_a_case_shows_its_times_in_the_contacts_own_time_zone(client):
    contact = make_contact(make_org(), time_zone="Asia/Dubai")
    case = make_case(contact).ticket
    client.force_login(contact)

    page = html(client.get(f"/cases/{case.pk}/"))

    # Created 10:00 UTC is 14:00 in Dubai (UTC+4).
    assert "1 Mar 2026, 14:00" in page
    assert "10:00" not in page
    assert "Times in <bdi>Asia/Dubai</bdi>" in page


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_without_a_zone_of_their_own_a_contact_reads_their_organizations(client):
    org = make_org()
    org.time_zone = "America/New_York"
    org.save()
    contact = make_contact(org)
    make_case(contact)
    client.force_login(contact)

    page = html(client.get("/cases/"))

    # 10:00 UTC is 05:00 in New York (EST, UTC-5).
    assert "1 Mar 2026, 05:00" in page
    assert "Times in <bdi>America/New_York</bdi>" in page


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_an_arabic_reader_sees_arabic_month_names_with_latin_digits(client):
    contact = make_contact(make_org(), time_zone="Asia/Riyadh", language="ar")
    case = make_case(contact).ticket
    client.force_login(contact)

    page = html(client.get(f"/cases/{case.pk}/"))

    assert "1 مارس 2026، 13:00" in page
    assert "الأوقات بتوقيت <bdi>Asia/Riyadh</bdi>" in page


def test_a_visitor_reads_times_in_the_sites_zone(client, settings):
    page = html(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))

    assert f"Times in <bdi>{settings.TIME_ZONE}</bdi>" in page


def test_the_desk_has_the_same_language_menu_once(client):
    client.force_login(make_agent())

    page = html(client.get("/desk/", HTTP_ACCEPT_LANGUAGE="ar"))

    assert page.count('<form class="language-menu"') == 1
    assert '<html lang="ar" dir="rtl">' in page
