"""The admin lists invitations but cannot make one: its add form (all fields read-only)
saved an empty row and crashed with a server error (found by the permission matrix)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casedesk.accounts.models import Invitation
from casedesk.conftest import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(make_agent(is_staff=True, is_superuser=True))
    return client


def test_the_admin_cannot_add_an_invitation_and_nothing_is_stored(admin_client: Client) -> None:
    url = reverse("admin:accounts_invitation_add")
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {}).status_code == 403
    assert not Invitation.objects.exists()
    listing = admin_client.get(reverse("admin:accounts_invitation_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:accounts_invitation_add") not in listing.content.decode()
