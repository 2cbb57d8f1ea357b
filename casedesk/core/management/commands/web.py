"""`casedesk web`: the web role alone, under gunicorn with N worker processes.

For installations that run the roles apart (`casedesk worker` and `casedesk mail-in`
elsewhere, on PostgreSQL). It checks what `casedesk serve` checks (the database is
migrated, the outgoing mail URL is valid), then becomes gunicorn (exec, same process id),
so a service manager's SIGTERM reaches gunicorn directly: it finishes the requests in
flight and exits. The gunicorn command line is the one `casedesk serve` uses.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from casedesk.core.management.commands.serve import (
    DEFAULT_WORKERS,
    check_email_url,
    check_migrated,
    gunicorn_command,
    metrics_environment,
    positive_int,
)


class Command(BaseCommand):
    help = "Run the web app (portal, desk, admin, API) under gunicorn with N processes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--bind", action="append", metavar="ADDRESS",
            help="host:port, [v6]:port or unix:PATH to listen on; repeat for several "
                 "(default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--workers", type=positive_int, default=DEFAULT_WORKERS,
            help=f"Web server processes (default {DEFAULT_WORKERS}: two per core plus one).",
        )
        parser.add_argument(
            "--threads", type=positive_int, default=1,
            help="Threads per web process (more than 1 switches gunicorn to gthread workers).",
        )
        parser.add_argument(
            "--access-log", action="store_true",
            help="gunicorn's access log on standard output (CASEDESK_ACCESS_LOG=1 logs each "
                 "request through casedesk's own logs instead, with its request id).",
        )
        parser.add_argument(
            "--check", action="store_true",
            help="Run the start-up checks and print the gunicorn command, without starting.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check_migrated()
        check_email_url()
        command = gunicorn_command(
            options["bind"] or ["127.0.0.1:8000"], workers=options["workers"],
            threads=options["threads"], access_log=options["access_log"],
        )
        if options["check"]:
            self.stdout.write(" ".join(command))
            return
        env = metrics_environment(dict(os.environ))
        env["PYTHONUNBUFFERED"] = "1"
        self.stdout.flush()
        os.execve(command[0], command, env)  # noqa: S606 - our own argv, no shell
