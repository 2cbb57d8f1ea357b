"""`casedesk worker`: the background worker (mail delivery and every other job).

It is django_tasks_db's `db_worker` with casedesk's defaults: every queue casedesk uses
(settings.TASKS), and no autoreload. Any number of workers may run at once against one
database: each claims a job inside a locked transaction (SKIP LOCKED on PostgreSQL, the
write lock on SQLite), so no job runs twice.

Each worker also runs the periodic schedule (casedesk.core.schedule) in a small thread that
enqueues due periodic tasks; the ticks are claimed through the database, so running many
workers never enqueues one tick twice. `--no-scheduler` leaves that to the other workers.

A worker killed mid-job does not leave its job RUNNING for ever: a heartbeat thread keeps
this worker's lease on its job fresh and puts back the jobs of workers whose lease ran out
(casedesk.core.lease), so another worker runs them again.
"""

from __future__ import annotations

import logging
import signal
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from psycopg.pq import TransactionStatus

from casedesk.core.lease import Heartbeat
from casedesk.core.schedule import Scheduler


def casedesk_queues() -> str:
    return ",".join(settings.TASKS["default"].get("QUEUES", ["default"]))


def process_worker_id(given: str) -> str:
    """The id this process runs jobs and holds leases under: the given id (a name an
    operator chose, e.g. host-1) plus a random part. A worker restarted with the same
    --worker-id after dying mid-job must not look like the dead one still alive, or the dead
    one's job would never be handed on."""
    return f"{given[:55]}-{get_random_string(8)}"


class Worker(db_worker.Worker):
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        """db_worker's, except while a statement is on its way between here and
        PostgreSQL: db_worker exits at once when no job is running (it is usually asleep
        between polls), and the SystemExit then raised inside psycopg's wait left the
        connection mid-command (a COMMIT half sent), so the exit itself failed and the
        worker ended with status 1 instead of 0. Then the worker stops after that poll,
        as it stops after a job."""
        if self.running and not self.running_task and _mid_statement():
            logging.getLogger(__name__).warning(
                "Received %s - stopping after this poll", signal.strsignal(signum),
            )
            self.running = False
            return
        super().shutdown(signum, frame)


class Command(DbWorkerCommand):
    help = "Run casedesk's background worker (all of casedesk's job queues)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name=casedesk_queues(), reload=False)
        parser.add_argument(
            "--no-scheduler", action="store_false", dest="scheduler",
            help="Do not enqueue periodic tasks (SLA sweeps) from this worker.",
        )

    def handle(self, *args: Any, scheduler: bool = True,  # type: ignore[override]
               **options: Any) -> None:
        batch = bool(options.get("batch"))
        options["worker_id"] = process_worker_id(options["worker_id"])
        loop = Scheduler() if scheduler and not batch else None
        # A --batch run (tests, one-off drains) finishes what is ready and exits; it holds
        # no lease, and its jobs are never older than a lease while it is alive.
        heartbeat = None if batch else Heartbeat(options["worker_id"])
        if heartbeat is not None:
            heartbeat.start()
        if loop is not None:
            loop.start()
        # db_worker's handle makes its Worker by the module's name for it: ours instead.
        original, db_worker.Worker = db_worker.Worker, Worker  # type: ignore[misc]
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original  # type: ignore[misc]
            if loop is not None:
                loop.stop()
                loop.thread.join(timeout=5)
            if heartbeat is not None:
                heartbeat.stop()

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        if verbosity <= 1:
            # db_worker logs two lines for every job at the default verbosity, which buries
            # `casedesk serve`'s own messages; failed jobs are still logged (as errors).
            logging.getLogger(TASKS_LOGGER).setLevel(logging.WARNING)


def _mid_statement() -> bool:
    """The main thread's PostgreSQL connection has a statement under way (SQLite's calls
    are never interrupted: Python runs a signal handler between two of them)."""
    raw = connection.connection if connection.vendor == "postgresql" else None
    return raw is not None and raw.info.transaction_status == TransactionStatus.ACTIVE
