"""`casedesk worker` stops cleanly on SIGTERM (a deploy, systemd's stop) whatever it is
doing between jobs: exit status 0, and no statement cut in half."""

from __future__ import annotations

import signal

import pytest
from django.db import connection

from casedesk.core.management.commands.worker import Worker

pytestmark = pytest.mark.django_db


def idle_worker() -> Worker:
    return Worker(queue_names=["default"], interval=0.1, batch=False, backend_name="default",
                  startup_delay=False, max_tasks=None, worker_id="w-test",
                  excluded_queue_names=[])


def test_between_polls_the_worker_exits_at_once_with_status_0() -> None:
    # Given a worker asleep between two polls
    worker = idle_worker()

    # When SIGTERM arrives, then it exits at once, successfully
    with pytest.raises(SystemExit) as exited:
        worker.shutdown(signal.SIGTERM, None)
    assert exited.value.code == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's wait is interruptible")
def test_mid_statement_the_worker_finishes_the_poll_then_stops() -> None:
    # Given a worker whose poll has a statement on its way to PostgreSQL
    worker = idle_worker()
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    pgconn.send_query(b"SELECT pg_sleep(0.05)")
    try:
        # When SIGTERM arrives, it does not exit inside the statement: it stops after
        # the poll (the run loop checks `running`)
        worker.shutdown(signal.SIGTERM, None)
        assert worker.running is False
    finally:
        while pgconn.get_result() is not None:
            pass

    # And the connection is whole: the next statement runs
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
