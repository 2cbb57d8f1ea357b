"""The portal's home page, the article search and the logo."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from casedesk.accounts.models import User
from casedesk.conftest import PNG_BYTES, make_contact, make_org
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.models import Level
from casedesk.portal.tests.helpers import html

pytestmark = pytest.mark.django_db


def configure(**fields: object) -> SiteConfiguration:
    config = SiteConfiguration.current()
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config


def test_the_home_page_offers_the_form_the_phone_the_search_and_sign_in(client):
    configure(
        company_name="Kidzonet", support_phone="(+44) 8081750480",
        portal_welcome="Safe Home Internet support, 24/7.",
    )

    response = client.get("/")

    page = html(response)
    assert response.status_code == 200
    assert "Kidzonet" in page
    assert "Safe Home Internet support, 24/7." in page
    assert '<a class="button accent large" href="/submit/">Submit a ticket</a>' in page
    assert '<a href="tel:(+44)8081750480">(+44) 8081750480</a>' in page
    assert 'action="/kb/search/"' in page and 'name="q"' in page
    assert 'href="/accounts/signin/"' in page
    assert "My cases" not in page


def test_the_escalation_contacts_show_what_is_set_and_only_the_levels_shown(client):
    Level.objects.filter(number=1).update(
        contact_name="Duty Engineer", email="duty@kidzonet.example", phone="+44 20 1111 2222"
    )
    Level.objects.filter(number=2).update(contact_name="Layla Aziz")
    Level.objects.filter(number=4).update(show_on_portal=False, email="ceo@kidzonet.example")

    page = html(client.get("/"))

    assert "Escalation contacts" in page
    assert "Support Engineer" in page
    assert "Duty Engineer" in page
    assert 'href="mailto:duty@kidzonet.example"' in page
    assert 'href="tel:+442011112222"' in page
    assert "Layla Aziz" in page
    assert "Support Manager" in page
    assert "Head of Support" not in page
    assert "ceo@kidzonet.example" not in page


def test_html_in_the_configuration_is_shown_as_text(client):
    configure(company_name="<i>Acme</i>", portal_welcome="<script>alert(1)</script>")

    page = html(client.get("/"))

    assert "&lt;i&gt;Acme&lt;/i&gt;" in page
    assert "<script>alert(1)" not in page


def test_a_signed_in_contact_sees_links_to_their_cases(client):
    org = make_org("GulfNet")
    contact = make_contact(org)
    client.force_login(contact)

    page = html(client.get("/"))

    assert 'href="/cases/?scope=mine"' in page
    assert 'href="/cases/?scope=org"' in page
    assert "Every case of GulfNet" in page
    assert 'href="/accounts/signin/"' not in page


def test_a_contact_who_sees_only_their_own_cases_gets_no_organization_link(client):
    contact = make_contact(make_org(), case_visibility=User.Visibility.OWN)
    client.force_login(contact)

    page = html(client.get("/"))

    assert 'href="/cases/?scope=mine"' in page
    assert 'href="/cases/?scope=org"' not in page


def test_the_home_search_box_reaches_the_knowledge_base_and_says_when_nothing_matched(client):
    response = client.get("/kb/search/", {"q": "<b>reset password</b>"})

    page = html(response)
    assert response.status_code == 200
    assert "No articles matched “&lt;b&gt;reset password&lt;/b&gt;” yet." in page
    assert 'href="/submit/"' in page


def test_without_a_logo_the_logo_address_is_a_404(client):
    page = html(client.get("/"))

    assert client.get("/branding/logo").status_code == 404
    assert "/branding/logo" not in page


def test_a_configured_logo_is_served_and_cached(client):
    config = SiteConfiguration.current()
    config.logo.save("logo.png", ContentFile(PNG_BYTES), save=False)
    config.save()

    page = html(client.get("/"))
    response = client.get("/branding/logo")

    assert 'src="/branding/logo"' in page
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert "max-age=3600" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
