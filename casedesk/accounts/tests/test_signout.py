"""Signing out: only by POST, with a confirmation page for a plain GET."""

from django.contrib.auth import get_user
from django.contrib.messages import get_messages
from django.urls import reverse

from casedesk.conftest import make_contact, make_org

SIGNOUT = reverse("accounts:signout")


def test_a_get_only_asks_and_leaves_the_user_signed_in(db, client):
    contact = make_contact(make_org())
    client.force_login(contact)

    response = client.get(SIGNOUT)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign out?" in page
    assert 'method="post"' in page
    assert get_user(client).is_authenticated


def test_posting_signs_out_and_goes_home_with_a_message(db, client):
    contact = make_contact(make_org())
    client.force_login(contact)

    response = client.post(SIGNOUT)

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert not get_user(client).is_authenticated
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You are signed out. Thank you for visiting."
    ]


def test_a_visitor_who_is_not_signed_in_is_sent_home(db, client):
    assert client.get(SIGNOUT)["Location"] == reverse("portal:home")
    assert client.post(SIGNOUT)["Location"] == reverse("portal:home")
