"""The API tests' cast: two partner organizations (Gulf Net, Atlas) with a contact each, an
agent and an admin agent, each with a token, and a client that sends the token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from casedesk.accounts.models import Organization, User
from casedesk.accounts.tokens import create_token
from casedesk.conftest import make_agent, make_contact, make_org


class Api:
    """Django's test client with a bearer token: requests go through the whole stack."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None, *, key: str | None = None,
             multipart: bool = False, headers: dict[str, str] | None = None) -> Any:
        extra = {**self.headers, **(headers or {})}
        if key is not None:
            extra["Idempotency-Key"] = key
        if multipart:
            return self.client.post(path, data or {}, headers=extra)
        return self.client.post(path, json.dumps(data if data is not None else {}),
                                content_type="application/json", headers=extra)

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(path, json.dumps(data), content_type="application/json",
                                 headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.headers)


def api_for(user: User) -> Api:
    return Api(create_token(user, name="tests").secret)


@pytest.fixture
def atlas(db: Any) -> Organization:
    return make_org("Atlas Broadband", plan="Standard", domains="atlasbb.example")


@pytest.fixture
def atlas_contact(atlas: Organization) -> User:
    return make_contact(atlas, email="lina@atlasbb.example", full_name="Lina Atlas")


@pytest.fixture
def admin(db: Any) -> User:
    return make_agent(email="root@casedesk.example", full_name="Ada Admin", is_staff=True)


@pytest.fixture
def agent_api(agent: User) -> Api:
    return api_for(agent)


@pytest.fixture
def admin_api(admin: User) -> Api:
    return api_for(admin)


@pytest.fixture
def contact_api(contact: User) -> Api:
    return api_for(contact)


@pytest.fixture
def atlas_api(atlas_contact: User) -> Api:
    return api_for(atlas_contact)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response's problem details, after checking it is one with this status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return dict(body)


def fields_of(body: dict[str, Any]) -> set[str | None]:
    return {error["field"] for error in body.get("errors", [])}
