"""The desk's test people: two agents (one of them staff), a customer contact of a partner
organization, and a client signed in as each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casedesk.accounts.models import User
from casedesk.conftest import make_agent


@pytest.fixture
def other_agent(db: Any) -> User:
    return make_agent(email="lee@casedesk.example", full_name="Lee Other")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent: User) -> Client:
    return signed_in(agent)


@pytest.fixture
def contact_client(contact: User) -> Client:
    return signed_in(contact)
