"""Two-factor sign-in: setting it up, signing in with a code, recovery codes, turning it
off, and the admins' switch that requires it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from django.contrib.auth import get_user
from django.urls import reverse

from casedesk.accounts.models import RecoveryCode, SecurityPolicy, TwoFactor, User, hash_token
from casedesk.conftest import PASSWORD, make_agent, make_contact, make_org
from casedesk.core.models import AuditEntry

SIGNIN = reverse("accounts:signin")
CODE = reverse("accounts:signin_code")
SETUP = reverse("accounts:two_factor")
CODES = reverse("accounts:recovery_codes")
DISABLE = reverse("accounts:two_factor_disable")
# The middle of a 30-second step: a code typed "now" is the current step's.
NOON = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)


def signed_in(client) -> User | None:
    user = get_user(client)
    return user if user.is_authenticated else None


def secret_on_page(html: str) -> str:
    found = re.search(r'data-secret="([A-Z2-7]+)"', html)
    assert found, "no key on the set-up page"
    return found.group(1)


def enrol(client, user: User) -> tuple[str, list[str]]:
    """Set up two-factor sign-in through the pages, as the person does; sign out after.
    Returns the key and the recovery codes shown."""
    client.force_login(user)
    secret = secret_on_page(client.get(SETUP).content.decode())
    client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([0-9a-f-]+)</code>", client.get(CODES).content.decode())
    client.logout()
    # Turning it on raised the session stamp: force_login with a stale copy would sign in
    # a session that no longer matches.
    user.refresh_from_db()
    return secret, codes


def password_step(client, user: User):
    return client.post(SIGNIN, {"email": user.email, "password": PASSWORD})


@pytest.fixture
def traveller():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_an_agent_sets_up_two_factor_sign_in_with_a_qr_code_and_a_confirming_code(
    db, client, traveller
):
    # Given an agent on their profile
    agent = make_agent()
    client.force_login(agent)
    assert SETUP in client.get(reverse("accounts:profile")).content.decode()

    # When they open the set-up page
    page = client.get(SETUP).content.decode()
    secret = secret_on_page(page)

    # Then it shows a QR code drawn on the server (no script) and the key to type
    assert '<svg role="img"' in page
    assert "<script" not in page.split("<main", 1)[-1]
    assert TwoFactor.objects.count() == 0
    # And a wrong code changes nothing and says so
    wrong = client.post(SETUP, {"code": "000000"})
    assert wrong.status_code == 200
    assert "That code is not the one your app shows" in wrong.content.decode()
    assert not TwoFactor.objects.filter(user=agent).exists()
    # And the same key is offered again, so the app already set up still works
    assert secret_on_page(wrong.content.decode()) == secret

    # When they type the code the app shows
    done = client.post(SETUP, {"code": pyotp.TOTP(secret).now()})

    # Then it is on, and ten recovery codes are shown once, stored only hashed
    assert done["Location"] == CODES
    shown = client.get(CODES).content.decode()
    codes = re.findall(r"<code>([0-9a-f-]+)</code>", shown)
    assert len(codes) == 10
    stored = set(RecoveryCode.objects.filter(user=agent).values_list("code_hash", flat=True))
    assert stored == {hash_token(code.replace("-", "")) for code in codes}
    assert not any(code in str(stored) for code in codes)
    again = client.get(CODES)
    assert again["Location"] == SETUP
    assert "Two-factor sign-in is on" in client.get(SETUP).content.decode()


def test_signing_in_takes_the_password_then_a_code(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)
    traveller.shift(timedelta(seconds=30))

    # When the agent types their password
    first = password_step(client, agent)

    # Then they are not signed in yet, but asked for a code
    assert first["Location"] == CODE
    assert signed_in(client) is None
    assert "authenticator app" in client.get(CODE).content.decode()

    # When they type the code their app shows
    second = client.post(CODE, {"code": pyotp.TOTP(secret).now()})

    # Then they are signed in, on the desk
    assert second["Location"] == reverse("desk:queue")
    assert signed_in(client) == agent


def test_a_wrong_code_signs_nobody_in(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)
    traveller.shift(timedelta(seconds=30))
    password_step(client, agent)
    wrong = str((int(pyotp.TOTP(secret).now()) + 1) % 1_000_000).zfill(6)

    refused = client.post(CODE, {"code": wrong})

    assert refused.status_code == 200
    assert "That code did not work" in refused.content.decode()
    assert signed_in(client) is None


def test_a_code_works_once_even_within_its_30_seconds(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)
    traveller.shift(timedelta(seconds=30))
    code = pyotp.TOTP(secret).now()
    password_step(client, agent)
    client.post(CODE, {"code": code})
    client.logout()

    # When someone who saw the code types it again in the same step
    password_step(client, agent)
    replayed = client.post(CODE, {"code": code})

    # Then it is refused; the next step's code works
    assert "That code did not work" in replayed.content.decode()
    assert signed_in(client) is None
    traveller.shift(timedelta(seconds=30))
    client.post(CODE, {"code": pyotp.TOTP(secret).now()})
    assert signed_in(client) == agent


def test_the_code_from_enrolment_cannot_sign_in(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)

    password_step(client, agent)
    client.post(CODE, {"code": pyotp.TOTP(secret).now()})

    assert signed_in(client) is None


def test_a_recovery_code_signs_in_once(db, client, traveller):
    agent = make_agent()
    _secret, codes = enrol(client, agent)

    password_step(client, agent)
    first = client.post(CODE, {"code": codes[3].upper()})
    assert first["Location"] == reverse("desk:queue")
    assert signed_in(client) == agent
    client.logout()

    password_step(client, agent)
    again = client.post(CODE, {"code": codes[3]})
    assert "That code did not work" in again.content.decode()
    assert signed_in(client) is None
    assert RecoveryCode.objects.filter(user=agent, used_at=None).count() == 9


def test_the_code_step_expires_after_five_minutes(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)
    password_step(client, agent)

    traveller.shift(timedelta(minutes=6))
    late = client.post(CODE, {"code": pyotp.TOTP(secret).now()}, follow=True)

    assert late.redirect_chain[0][0] == SIGNIN
    assert "within 5 minutes" in late.content.decode()
    assert signed_in(client) is None


def test_turning_it_off_takes_the_password_and_a_code(db, client, traveller):
    agent = make_agent()
    secret, _codes = enrol(client, agent)
    traveller.shift(timedelta(seconds=30))
    client.force_login(agent)

    wrong = client.post(DISABLE, {"password": "not-the-password", "code": pyotp.TOTP(secret).now()})
    assert wrong.status_code == 400
    assert "Two-factor sign-in is still on" in wrong.content.decode()
    assert TwoFactor.objects.filter(user=agent).exists()

    traveller.shift(timedelta(seconds=30))
    off = client.post(DISABLE, {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert off["Location"] == SETUP
    assert not TwoFactor.objects.filter(user=agent).exists()
    assert not RecoveryCode.objects.filter(user=agent).exists()
    # Both changes are in the audit history, with who did them and never the key.
    on, off_entry = AuditEntry.objects.filter(object_type="accounts.twofactor").order_by("pk")
    assert (on.action, on.actor, off_entry.action, off_entry.actor) == (
        "create", agent, "delete", agent)
    assert secret not in str(on.changes) + str(off_entry.changes)
    client.logout()
    assert password_step(client, agent)["Location"] == reverse("desk:queue")


def test_contacts_do_not_get_two_factor_pages(db, client):
    contact = make_contact(make_org())
    client.force_login(contact)

    assert client.get(SETUP).status_code == 404
    assert SETUP not in client.get(reverse("accounts:profile")).content.decode()


def require_two_factor() -> None:
    policy = SecurityPolicy.current()
    policy.require_two_factor = True
    policy.save()


def test_when_admins_require_it_an_agent_without_it_can_only_set_it_up(db, client, traveller):
    # Given the admins' switch is on and an agent without two-factor sign-in
    require_two_factor()
    agent = make_agent()

    # When the agent signs in with their password
    signin = password_step(client, agent)

    # Then they are sent to set it up, and every other page sends them back there
    assert signin["Location"] == SETUP
    desk = client.get(reverse("desk:queue"))
    assert desk.status_code == 303
    assert desk["Location"].startswith(SETUP + "?next=")
    assert client.get(reverse("portal:cases"))["Location"].startswith(SETUP)
    assert client.get(reverse("accounts:profile"))["Location"].startswith(SETUP)
    assert "require two-factor sign-in" in client.get(SETUP).content.decode()
    # And signing out still works
    assert client.post(reverse("accounts:signout")).status_code == 302

    # When they set it up
    client.post(SIGNIN, {"email": agent.email, "password": PASSWORD})
    secret = secret_on_page(client.get(SETUP).content.decode())
    client.post(SETUP, {"code": pyotp.TOTP(secret).now()})

    # Then the desk opens
    assert client.get(reverse("desk:queue")).status_code == 200


def test_when_required_the_admin_site_sends_an_admin_to_set_it_up(db, client):
    require_two_factor()
    admin = make_agent(is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 303
    assert response["Location"].startswith(SETUP)


def test_the_requirement_does_not_touch_contacts(db, client):
    require_two_factor()
    contact = make_contact(make_org())

    signin = password_step(client, contact)

    assert signin["Location"] == reverse("portal:cases")
    assert client.get(reverse("portal:cases")).status_code == 200


def test_the_admin_sign_in_page_is_casedesks_with_its_second_step(db, client):
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"] == SIGNIN + "?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_an_admin_turns_the_requirement_on_in_the_admin_site(db, client):
    admin = make_agent(is_staff=True, is_superuser=True)
    client.force_login(admin)

    saved = client.post(
        reverse("admin:accounts_securitypolicy_add"), {"require_two_factor": "on"}
    )

    assert saved.status_code == 302
    assert SecurityPolicy.current().require_two_factor
    # The admin, without two-factor sign-in, is now sent to set it up
    assert client.get(reverse("admin:index"))["Location"].startswith(SETUP)


def test_a_password_reset_does_not_sign_in_someone_with_two_factor(db, client, send_mail,
                                                                   traveller):
    from casedesk.accounts.tests.mailbox import link_in, mail_to

    agent = make_agent()
    enrol(client, agent)
    client.post(reverse("accounts:password_reset"), {"email": agent.email})
    link = link_in(mail_to(send_mail(), agent.email, "Reset"), "/accounts/reset/")
    form_path = client.get(link)["Location"]

    saved = client.post(form_path, {"new_password1": "quiet-harbour-at-dawn-7",
                                    "new_password2": "quiet-harbour-at-dawn-7"})

    assert saved["Location"] == reverse("accounts:password_reset_complete")
    assert signed_in(client) is None
    agent.refresh_from_db()
    assert agent.check_password("quiet-harbour-at-dawn-7")
    # Signing in takes the code as ever
    client.post(SIGNIN, {"email": agent.email, "password": "quiet-harbour-at-dawn-7"})
    assert signed_in(client) is None


def test_when_required_an_agent_without_it_cannot_make_an_api_token(db, client):
    from casedesk.accounts.models import ApiToken

    require_two_factor()
    agent = make_agent()
    client.force_login(agent)

    response = client.post(reverse("api_pages:desk_tokens"), {"name": "laptop"})

    assert response.status_code == 303
    assert response["Location"].startswith(SETUP)
    assert not ApiToken.objects.exists()


def test_a_token_made_before_the_requirement_still_reads_the_api(db, client):
    # Tokens are made only by signed-in people (or an operator's `casedesk token`); the
    # requirement governs signing in, not the tokens already handed to scripts.
    from casedesk.accounts.tokens import create_token

    agent = make_agent()
    secret = create_token(agent, name="script").secret
    require_two_factor()

    response = client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200


RENEW = reverse("accounts:renew_recovery_codes")


def test_new_recovery_codes_replace_the_old_ones_after_the_password_and_a_code(
        db, client, traveller):
    agent = make_agent()
    secret, old_codes = enrol(client, agent)
    traveller.shift(timedelta(seconds=30))
    client.force_login(agent)
    assert "Make new recovery codes" in client.get(SETUP).content.decode()

    wrong = client.post(RENEW, {"renew-password": "not-the-password",
                                "renew-code": pyotp.TOTP(secret).now()})
    assert wrong.status_code == 400
    assert "Your recovery codes are unchanged" in wrong.content.decode()
    assert set(RecoveryCode.objects.filter(user=agent).values_list("code_hash", flat=True)) == {
        hash_token(code.replace("-", "")) for code in old_codes}

    traveller.shift(timedelta(seconds=30))
    made = client.post(RENEW, {"renew-password": PASSWORD, "renew-code": pyotp.TOTP(secret).now()})
    assert made["Location"] == CODES
    new_codes = re.findall(r"<code>([0-9a-f-]+)</code>", client.get(CODES).content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    # This session goes on; the old codes no longer sign in, a new one does.
    assert signed_in(client) == agent
    client.logout()
    password_step(client, agent)
    assert "That code did not work" in client.post(CODE, {"code": old_codes[0]}).content.decode()
    assert client.post(CODE, {"code": new_codes[0]})["Location"] == reverse("desk:queue")


def test_a_recovery_code_can_confirm_new_codes_and_is_spent_doing_it(db, client, traveller):
    agent = make_agent()
    _secret, old_codes = enrol(client, agent)
    client.force_login(agent)

    client.post(RENEW, {"renew-password": PASSWORD, "renew-code": old_codes[0]})

    assert RecoveryCode.objects.filter(user=agent, used_at=None).count() == 10
    assert RecoveryCode.objects.filter(user=agent).count() == 10


def test_changing_the_second_factor_signs_the_person_out_of_every_other_browser(
        db, client, traveller):
    from django.test import Client

    agent = make_agent()
    elsewhere = Client()
    elsewhere.force_login(agent)
    # Turning it on: a session opened with the password alone ends; this one goes on.
    client.force_login(agent)
    secret = secret_on_page(client.get(SETUP).content.decode())
    client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    assert signed_in(client) == agent
    assert signed_in(elsewhere) is None
    assert elsewhere.get(reverse("desk:queue"))["Location"].startswith(SIGNIN)

    # New recovery codes, then turning it off: each ends the other sessions again.
    for url, data in ((RENEW, {"renew-password": PASSWORD}), (DISABLE, {"password": PASSWORD})):
        agent.refresh_from_db()
        elsewhere.force_login(agent)
        assert signed_in(elsewhere) == agent
        traveller.shift(timedelta(seconds=30))
        code_field = "renew-code" if url == RENEW else "code"
        client.post(url, {**data, code_field: pyotp.TOTP(secret).now()})
        assert signed_in(client) == agent
        assert signed_in(elsewhere) is None


def test_a_refused_change_of_the_second_factor_ends_no_session(db, client, traveller):
    from django.test import Client

    agent = make_agent()
    secret, _codes = enrol(client, agent)
    client.force_login(agent)
    elsewhere = Client()
    elsewhere.force_login(agent)

    client.post(RENEW, {"renew-password": PASSWORD, "renew-code": "000000"})
    client.post(DISABLE, {"password": "wrong", "code": pyotp.TOTP(secret).now()})

    assert signed_in(elsewhere) == agent
    assert signed_in(client) == agent
