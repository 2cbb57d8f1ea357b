"""`casedesk search-rebuild`: index every case again, in batches, from the cases
themselves. Run it after loading cases without the actions (a restore, a bulk import);
the index is otherwise kept current as cases and messages arrive."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casedesk.search import index


class Command(BaseCommand):
    help = "Rebuild the search index of every case (search keeps working meanwhile)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=2000,
            help="Cases per transaction (default 2000).",
        )

    def handle(self, *args: Any, batch: int, verbosity: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be a positive number of cases.")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1:
                rate = done / max(time.monotonic() - started, 1e-9)
                self.stdout.write(f"\r{done:,} of {total:,} cases ({rate:,.0f}/s)", ending="")
                self.stdout.flush()

        done = index.rebuild(progress=progress, batch=batch)
        if verbosity >= 1:
            self.stdout.write(
                f"\nIndexed {done:,} cases in {time.monotonic() - started:.1f} s."
            )
