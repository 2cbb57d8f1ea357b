"""CASEDESK_REDIS_URL: one cache shared by every web node, sessions kept in Redis with the
database behind them, and a Redis outage that slows nothing down to an error.

Runs its own redis-server (Debian's package) on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.contrib.sessions.models import Session
from django.test import Client

from casedesk.conftest import PASSWORD, make_contact, make_org
from casedesk.core.tests.test_serve import CASEDESK

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs redis-server (apt-get install redis-server)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 30
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait()


def casedesk_shell(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CASEDESK, "shell", "-v", "0", "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)


def test_two_processes_share_one_cache_through_redis(redis_url: str, tmp_path: Path) -> None:
    # Given two processes (two web nodes) configured with the same Redis
    env = {**os.environ, "CASEDESK_REDIS_URL": redis_url, "CASEDESK_DATA_DIR": str(tmp_path)}

    # When one stores a value in the cache
    first = casedesk_shell(env, "from django.core.cache import cache; "
                                "cache.set('shared', 'from node A', 60)")
    assert first.returncode == 0, first.stderr

    # Then the other reads it, and keeps sessions in Redis with the database behind
    second = casedesk_shell(env, "from django.core.cache import cache; "
                                 "from django.conf import settings; "
                                 "print(cache.get('shared'), settings.SESSION_ENGINE)")
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["from", "node", "A",
                                     "django.contrib.sessions.backends.cached_db"]


def test_without_redis_each_process_caches_for_itself(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CASEDESK_REDIS_URL"}
    env["CASEDESK_DATA_DIR"] = str(tmp_path)
    result = casedesk_shell(env, "from django.conf import settings; "
                                 "print(settings.CACHES['default']['BACKEND'], "
                                 "settings.SESSION_ENGINE)")
    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache",
                                     "django.contrib.sessions.backends.db"]


def test_a_redis_url_that_is_not_one_is_refused_clearly(tmp_path: Path) -> None:
    env = {**os.environ, "CASEDESK_REDIS_URL": "localhost:6379",
           "CASEDESK_DATA_DIR": str(tmp_path)}
    result = subprocess.run([CASEDESK, "check"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "CASEDESK_REDIS_URL must be a redis://, rediss:// or unix:// URL" in result.stderr


@pytest.fixture
def redis_sessions(settings: Any, redis_url: str) -> str:
    settings.CACHES = {"default": {
        "BACKEND": "casedesk.ops.cache.ResilientRedisCache", "LOCATION": redis_url,
        "KEY_PREFIX": "casedesk", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return redis_url


def test_a_session_survives_a_redis_flush_and_a_redis_outage(
    db: Any, redis_sessions: str, settings: Any
) -> None:
    from django.core.cache import caches

    caches["default"].clear()
    # Given a contact signed in, the session in Redis and in the database
    contact = make_contact(make_org())
    client = Client()
    assert client.login(email=contact.email, password=PASSWORD)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    server = redis.Redis.from_url(redis_sessions)
    assert any(key.encode() in k for k in server.keys("*"))
    assert Session.objects.filter(session_key=key).exists()
    assert client.get("/cases/").status_code == 200

    # When Redis loses everything (a restart without persistence)
    server.flushall()
    # Then the contact is still signed in (read back from the database)
    assert client.get("/cases/").status_code == 200

    # And when Redis is down altogether, pages still answer and the contact stays in
    server.shutdown(nosave=True)
    # (an anonymous visitor is sent to the sign-in page instead)
    assert client.get("/cases/").status_code == 200
    assert Client().get("/cases/").status_code == 302
