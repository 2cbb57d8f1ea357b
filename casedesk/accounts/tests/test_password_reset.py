"""Password reset: a queued mail with a link on the base URL, for any active account,
including an invited contact who never set a password; no hint whether an address exists."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user
from django.urls import reverse
from django.utils import timezone

from casedesk.accounts.tests.mailbox import link_in, mail_to
from casedesk.conftest import PASSWORD, make_agent, make_case, make_contact, make_org, read_outbox
from casedesk.mail.models import OutboundMail

RESET = reverse("accounts:password_reset")
NEW_PASSWORD = "quiet-harbour-at-dawn-7"
RESET_PREFIX = "/accounts/reset/"


def ask_for_reset(client, email):
    return client.post(RESET, {"email": email})


def follow_reset_link(client, path):
    """Open the mailed link; Django moves the token into the session and redirects."""
    opened = client.get(path)
    assert opened.status_code == 302
    return opened["Location"]


def choose(client, form_path, first=NEW_PASSWORD, second=NEW_PASSWORD):
    return client.post(form_path, {"new_password1": first, "new_password2": second})


def test_a_contact_resets_their_password_through_the_mailed_link(db, client, send_mail):
    contact = make_contact(make_org(), email="lina@partner.example", full_name="Lina Aziz")

    asked = ask_for_reset(client, "Lina@Partner.example")
    mail = mail_to(send_mail(), "lina@partner.example", "Reset your support portal password")
    path = link_in(mail, RESET_PREFIX)
    form_path = follow_reset_link(client, path)
    page = client.get(form_path)
    saved = choose(client, form_path)
    done = client.get(saved["Location"])

    assert asked["Location"] == reverse("accounts:password_reset_done")
    assert "Hello Lina" in mail.get_content()
    assert "lina@partner.example" in page.content.decode()
    assert saved["Location"] == reverse("accounts:password_reset_complete")
    assert get_user(client) == contact
    assert reverse("portal:cases") in done.content.decode()
    contact.refresh_from_db()
    assert contact.check_password(NEW_PASSWORD)
    assert not contact.check_password(PASSWORD)


def test_the_reset_link_works_only_once(db, client, send_mail):
    contact = make_contact(make_org())
    ask_for_reset(client, contact.email)
    path = link_in(mail_to(send_mail(), contact.email, "Reset"), RESET_PREFIX)
    choose(client, follow_reset_link(client, path))
    client.logout()

    again = client.get(path)

    assert again.status_code == 404
    assert "This link cannot be used" in again.content.decode()
    assert reverse("accounts:password_reset") in again.content.decode()


def test_an_agent_lands_on_the_desk_link_after_a_reset(db, client, send_mail):
    agent = make_agent()
    ask_for_reset(client, agent.email)
    path = link_in(mail_to(send_mail(), agent.email, "Reset"), RESET_PREFIX)

    saved = choose(client, follow_reset_link(client, path))
    done = client.get(saved["Location"])

    assert get_user(client) == agent
    assert reverse("desk:queue") in done.content.decode()


def test_an_invited_contact_whose_invitation_expired_sets_a_first_password(
    db, client, send_mail
):
    submission = make_case(email="omar@example.org", full_name="Omar Said")
    send_mail()
    contact = submission.requester
    assert not contact.has_usable_password()

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        ask_for_reset(client, "omar@example.org")
        mail = mail_to(send_mail(), "omar@example.org", "Set your support portal password")
        saved = choose(client, follow_reset_link(client, link_in(mail, RESET_PREFIX)))

    assert saved["Location"] == reverse("accounts:password_reset_complete")
    assert get_user(client) == contact
    contact.refresh_from_db()
    assert contact.check_password(NEW_PASSWORD)


def test_after_a_reset_the_old_invitation_link_no_longer_works(db, client, send_mail):
    make_case(email="omar@example.org")
    invitation_path = link_in(
        mail_to(send_mail(), "omar@example.org", "invitation"), "/accounts/invitation/"
    )
    ask_for_reset(client, "omar@example.org")
    reset_path = link_in(mail_to(send_mail(), "omar@example.org", "Set your"), RESET_PREFIX)
    choose(client, follow_reset_link(client, reset_path))
    client.logout()

    other = "someone-else-1234"
    response = client.post(invitation_path, {"new_password1": other, "new_password2": other})

    assert response.status_code == 404
    assert not get_user(client).is_authenticated


def without_csrf(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_known_and_unknown_addresses_get_the_same_answer(db, client, send_mail):
    contact = make_contact(make_org())

    known = ask_for_reset(client, contact.email)
    unknown = ask_for_reset(client, "nobody@nowhere.example")
    known_page = client.get(known["Location"])
    unknown_page = client.get(unknown["Location"])

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # The pages differ only by their per-response CSRF token (the language menu's form).
    assert without_csrf(known_page) == without_csrf(unknown_page)
    assert "If an account exists for that address" in known_page.content.decode()
    assert [m["To"] for m in send_mail()] == [contact.email]


def test_a_deactivated_account_gets_no_mail(db, client, send_mail):
    contact = make_contact(make_org(), is_active=False)

    response = ask_for_reset(client, contact.email)

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert send_mail() == []


def test_the_mail_is_queued_not_sent_during_the_request(db, client, settings):
    contact = make_contact(make_org())

    ask_for_reset(client, contact.email)

    queued = OutboundMail.objects.get(to=contact.email)
    assert queued.kind == OutboundMail.Kind.PASSWORD_RESET
    assert queued.status == OutboundMail.Status.QUEUED
    assert read_outbox(settings) == []


def test_the_link_starts_with_the_base_url_whatever_host_the_request_named(
    db, client, settings, send_mail
):
    settings.CASEDESK_BASE_URL = "https://support.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    contact = make_contact(make_org())

    client.post(RESET, {"email": contact.email}, HTTP_HOST="attacker.example")

    body = mail_to(send_mail(), contact.email, "Reset").get_content()
    assert "https://support.example.com/accounts/reset/" in body
    assert "attacker.example" not in body


def test_a_deactivated_account_cannot_use_a_link_it_was_sent(db, client, send_mail):
    contact = make_contact(make_org())
    ask_for_reset(client, contact.email)
    path = link_in(mail_to(send_mail(), contact.email, "Reset"), RESET_PREFIX)
    contact.is_active = False
    contact.save(update_fields=["is_active"])

    response = client.get(path)

    assert response.status_code == 404
    assert not get_user(client).is_authenticated


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_a_missing_or_malformed_address_is_explained_next_to_the_field(db, client, email):
    response = ask_for_reset(client, email)

    text = response.content.decode()
    assert response.status_code == 200
    assert 'class="field has-error" id="field-email"' in text
    assert OutboundMail.objects.count() == 0


def test_a_tampered_link_is_refused(db, client, send_mail):
    contact = make_contact(make_org())
    ask_for_reset(client, contact.email)
    path = link_in(mail_to(send_mail(), contact.email, "Reset"), RESET_PREFIX)
    uid, token = path.removeprefix(RESET_PREFIX).strip("/").split("/")

    response = client.get(f"{RESET_PREFIX}{uid}/{token[:-1]}{'x' if token[-1] != 'x' else 'y'}/")

    assert response.status_code == 404
    assert "This link cannot be used" in response.content.decode()


def test_a_weak_password_is_refused_next_to_the_field_and_nothing_changes(
    db, client, send_mail
):
    contact = make_contact(make_org())
    ask_for_reset(client, contact.email)
    form_path = follow_reset_link(
        client, link_in(mail_to(send_mail(), contact.email, "Reset"), RESET_PREFIX)
    )

    response = choose(client, form_path, "12345", "12345")

    text = response.content.decode()
    assert response.status_code == 200
    assert "too short" in text.split('id="field-new_password1"', 1)[1]
    assert not get_user(client).is_authenticated
    contact.refresh_from_db()
    assert contact.check_password(PASSWORD)
