"""Following the invitation that a first case sends: once, before it expires, untampered."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from casedesk.accounts.models import Invitation, User
from casedesk.accounts.tests.mailbox import link_in, mail_to
from casedesk.conftest import make_case, make_org

NEW_PASSWORD = "amber-lantern-on-the-quay"
INVITATION_PREFIX = "/accounts/invitation/"


@pytest.fixture
def invited(db, send_mail):
    """A new customer's first case, and the path of the invitation link mailed to them."""
    make_org("Gulf Net", domains="gulfnet.example")
    submission = make_case(email="Noor@GulfNet.example", full_name="Noor Haddad")
    invitation = mail_to(send_mail(), "noor@gulfnet.example", "invitation")
    return submission.requester, link_in(invitation, INVITATION_PREFIX)


def set_password(client, path, first=NEW_PASSWORD, second=NEW_PASSWORD):
    return client.post(path, {"new_password1": first, "new_password2": second})


def assert_nothing_changed(user: User) -> None:
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user.invitations.get().used_at is None


def test_the_mailed_link_sets_a_password_and_signs_the_contact_in(invited, client):
    user, path = invited

    page = client.get(path)
    response = set_password(client, path)

    text = page.content.decode()
    assert page.status_code == 200
    assert "Set your password" in text
    assert "noor@gulfnet.example" in text and "Noor Haddad" in text
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:cases")
    assert get_user(client) == user
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Welcome, Noor. Your password is set and you are signed in."
    ]
    client.logout()
    again = client.post(
        reverse("accounts:signin"), {"email": "noor@gulfnet.example", "password": NEW_PASSWORD}
    )
    assert again["Location"] == reverse("portal:cases")


def test_the_link_works_only_once(invited, client):
    user, path = invited
    set_password(client, path)
    client.logout()

    page = client.get(path)
    response = set_password(client, path, "another-password-42", "another-password-42")

    assert page.status_code == 404
    assert "already been used" in page.content.decode()
    assert response.status_code == 404
    assert not get_user(client).is_authenticated
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused_and_points_to_password_reset(invited, client):
    user, path = invited

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        page = client.get(path)
        response = set_password(client, path)

    text = page.content.decode()
    assert page.status_code == 404
    assert "has expired" in text
    assert reverse("accounts:password_reset") in text
    assert response.status_code == 404
    assert not get_user(client).is_authenticated
    assert_nothing_changed(user)


def test_a_link_still_works_on_its_last_day(invited, client):
    user, path = invited

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
        response = set_password(client, path)

    assert response["Location"] == reverse("portal:cases")


@pytest.mark.parametrize(
    "tamper",
    [lambda p: p[:-3] + ("A" if p[-3] != "A" else "B") + p[-2:],
     lambda p: p.rstrip("/")[:-5] + "/", lambda p: INVITATION_PREFIX + "x/"],
)
def test_a_tampered_link_is_refused_and_changes_nothing(invited, client, tamper):
    user, path = invited
    bad = tamper(path)

    page = client.get(bad)
    response = set_password(client, bad)

    assert page.status_code == 404
    assert "not valid" in page.content.decode()
    assert response.status_code == 404
    assert not get_user(client).is_authenticated
    assert_nothing_changed(user)


@pytest.mark.parametrize(
    ("first", "second", "field", "message"),
    [
        ("short", "short", "new_password1", "too short"),
        ("4815162342108", "4815162342108", "new_password1", "entirely numeric"),
        ("password123", "password123", "new_password1", "too common"),
        ("noor@gulfnet.example", "noor@gulfnet.example", "new_password1", "too similar"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "new_password2", "not the same"),
        ("", "", "new_password1", "This field is required."),
    ],
)
def test_a_refused_password_is_explained_next_to_its_field(
    invited, client, first, second, field, message
):
    user, path = invited

    response = set_password(client, path, first, second)

    text = response.content.decode()
    assert response.status_code == 200
    field_html = text.split(f'id="field-{field}"', 1)[1].split('<div class="field', 1)[0]
    assert message in field_html
    assert not get_user(client).is_authenticated
    assert_nothing_changed(user)
    # The same link still works once the contact picks a good password.
    assert set_password(client, path)["Location"] == reverse("portal:cases")


def test_an_invitation_for_a_deactivated_contact_is_refused(invited, client):
    user, path = invited
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = set_password(client, path)

    assert response.status_code == 404
    assert Invitation.objects.get(user=user).used_at is None
