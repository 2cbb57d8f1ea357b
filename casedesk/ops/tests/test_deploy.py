"""Production settings, as an operator sets them in the environment: `casedesk check
--deploy` finds nothing to warn about, a missing or weak secret key stops casedesk at start
with a message saying what to do, and pages carry the security headers (HSTS only over
TLS). Each case runs casedesk in a process of its own, since settings are read once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

KEY = "k3y-for-the-deploy-tests-only-0123456789abcdefghijklmnopqrstuvwxyz"
HEADERS_SCRIPT = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="support.example.com")
headers = {}
for name, secure in (("https", True), ("http", False)):
    response = client.get("/accounts/signin/", secure=secure)
    headers[name] = {"status": response.status_code, **dict(response.headers),
                     "secure_cookies": {k: bool(v["secure"]) for k, v in response.cookies.items()}}
print(json.dumps(headers))
"""


def production_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEDESK_")}
    env.update(
        DJANGO_SETTINGS_MODULE="casedesk.settings",
        CASEDESK_DATA_DIR=str(tmp_path),
        CASEDESK_DEBUG="false",
        CASEDESK_SECRET_KEY=KEY,
        CASEDESK_BASE_URL="https://support.example.com",
        CASEDESK_ALLOWED_HOSTS="support.example.com",
        CASEDESK_TRUST_X_FORWARDED_PROTO="true",
    )
    env.update(changes)
    return {k: v for k, v in env.items() if v != ""}


def casedesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casedesk", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = casedesk(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize(("key", "message"), [
    ("", "CASEDESK_SECRET_KEY is not set"),
    ("short-key", "CASEDESK_SECRET_KEY is too weak"),
    ("a" * 60, "CASEDESK_SECRET_KEY is too weak"),
])
def test_a_missing_or_weak_secret_key_stops_casedesk_with_a_clear_message(tmp_path, key,
                                                                           message):
    result = casedesk(production_env(tmp_path, CASEDESK_SECRET_KEY=key), "check")

    assert result.returncode != 0
    assert message in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_the_development_key_is_used_only_in_debug_mode(tmp_path):
    env = production_env(tmp_path, CASEDESK_SECRET_KEY="", CASEDESK_DEBUG="true",
                         CASEDESK_BASE_URL="http://127.0.0.1:8000")
    script = "import django; django.setup(); from django.conf import settings; " \
             "print(settings.SECRET_KEY == settings.DEV_ONLY_SECRET_KEY)"

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300, check=False)

    assert result.stdout.strip() == "True", result.stderr


def migrated_database_url() -> str:
    """The test run's own database (migrated already), for a process of casedesk to read."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db
def test_pages_carry_the_security_headers_and_hsts_only_over_tls(tmp_path):
    env = production_env(tmp_path, CASEDESK_DATABASE_URL=migrated_database_url())

    result = subprocess.run([sys.executable, "-c", HEADERS_SCRIPT], env=env,
                            capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])
    https, http = headers["https"], headers["http"]
    assert https["status"] == 200
    assert https["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert https["X-Content-Type-Options"] == "nosniff"
    assert https["X-Frame-Options"] == "DENY"
    assert https["Referrer-Policy"] == "same-origin"
    policy = https["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "base-uri 'self'", "form-action 'self'",
                      "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert https["secure_cookies"] == {"csrftoken": True}
    # Plain http is sent to https (the proxy said so), with no HSTS on the way.
    assert http["status"] == 301 and http["Location"].startswith("https://support.example.com/")
    assert "Strict-Transport-Security" not in http
