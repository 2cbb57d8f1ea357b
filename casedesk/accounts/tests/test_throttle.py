"""Throttling and lockout: sign-in, the code step and password reset, per account and per
client address; messages that say when to try again and never whether an account exists."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pyotp
import pytest
import redis
import time_machine
from django.contrib.auth import get_user
from django.test import RequestFactory
from django.urls import reverse

from casedesk.conftest import PASSWORD, make_agent, make_contact, make_org
from casedesk.core.net import client_address
from casedesk.mail.models import OutboundMail
from casedesk.ops.tests.test_redis import redis_url  # noqa: F401 - the fixture

SIGNIN = reverse("accounts:signin")
CODE = reverse("accounts:signin_code")
RESET = reverse("accounts:password_reset")
LOCKED = "Too many attempts that did not work"
NOON = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def traveller():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def sign_in(client, email: str, password: str, address: str = "198.51.100.7"):
    return client.post(SIGNIN, {"email": email, "password": password}, REMOTE_ADDR=address)


def is_signed_in(client) -> bool:
    return get_user(client).is_authenticated


def test_five_failures_lock_the_account_whatever_the_address(db, client, traveller):
    contact = make_contact(make_org())
    for n in range(5):
        refused = sign_in(client, contact.email, "wrong-password", f"203.0.113.{n + 1}")
        assert refused.status_code == 200

    # The right password, from a new address, is refused while the lock lasts
    locked = sign_in(client, contact.email, PASSWORD, "192.0.2.50")
    page = locked.content.decode()
    assert LOCKED in page
    assert "try again in 15 minutes" in page
    assert not is_signed_in(client)

    traveller.shift(timedelta(minutes=14))
    assert "try again in 1 minute" in sign_in(client, contact.email, PASSWORD).content.decode()

    # After the lockout it works again
    traveller.shift(timedelta(minutes=1, seconds=1))
    assert sign_in(client, contact.email, PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_an_address_that_fails_twenty_times_is_locked_for_every_account(db, client, traveller):
    contact = make_contact(make_org())
    for n in range(20):
        sign_in(client, f"guess{n}@example.net", "wrong-password", "198.51.100.66")

    from_there = sign_in(client, contact.email, PASSWORD, "198.51.100.66")
    assert LOCKED in from_there.content.decode()
    assert not is_signed_in(client)

    from_elsewhere = sign_in(client, contact.email, PASSWORD, "198.51.100.67")
    assert from_elsewhere.status_code == 302


def test_a_lockout_says_the_same_for_an_address_without_an_account(db, client, traveller):
    for _ in range(5):
        sign_in(client, "nobody@example.net", "wrong-password")

    locked = sign_in(client, "nobody@example.net", "wrong-password", "192.0.2.9")

    assert LOCKED in locked.content.decode()


def test_a_successful_sign_in_forgets_the_accounts_failures(db, client, traveller):
    contact = make_contact(make_org())
    for _ in range(4):
        sign_in(client, contact.email, "wrong-password")
    sign_in(client, contact.email, PASSWORD)
    client.logout()

    for _ in range(4):
        sign_in(client, contact.email, "wrong-password")

    assert sign_in(client, contact.email, PASSWORD).status_code == 302


def test_wrong_codes_lock_the_account_and_then_the_right_code_fails(db, client, traveller):
    agent = make_agent()
    client.force_login(agent)
    page = client.get(reverse("accounts:two_factor")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(reverse("accounts:two_factor"), {"code": pyotp.TOTP(secret).now()})
    client.logout()
    traveller.shift(timedelta(seconds=30))

    sign_in(client, agent.email, PASSWORD)
    for n in range(5):
        client.post(CODE, {"code": f"00000{n}"}, REMOTE_ADDR=f"203.0.113.{n + 1}")
    locked = client.post(CODE, {"code": pyotp.TOTP(secret).now()})

    assert LOCKED in locked.content.decode()
    assert not is_signed_in(client)


def test_the_lockout_message_is_in_arabic_for_an_arabic_reader(db, client, traveller):
    contact = make_contact(make_org())
    for _ in range(5):
        sign_in(client, contact.email, "wrong-password")

    locked = client.post(SIGNIN, {"email": contact.email, "password": PASSWORD},
                         HTTP_ACCEPT_LANGUAGE="ar")

    page = locked.content.decode()
    assert LOCKED not in page
    assert "محاولات كثيرة" in page
    assert "15 دقيقة" in page


def reset(client, email: str, address: str = "198.51.100.7"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address)


def test_reset_requests_are_limited_per_email_without_telling_who_has_an_account(
    db, client, traveller
):
    contact = make_contact(make_org())
    for n in range(3):
        assert reset(client, contact.email, f"203.0.113.{n + 1}").status_code == 302
    assert OutboundMail.objects.filter(to=contact.email).count() == 3

    refused = reset(client, contact.email, "192.0.2.1")
    for n in range(3):
        reset(client, "nobody@example.net", f"203.0.113.{n + 1}")
    refused_stranger = reset(client, "nobody@example.net", "192.0.2.1")

    assert refused.status_code == 200
    assert "Too many reset requests" in refused.content.decode()
    assert "try again in 1 hour" in refused.content.decode()
    assert OutboundMail.objects.filter(to=contact.email).count() == 3
    # A stranger's address meets the same answer: nothing tells them apart
    assert refused_stranger.status_code == 200
    assert "Too many reset requests" in refused_stranger.content.decode()

    traveller.shift(timedelta(hours=1, seconds=1))
    assert reset(client, contact.email).status_code == 302
    assert OutboundMail.objects.filter(to=contact.email).count() == 4


def test_reset_requests_are_limited_per_address(db, client, traveller):
    contact = make_contact(make_org())
    for n in range(10):
        reset(client, f"someone{n}@example.net", "198.51.100.99")

    refused = reset(client, contact.email, "198.51.100.99")

    assert "Too many reset requests" in refused.content.decode()
    assert not OutboundMail.objects.filter(to=contact.email).exists()
    assert reset(client, contact.email, "198.51.100.98").status_code == 302


def test_limits_follow_the_settings(db, client, settings, traveller):
    settings.CASEDESK_SIGNIN_ACCOUNT_FAILURES = 2
    settings.CASEDESK_SIGNIN_LOCKOUT_MINUTES = 3
    contact = make_contact(make_org())
    for _ in range(2):
        sign_in(client, contact.email, "wrong-password")

    locked = sign_in(client, contact.email, PASSWORD)

    assert "try again in 3 minutes" in locked.content.decode()


def test_the_client_address_comes_from_a_trusted_proxy_only(settings):
    factory = RequestFactory()
    forwarded = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.5"}

    direct = factory.get("/", REMOTE_ADDR="198.51.100.1", **forwarded)
    assert client_address(direct) == "198.51.100.1"

    settings.CASEDESK_TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]
    proxied = factory.get("/", REMOTE_ADDR="10.0.0.2", **forwarded)
    untrusted = factory.get("/", REMOTE_ADDR="10.0.1.2", **forwarded)
    # The client's own claim (10.9.9.9) is left of what the proxy saw: it is ignored
    assert client_address(proxied) == "203.0.113.5"
    assert client_address(untrusted) == "10.0.1.2"


def test_a_forwarded_value_that_is_not_an_address_is_not_believed(settings):
    factory = RequestFactory()
    settings.CASEDESK_TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]

    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>, x")
    nothing = factory.get("/", REMOTE_ADDR="")

    # The proxy is the last hop anyone can vouch for; no address at all is "" (not a
    # string the audit history or an escalation record would refuse to store)
    assert client_address(garbage) == "10.0.0.2"
    assert client_address(nothing) == ""


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_through_redis_a_lockout_holds_and_a_redis_outage_does_not_stop_sign_in(
    db, client, settings, redis_url,  # noqa: F811 - the fixture imported above
):
    # Given the cache in Redis, as on several web nodes
    settings.CACHES = {"default": {
        "BACKEND": "casedesk.ops.cache.ResilientRedisCache", "LOCATION": redis_url,
        "KEY_PREFIX": "casedesk", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
    locked_out, other = make_contact(make_org()), make_contact(make_org())
    for _ in range(5):
        sign_in(client, locked_out.email, "wrong-password")

    # Then the lock is in Redis, where every node sees it
    assert redis.Redis.from_url(redis_url).keys("casedesk:*throttle:signin:account:lock:*")
    assert LOCKED in sign_in(client, locked_out.email, PASSWORD).content.decode()

    # And when Redis is down, signing in still works (without limits until it is back)
    redis.Redis.from_url(redis_url).shutdown(nosave=True)
    assert sign_in(client, other.email, "wrong-password").status_code == 200
    assert sign_in(client, other.email, PASSWORD).status_code == 302
