"""Signing in: by email in any case, to the right home, never to another site."""

import pytest
from django.contrib.auth import get_user
from django.urls import reverse

from casedesk.accounts.forms import SIGNIN_FAILED
from casedesk.conftest import PASSWORD, make_agent, make_case, make_contact, make_org

SIGNIN = reverse("accounts:signin")


def signed_in_email(client) -> str | None:
    user = get_user(client)
    return user.email if user.is_authenticated else None


def test_the_page_offers_password_reset_and_explains_invitations(db, client):
    response = client.get(SIGNIN)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Forgot your password?" in page
    assert reverse("accounts:password_reset") in page
    assert "invitation" in page


def test_a_contact_signs_in_with_a_mixed_case_email_and_lands_on_their_cases(db, client):
    make_contact(make_org(), email="noor@gulfnet.example")

    response = client.post(SIGNIN, {"email": "  Noor@GulfNet.EXAMPLE ", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:cases")
    assert signed_in_email(client) == "noor@gulfnet.example"


def test_an_agent_lands_on_the_desk(db, client):
    agent = make_agent()

    response = client.post(SIGNIN, {"email": agent.email, "password": PASSWORD})

    assert response["Location"] == reverse("desk:queue")


def test_a_page_on_this_site_asked_for_in_next_is_where_the_user_goes(db, client):
    contact = make_contact(make_org())
    wanted = reverse("portal:case", args=[100001])

    page = client.get(SIGNIN, {"next": wanted})
    response = client.post(
        SIGNIN + f"?next={wanted}", {"email": contact.email, "password": PASSWORD}
    )

    assert f'name="next" value="{wanted}"' in page.content.decode()
    assert response["Location"] == wanted


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/cases/", "//evil.example/cases/", "javascript:alert(1)",
     "http://testserver.evil.example/"],
)
def test_a_next_on_another_site_is_ignored(db, client, next_url):
    contact = make_contact(make_org())

    page = client.get(SIGNIN, {"next": next_url})
    response = client.post(
        SIGNIN, {"email": contact.email, "password": PASSWORD, "next": next_url}
    )

    assert "evil.example" not in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:cases")


def wrong_password(db):
    return make_contact(make_org()).email, "not-the-password"


def unknown_email(db):
    return "nobody@nowhere.example", PASSWORD


def inactive_user(db):
    return make_contact(make_org(), is_active=False).email, PASSWORD


def invited_without_password(db):
    # A contact created by their first case has no password until they follow the invitation.
    return make_case(email="fresh@example.org").requester.email, ""


@pytest.mark.parametrize(
    "make_attempt", [wrong_password, unknown_email, inactive_user, invited_without_password]
)
def test_every_refusal_gets_the_same_message_and_no_session(db, client, make_attempt):
    email, password = make_attempt(db)

    response = client.post(SIGNIN, {"email": email, "password": password or "any-password-1"})

    assert response.status_code == 200
    page = response.content.decode()
    assert str(SIGNIN_FAILED) in page
    assert page.count('role="alert"') == 1
    assert signed_in_email(client) is None


def test_an_empty_form_says_which_fields_are_missing(db, client):
    response = client.post(SIGNIN, {"email": "", "password": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("This field is required.") == 2
    assert signed_in_email(client) is None


def test_signing_in_gives_a_new_session_key(db, client):
    contact = make_contact(make_org())
    client.get(SIGNIN)
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = session.session_key

    client.post(SIGNIN, {"email": contact.email, "password": PASSWORD})

    assert client.session.session_key != before
    assert signed_in_email(client) == contact.email


def test_a_signed_in_person_is_known_on_each_request_until_deactivated_or_deleted(db, client):
    agent = make_agent()
    client.force_login(agent)
    desk = reverse("desk:queue")

    # Known on the next request, as the account reads now
    assert client.get(desk).status_code == 200
    assert signed_in_email(client) == agent.email

    # Deactivated: signed out at the next request
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(desk).status_code == 302
    assert signed_in_email(client) is None

    # Deleted while signed in: anonymous, not an error
    other = make_agent()
    client.force_login(other)
    other.delete()
    assert client.get(desk).status_code == 302
    assert signed_in_email(client) is None
