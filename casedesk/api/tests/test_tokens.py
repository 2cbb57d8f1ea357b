"""API tokens: `casedesk token`, the desk's and the portal's token pages, and bearer
authentication (unknown, revoked and expired tokens are 401 problems)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from casedesk.accounts.models import ApiToken, User, hash_token
from casedesk.api.tests.conftest import Api, api_for, problem
from casedesk.conftest import make_agent


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_command_creates_a_token_shown_once_and_stored_hashed(agent: User) -> None:
    secret, note = run("create", "--email", "SAM@casedesk.example", "--name", "NOC",
                       "--expires-days", "30")
    token = ApiToken.objects.get()
    assert "shown once" in note and str(token.pk) in note
    assert secret.startswith(f"cd_{token.prefix}_") and len(secret) > 40
    assert token.token_hash == hash_token(secret) and secret not in token.token_hash
    assert token.user == agent and token.name == "NOC"
    assert token.expires_at is not None
    assert Api(secret).get("/api/v1/cases").status_code == 200
    listed, _ = run("list")
    assert "NOC" in listed and "active" in listed and secret not in listed


def test_command_refuses_clearly(agent: User) -> None:
    with pytest.raises(CommandError, match="Nobody has the address"):
        run("create", "--email", "nobody@example.com")
    with pytest.raises(CommandError, match="1 to 3650 days"):
        run("create", "--email", agent.email, "--expires-days", "0")
    with pytest.raises(CommandError, match="no API token 42"):
        run("revoke", "42")
    assert not ApiToken.objects.exists()


def test_revoked_token_stops_working(agent: User) -> None:
    secret, _ = run("create", "--email", agent.email)
    token = ApiToken.objects.get()
    run("revoke", str(token.pk))
    body = problem(Api(secret).get("/api/v1/cases"), 401)
    assert "revoked" in body["detail"]


def test_expired_token_stops_working(agent: User) -> None:
    secret, _ = run("create", "--email", agent.email, "--expires-days", "1")
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        problem(Api(secret).get("/api/v1/cases"), 401)


def test_deactivated_user_token_stops_working(agent: User) -> None:
    api = api_for(agent)
    agent.is_active = False
    agent.save()
    problem(api.get("/api/v1/cases"), 401)


@pytest.mark.parametrize("header", ["", "Bearer", "Basic abc", "Bearer cd_nope_nope", "Token x"])
def test_bad_credentials_are_401(db: object, header: str) -> None:
    response = Client().get("/api/v1/cases", headers={"Authorization": header} if header else {})
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_session_is_not_a_token(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    problem(client.get("/api/v1/cases"), 401)


# ---------------------------------------------------------------- the pages


def test_agent_makes_and_revokes_a_token_on_the_desk(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post("/desk/tokens/", {"name": "Grafana", "expires_days": ""})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert secret in response.content.decode() and token.user == agent
    assert Api(secret).get("/api/v1/cases").status_code == 200
    # Shown once: the list shows the prefix only.
    assert secret not in client.get("/desk/tokens/").content.decode()
    response = client.post(f"/desk/tokens/{token.pk}/revoke/")
    assert response.status_code == 303
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_bad_input_on_the_page_makes_nothing(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post("/desk/tokens/", {"name": "x" * 101, "expires_days": "-3"})
    assert response.status_code == 200 and response.context["form"].errors.keys() == {
        "name", "expires_days"}
    assert not ApiToken.objects.exists()


def test_admin_makes_a_token_for_someone_and_sees_everyones(admin: User, contact: User) -> None:
    client = Client()
    client.force_login(admin)
    client.post("/desk/tokens/", {"name": "for Noor", "email": contact.email})
    assert ApiToken.objects.get().user == contact
    api_for(make_agent())
    assert len(client.get("/desk/tokens/").context["tokens"]) == 2


def test_agents_cannot_revoke_others_tokens(agent: User, contact: User) -> None:
    api_for(contact)
    theirs = ApiToken.objects.get(user=contact)
    client = Client()
    client.force_login(agent)
    assert client.post(f"/desk/tokens/{theirs.pk}/revoke/").status_code == 404
    assert "for (email)" not in client.get("/desk/tokens/").content.decode().lower()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_contact_makes_and_revokes_in_the_portal(contact: User, atlas_contact: User) -> None:
    api_for(atlas_contact)
    other = ApiToken.objects.get(user=atlas_contact)
    client = Client()
    client.force_login(contact)
    response = client.post("/account/tokens/", {"name": "CRM"})
    secret = response.context["secret"]
    mine = ApiToken.objects.get(user=contact)
    assert Api(secret).get("/api/v1/cases").status_code == 200
    assert [t.pk for t in client.get("/account/tokens/").context["tokens"]] == [mine.pk]
    assert client.post(f"/account/tokens/{other.pk}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{mine.pk}/revoke/").status_code == 303
    assert client.get("/desk/tokens/").status_code == 404  # the desk page is for agents
    other.refresh_from_db()
    assert other.revoked_at is None
