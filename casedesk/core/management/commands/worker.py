"""`casedesk worker`: the background worker (mail delivery and every other job).

It is django_tasks_db's `db_worker` with casedesk's defaults: every queue casedesk uses
(settings.TASKS), and no autoreload. Any number of workers may run at once against one
database: each claims a job inside a locked transaction (SKIP LOCKED on PostgreSQL, the
write lock on SQLite), so no job runs twice.
"""

from __future__ import annotations

import logging
from argparse import ArgumentParser

from django.conf import settings
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


def casedesk_queues() -> str:
    return ",".join(settings.TASKS["default"].get("QUEUES", ["default"]))


class Command(DbWorkerCommand):
    help = "Run casedesk's background worker (all of casedesk's job queues)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name=casedesk_queues(), reload=False)

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        if verbosity <= 1:
            # db_worker logs two lines for every job at the default verbosity, which buries
            # `casedesk serve`'s own messages; failed jobs are still logged (as errors).
            logging.getLogger(TASKS_LOGGER).setLevel(logging.WARNING)
