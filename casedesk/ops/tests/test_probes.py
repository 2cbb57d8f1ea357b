"""GET /healthz and /readyz, as a load balancer or an orchestrator calls them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.core.tests.holding_jobs import hold


def test_healthz_answers_without_the_database(client: Client) -> None:
    # Given a probe by IP address (not in ALLOWED_HOSTS) and no database access allowed
    # (pytest-django refuses any query in a test without the db fixture)
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_with_the_database_and_an_empty_queue(db: Any, client: Client) -> None:
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["job_queue"]["lag_seconds"] == 0
    assert "mail_listener" not in body["checks"]


def test_readyz_fails_when_a_job_has_waited_too_long(db: Any, client: Client,
                                                      settings: Any, tmp_path: Any) -> None:
    # Given a job nobody picked up for ten minutes, with a five-minute limit
    settings.CASEDESK_READY_MAX_JOB_LAG_SECONDS = 300
    job = hold.enqueue(str(tmp_path))
    DBTaskResult.objects.filter(pk=job.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=10)
    )

    response = client.get("/readyz")

    # Then the probe says so, and which check failed
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["job_queue"]
    assert body["checks"]["job_queue"]["lag_seconds"] >= 600
    assert "are the workers running?" in body["checks"]["job_queue"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_a_job_scheduled_for_later_is_not_lag(db: Any, client: Client, tmp_path: Any) -> None:
    hold.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(str(tmp_path))
    assert client.get("/readyz").json()["checks"]["job_queue"]["lag_seconds"] == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_fails_when_the_database_is_unreachable(client: Client, settings: Any) -> None:
    # Given a database that refuses connections
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/dir/casedesk.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert "database unreachable" in body["checks"]["database"]["detail"]


@pytest.fixture
def smtp_banner() -> Iterator[str]:
    """A listener that greets like an SMTP server, on a free port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"220 casedesk ESMTP\r\n")
                conn.recv(64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{port}"
    stop.set()
    thread.join()
    server.close()


def test_readyz_checks_the_mail_listener_when_configured(
    db: Any, client: Client, settings: Any, smtp_banner: str
) -> None:
    settings.CASEDESK_READY_MAIL_LISTENER = smtp_banner
    body = client.get("/readyz").json()
    assert body["checks"]["mail_listener"] == {"ok": True, "detail": "", "address": smtp_banner}


def test_readyz_fails_when_the_mail_listener_is_down(db: Any, client: Client,
                                                      settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CASEDESK_READY_MAIL_LISTENER = f"127.0.0.1:{port}"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["mail_listener"]
    assert "mail listener unreachable" in response.json()["checks"]["mail_listener"]["detail"]
