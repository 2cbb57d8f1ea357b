"""`casedesk createadmin`: an admin agent for scripted installs, without prompts."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from casedesk.accounts.models import User
from casedesk.conftest import PASSWORD, make_contact, make_org

ADMIN_PASSWORD = "granite-compass-north-9"


def run(*args: str) -> str:
    out = StringIO()
    call_command("createadmin", *args, stdout=out)
    return out.getvalue()


def test_it_creates_an_admin_agent_who_can_sign_in_to_the_desk(db, client):
    output = run("--email", "Root@Support.example", "--password", ADMIN_PASSWORD,
                 "--name", "Rana Admin")

    admin = User.objects.get()
    assert "Created admin agent root@support.example" in output
    assert (admin.email, admin.full_name, admin.role) == (
        "root@support.example", "Rana Admin", User.Role.AGENT
    )
    assert admin.is_active and admin.is_staff and admin.is_superuser
    signed_in = client.post(
        reverse("accounts:signin"), {"email": "root@support.example", "password": ADMIN_PASSWORD}
    )
    assert signed_in["Location"] == reverse("desk:queue")


def test_running_it_again_updates_the_same_account(db, monkeypatch):
    run("--email", "root@support.example", "--password", ADMIN_PASSWORD)
    monkeypatch.setenv("CASEDESK_ADMIN_PASSWORD", "second-granite-compass-8")

    output = run("--email", "ROOT@support.example")

    admin = User.objects.get()
    assert "Updated admin agent root@support.example" in output
    assert admin.full_name == "Administrator"
    assert admin.check_password("second-granite-compass-8")


def test_it_promotes_and_reactivates_an_existing_account(db):
    contact = make_contact(make_org(), is_active=False)

    run("--email", contact.email, "--password", ADMIN_PASSWORD)

    contact.refresh_from_db()
    assert contact.is_agent and contact.is_staff and contact.is_superuser
    assert contact.full_name.startswith("Contact")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "root@support.example"], "Give the password with --password"),
        (["--email", "not-an-address", "--password", ADMIN_PASSWORD], "is not an email address"),
        (["--email", "root@support.example", "--password", "short"], "too short"),
        (["--email", "root@support.example", "--password", "password1234"], "too common"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_creates_nothing(
    db, monkeypatch, args, message
):
    monkeypatch.delenv("CASEDESK_ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError, match=message):
        run(*args)

    assert not User.objects.exists()


def test_a_refused_password_leaves_an_existing_admin_unchanged(db):
    run("--email", "root@support.example", "--password", ADMIN_PASSWORD)

    with pytest.raises(CommandError):
        run("--email", "root@support.example", "--password", "1234567890")

    assert User.objects.get().check_password(ADMIN_PASSWORD)


def test_the_console_script_works_on_a_fresh_install(tmp_path: Path):
    """The real `casedesk` command, as an install script runs it: migrate, then createadmin."""
    casedesk = Path(sys.executable).parent / "casedesk"
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith("CASEDESK_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["CASEDESK_DATA_DIR"] = str(tmp_path / "data")

    def casedesk_run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(casedesk), *args], env={**env, **extra_env}, capture_output=True, text=True,
            timeout=120, check=False, stdin=subprocess.DEVNULL,
        )

    migrated = casedesk_run("migrate", "--noinput")
    created = casedesk_run("createadmin", "--email", "ops@support.example",
                           CASEDESK_ADMIN_PASSWORD=ADMIN_PASSWORD)
    updated = casedesk_run("createadmin", "--email", "ops@support.example",
                           "--password", PASSWORD)
    refused = casedesk_run("createadmin", "--email", "ops@support.example")

    assert migrated.returncode == 0, migrated.stderr
    assert (created.returncode, created.stdout.strip()) == (
        0, "Created admin agent ops@support.example."
    ), created.stderr
    assert (updated.returncode, updated.stdout.strip()) == (
        0, "Updated admin agent ops@support.example."
    ), updated.stderr
    assert refused.returncode != 0
    assert "Give the password with --password or $CASEDESK_ADMIN_PASSWORD" in refused.stderr
